// What a service's error body adds to a message: its own explanation, on one line.
import { describe, expect, it } from "vitest";
import { errorDetail } from "../../src/register/http.js";

describe("errorDetail", () => {
  it("takes problem+json's detail, or boot-service's error", () => {
    expect(errorDetail(JSON.stringify({ type: "about:blank", title: "Bad Request", detail: "Already exists", status: 400 }))).toBe("Already exists");
    expect(errorDetail(JSON.stringify({ error: "unauthorized", code: 401 }))).toBe("unauthorized");
    expect(errorDetail("")).toBeUndefined();
  });

  it("reads an HTML error page (a proxy's 502) as its title, not as lines of markup", () => {
    const nginx =
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    expect(errorDetail(nginx)).toBe("502 Bad Gateway");
    expect(errorDetail("<!DOCTYPE html><html><body><p>Service\n  unavailable</p></body></html>")).toBe("Service unavailable");
  });

  it("puts a plain-text body on one line", () => {
    expect(errorDetail("upstream connect error\n  reset reason: overflow\n")).toBe("upstream connect error reset reason: overflow");
  });
});
