import { describe, expect, it } from "vitest";
import { makeRedactor, MIN_SECRET_LENGTH } from "../../src/core/redact.js";

describe("makeRedactor", () => {
  it("replaces a long secret wherever it occurs, as written and URL-encoded, longest first", () => {
    const scrub = makeRedactor(["", "s3cr3t/p@ss", "s3cr3t/p@ss-and-more"]);
    expect(scrub("echo s3cr3t/p@ss-and-more; https://u:s3cr3t%2Fp%40ss@h/ body s3cr3t/p@ss")).toBe("echo ***; https://u:***@h/ body ***");
  });

  it("leaves text alone that merely contains a short secret's letters", () => {
    const message =
      "publish debian-12-live to s3://data/: cannot reach http://127.0.0.1:9 (Error: connect ECONNREFUSED 127.0.0.1:9). Check the endpoint, given by --endpoint, and that the server is running.";
    for (const secret of ["a", "da", "ta9"]) expect(makeRedactor([secret])(message)).toBe(message);
  });

  it("replaces a short secret where a credential sits", () => {
    const scrub = makeRedactor(["a", "x%"]);
    expect(scrub("GET https://admin:a@bss.local/boot/v1 as admin")).toBe("GET https://admin:***@bss.local/boot/v1 as admin");
    expect(scrub("https://admin:x%25@h/")).toBe("https://admin:***@h/");
    expect(scrub("Authorization: Bearer a")).toBe("Authorization: Bearer ***");
    expect(scrub('{"authorization":"a"}')).toBe('{"authorization":"***"}');
    expect(scrub("skopeo copy --dest-creds admin:a a b")).toBe("skopeo copy --dest-creds admin:*** a b");
    expect(scrub("tool --password a --token=a")).toBe("tool --password *** --token=***");
    expect(scrub("S3_SECRET=a password = a")).toBe("S3_SECRET=*** password = ***");
    // A credential slot holding another value is not touched: it is not this secret.
    expect(scrub("https://admin:other@h/ --password other")).toBe("https://admin:other@h/ --password other");
  });

  it("draws the line at MIN_SECRET_LENGTH", () => {
    const long = "b".repeat(MIN_SECRET_LENGTH);
    expect(makeRedactor([long])(`x${long}x`)).toBe("x***x");
    expect(makeRedactor([long.slice(1)])(`x${long}x`)).toBe(`x${long}x`);
  });
});
