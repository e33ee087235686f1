// Registration against the contract BSS / boot-service: create, replace, patch, dry-run diff,
// rollback, auth, error answers, retries, and the refusal to point nodes at missing artifacts.
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { register, registerPublished, rollback, type RegisterOptions } from "../../src/register/register.js";
import { RegistrationError } from "../../src/register/errors.js";
import { BssClient } from "../../src/register/bss.js";
import { exportPayload } from "../../src/register/export.js";
import type { BootTarget, RegistrationInput } from "../../src/register/targets.js";
import type { PublishedImage } from "../../src/core/published-image.js";
import { parse as parseYaml } from "yaml";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { startArtifactServer, type ArtifactServer } from "./artifact-server.js";
import { makeTestPki } from "./tls.js";

const MAC1 = "52:54:00:12:34:56";
const MAC2 = "52:54:00:12:34:57";

let bss: BssServer;
let artifacts: ArtifactServer;
let stateDir: string;
let tmp: string;

function image(tag: string): PublishedImage {
  return {
    name: "compute",
    tag,
    target: "local",
    urls: { kernel: `${artifacts.url}/${tag}/vmlinuz`, initrd: `${artifacts.url}/${tag}/initramfs.img`, rootfs: `${artifacts.url}/${tag}/rootfs.squashfs` },
  };
}

function input(tag: string, selectors: RegistrationInput["selectors"] = { macs: [MAC1] }): RegistrationInput {
  const img = image(tag);
  return { image: img, params: `ro ip=dhcp console=ttyS0,115200 root=live:${img.urls.rootfs ?? ""}`, selectors };
}

/** Short timeouts and backoff so retry tests take milliseconds; empty env so host tokens never leak in. */
function opts(extra: RegisterOptions = {}): RegisterOptions {
  return { stateDir, env: {}, ochamiConfigPaths: [], http: { retries: 3, backoffMs: 5, timeoutMs: 2_000 }, ...extra };
}

function bssTarget(): BootTarget {
  return { type: "bss", url: bss.url };
}

async function caught(p: Promise<unknown>): Promise<RegistrationError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof RegistrationError) return error;
    throw error;
  }
  throw new Error("expected a RegistrationError");
}

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bootsmith-register-"));
  stateDir = join(tmp, "state");
  artifacts = await startArtifactServer(
    Object.fromEntries(["v1", "v2"].flatMap((t) => ["vmlinuz", "initramfs.img", "rootfs.squashfs"].map((f) => [`/${t}/${f}`, `${t} ${f}`]))),
  );
});

afterEach(async () => {
  await bss?.stop();
  await artifacts.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe("register with BSS", () => {
  it("creates, is idempotent, replaces, and every exchange matches the spec", async () => {
    bss = await startBssServer();
    const first = await register(input("v1", { macs: [MAC1, MAC2.toUpperCase()], hosts: ["x1000c0s0b0n0"], nids: [7] }), bssTarget(), opts());
    expect(first.written).toBe(true);
    expect(first.diff).toContain(`+ mac ${MAC1}: new entry`);
    for (const key of [`mac:${MAC1}`, `mac:${MAC2}`, "host:x1000c0s0b0n0", "nid:7"] as const) {
      expect(bss.entry(key)).toEqual({ kernel: image("v1").urls.kernel, initrd: image("v1").urls.initrd, params: input("v1").params });
    }
    // One PUT per selector kind, as the spec asks for one of hosts/MACs/NIDs per body.
    expect(
      bss.requests.filter((r) => r.method === "PUT").map((r) => Object.keys(r.body as object).filter((k) => ["macs", "hosts", "nids"].includes(k))),
    ).toEqual([["macs"], ["hosts"], ["nids"]]);
    // Artifacts were checked with HEAD before writing.
    expect(
      artifacts.requests
        .filter((r) => r.method === "HEAD")
        .map((r) => r.path)
        .sort(),
    ).toEqual(["/v1/initramfs.img", "/v1/rootfs.squashfs", "/v1/vmlinuz"]);

    const again = await register(input("v1", { macs: [MAC1, MAC2], hosts: ["x1000c0s0b0n0"], nids: [7] }), bssTarget(), opts());
    expect(again.written).toBe(false);
    expect(again.diff).toContain("no changes");

    const puts = bss.requests.filter((r) => r.method === "PUT").length;
    const second = await register(input("v2"), bssTarget(), opts());
    expect(second.written).toBe(true);
    expect(bss.requests.filter((r) => r.method === "PUT").length).toBe(puts + 1);
    expect(second.diff).toContain(`~ mac ${MAC1}:`);
    expect(second.diff).toContain(`- root=live:${artifacts.url}/v1/rootfs.squashfs`);
    expect(second.diff).toContain(`+ root=live:${artifacts.url}/v2/rootfs.squashfs`);
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe(image("v2").urls.kernel);
    expect(bss.entry(`mac:${MAC2}`)?.kernel).toBe(image("v1").urls.kernel);
    expect(bss.violations).toEqual([]);
  });

  it("--dry-run shows the diff against what BSS has and writes nothing", async () => {
    bss = await startBssServer();
    bss.seed({ macs: [MAC1] }, { kernel: "http://old/vmlinuz", initrd: "http://old/initrd", params: "ro quiet root=live:http://old/rootfs" });
    const logged: string[] = [];
    const result = await register(input("v1", { macs: [MAC1, MAC2] }), bssTarget(), opts({ dryRun: true, log: (line) => logged.push(line) }));
    expect(result.written).toBe(false);
    // The diff and the artifact checks are the dry run's result, printed once by the caller: not also logged.
    expect(result.artifacts.map((c) => c.role)).toEqual(["kernel", "initrd", "rootfs"]);
    expect(logged.filter((line) => /\b(kernel|initrd|rootfs) +ok\b/.test(line) || line.includes("would change"))).toEqual([]);
    expect(result.diff.split("\n")).toEqual([
      `~ mac ${MAC1}:`,
      "    - kernel: http://old/vmlinuz",
      `    + kernel: ${artifacts.url}/v1/vmlinuz`,
      "    - initrd: http://old/initrd",
      `    + initrd: ${artifacts.url}/v1/initramfs.img`,
      "    params:",
      "      - quiet",
      "      - root=live:http://old/rootfs",
      "      + ip=dhcp",
      "      + console=ttyS0,115200",
      `      + root=live:${artifacts.url}/v1/rootfs.squashfs`,
      `+ mac ${MAC2}: new entry`,
      `    + kernel: ${artifacts.url}/v1/vmlinuz`,
      `    + initrd: ${artifacts.url}/v1/initramfs.img`,
      "    params:",
      "      + ro",
      "      + ip=dhcp",
      "      + console=ttyS0,115200",
      `      + root=live:${artifacts.url}/v1/rootfs.squashfs`,
      "2 of 2 entries would change",
    ]);
    expect(bss.requests.every((r) => r.method === "GET")).toBe(true);
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe("http://old/vmlinuz");
    await expect(readdir(stateDir)).rejects.toThrow(/ENOENT/);
  });

  it("--patch changes params only and refuses selectors without entries", async () => {
    bss = await startBssServer();
    await register(input("v1"), bssTarget(), opts());
    const result = await register({ ...input("v1"), params: "ro quiet root=live:" + (image("v2").urls.rootfs ?? "") }, bssTarget(), opts({ mode: "patch" }));
    expect(result.written).toBe(true);
    expect(bss.requests.filter((r) => r.method === "PATCH")).toHaveLength(1);
    expect(bss.requests.find((r) => r.method === "PATCH")?.body).toEqual({ macs: [MAC1], params: `ro quiet root=live:${artifacts.url}/v2/rootfs.squashfs` });
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe(image("v1").urls.kernel);

    const err = await caught(register(input("v1", { macs: [MAC2] }), bssTarget(), opts({ mode: "patch" })));
    expect(err.kind).toBe("state");
    expect(err.message).toContain(`mac ${MAC2}`);
    expect(err.message).toContain("without --patch");
    expect(bss.violations).toEqual([]);
  });

  it("rolls back: restores replaced params, deletes created ones, walks back one registration per call", async () => {
    bss = await startBssServer();
    const old = { kernel: "http://old/vmlinuz", initrd: "http://old/initrd", params: "ro old" };
    bss.seed({ macs: [MAC1] }, old);
    await register(input("v1", { macs: [MAC1, MAC2] }), bssTarget(), opts());
    await register(input("v2", { macs: [MAC1, MAC2] }), bssTarget(), opts());

    const back1 = await rollback(bssTarget(), opts());
    expect(back1.written).toBe(true);
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe(image("v1").urls.kernel);
    expect(bss.entry(`mac:${MAC2}`)?.kernel).toBe(image("v1").urls.kernel);

    const back2 = await rollback(bssTarget(), opts());
    expect(back2.diff).toContain(`- mac ${MAC2}: entry removed`);
    expect(bss.entry(`mac:${MAC1}`)).toEqual(old);
    expect(bss.entry(`mac:${MAC2}`)).toBeUndefined();
    expect(bss.requests.some((r) => r.method === "DELETE" && JSON.stringify(r.body) === JSON.stringify({ macs: [MAC2] }))).toBe(true);

    const none = await caught(rollback(bssTarget(), opts()));
    expect(none.kind).toBe("state");
    expect(none.message).toMatch(/no registration to roll back/);
    expect(bss.violations).toEqual([]);
  });

  it("keeps the cloud-init data a site set on an entry, through register, --patch and rollback (BSS replaces an entry whole)", async () => {
    bss = await startBssServer();
    const old = { kernel: "http://old/vmlinuz", initrd: "http://old/initrd", params: "ro old" };
    const cloudInit = (node: string) => ({ "meta-data": { "instance-id": node }, "user-data": { hostname: node } });
    bss.seed({ macs: [MAC1] }, { ...old, "cloud-init": cloudInit("n1") });
    bss.seed({ macs: [MAC2] }, { ...old, "cloud-init": cloudInit("n2") });
    bss.seed({ hosts: ["x1000c0s0b0n0"] }, { ...old, "cloud-init": cloudInit("x1") });
    const selectors = { macs: [MAC1, MAC2], hosts: ["x1000c0s0b0n0"] };
    const kept = () => [bss.entry(`mac:${MAC1}`)?.["cloud-init"], bss.entry(`mac:${MAC2}`)?.["cloud-init"], bss.entry("host:x1000c0s0b0n0")?.["cloud-init"]];
    const expected = [cloudInit("n1"), cloudInit("n2"), cloudInit("x1")];

    await register(input("v1", selectors), bssTarget(), opts());
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe(image("v1").urls.kernel);
    expect(kept()).toEqual(expected);
    await register(input("v2", selectors), bssTarget(), opts({ mode: "patch" }));
    expect(kept()).toEqual(expected);
    await rollback(bssTarget(), opts());
    await rollback(bssTarget(), opts());
    expect(bss.entry(`mac:${MAC1}`)).toEqual({ ...old, "cloud-init": cloudInit("n1") });
    expect(kept()).toEqual(expected);
    expect(bss.violations).toEqual([]);
  });

  it("rollback of some nodes only keeps the rest of the record for a later rollback", async () => {
    bss = await startBssServer();
    await register(input("v1", { macs: [MAC1, MAC2] }), bssTarget(), opts());
    const partial = await rollback(bssTarget(), { ...opts(), selectors: { macs: [MAC2.toUpperCase()] } });
    expect(partial.changes.map((c) => c.label)).toEqual([`mac ${MAC2}`]);
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe(image("v1").urls.kernel);
    expect(bss.entry(`mac:${MAC2}`)).toBeUndefined();
    const rest = await rollback(bssTarget(), opts());
    expect(rest.changes.map((c) => c.label)).toEqual([`mac ${MAC1}`]);
    expect(bss.entries.size).toBe(0);
    await expect(rollback(bssTarget(), opts())).rejects.toThrow(/no registration to roll back/);
  });

  it("rollback refuses when the entry changed since, unless forced", async () => {
    bss = await startBssServer();
    await register(input("v1"), bssTarget(), opts());
    bss.seed({ macs: [MAC1] }, { kernel: "http://someone-else/vmlinuz", params: "ro" });
    const err = await caught(rollback(bssTarget(), opts()));
    expect(err.kind).toBe("state");
    expect(err.message).toContain(`mac ${MAC1} changed since registration`);
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe("http://someone-else/vmlinuz");
    await rollback(bssTarget(), { ...opts(), force: true });
    expect(bss.entry(`mac:${MAC1}`)).toBeUndefined();
  });

  it("a registration refused on its Nth node undoes the nodes already written and says what it undid", async () => {
    bss = await startBssServer();
    const previous = { kernel: "http://old/vmlinuz", initrd: "http://old/initramfs.img", params: "ro root=live:http://old/rootfs.squashfs" };
    bss.seed({ macs: [MAC1] }, previous);
    // Three PUTs (one per selector kind): the MAC's and the host's go through, the NID's is refused.
    bss.failNext(1, 400, (r) => r.method === "PUT" && JSON.stringify(r.body).includes('"nids"'));
    const err = await caught(register(input("v1", { macs: [MAC1], hosts: ["x1"], nids: [4] }), bssTarget(), opts()));
    expect(err.kind).toBe("rejected");
    expect(err.message).toContain("injected fault: HTTP 400");
    expect(err.message).toMatch(
      new RegExp(
        `Undone, so no node is left half-registered: mac ${MAC1} restored to its previous params, host x1 removed \\(it had no entry\\) \\(record .*\\.json is marked rolled back\\)\\.$`,
      ),
    );
    expect(bss.entry(`mac:${MAC1}`)).toEqual(previous);
    expect(bss.entry("host:x1")).toBeUndefined();
    expect(bss.entry("nid:4")).toBeUndefined();
    // Nothing is left for a manual rollback.
    expect((await caught(rollback(bssTarget(), opts()))).message).toContain("no registration to roll back");
    expect(bss.violations).toEqual([]);
  });

  it("when the undo fails too, the error says so and keeps the manual route; rollback then restores", async () => {
    bss = await startBssServer();
    const previous = { kernel: "http://old/vmlinuz", params: "ro" };
    bss.seed({ macs: [MAC1] }, previous);
    bss.failNext(1, 400, (r) => r.method === "PUT" && JSON.stringify(r.body).includes('"hosts"'));
    // The undo's PUT of the MAC's previous params is refused as well.
    bss.failNext(1, 400, (r) => r.method === "PUT" && JSON.stringify(r.body).includes("http://old/vmlinuz"));
    const err = await caught(register(input("v1", { macs: [MAC1], hosts: ["x1"] }), bssTarget(), opts()));
    expect(err.message).toContain("injected fault: HTTP 400");
    expect(err.message).toMatch(
      /Part of the registration may have been written, and undoing it failed: BSS at .*: PUT .* answered HTTP 400: injected fault: HTTP 400\n {2}`bootsmith rollback` restores the previous params \(record .*\.json\)\.$/,
    );
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe(image("v1").urls.kernel);
    const back = await rollback(bssTarget(), opts());
    expect(back.written).toBe(true);
    expect(bss.entry(`mac:${MAC1}`)).toEqual(previous);
    expect(bss.entry("host:x1")).toBeUndefined();
  });

  it("refuses to register when an artifact URL is missing, and writes nothing", async () => {
    bss = await startBssServer();
    artifacts.files.delete("/v1/rootfs.squashfs");
    const err = await caught(register(input("v1"), bssTarget(), opts()));
    expect(err.kind).toBe("artifact-missing");
    expect(err.message).toContain(`rootfs ${artifacts.url}/v1/rootfs.squashfs: missing (HTTP 404)`);
    expect(err.message).toContain("nothing was written");
    expect(bss.requests.filter((r) => r.method !== "GET")).toEqual([]);
    expect(bss.entries.size).toBe(0);
    // The dry run reports the same problem without throwing.
    const dry = await register(input("v1"), bssTarget(), opts({ dryRun: true }));
    expect(dry.artifactProblems).toHaveLength(1);
  });

  it("401 explains how to get a token; the token from an ochami config's cluster works", async () => {
    bss = await startBssServer({ token: "tok-123" });
    const err = await caught(register(input("v1"), bssTarget(), opts()));
    expect(err.kind).toBe("unauthorized");
    expect(err.message).toContain("HTTP 401");
    expect(err.message).toContain("no token was sent");
    expect(err.message).toMatch(/--token.*BSS_TOKEN/);

    const home = join(tmp, "home");
    await mkdir(join(home, ".config", "ochami"), { recursive: true });
    await writeFile(
      join(home, ".config", "ochami", "config.yaml"),
      ["clusters:", "  - name: my-cluster", "    cluster:", `      uri: ${bss.url}`, "default-cluster: my-cluster", ""].join("\n"),
    );
    const env = { HOME: home, MY_CLUSTER_ACCESS_TOKEN: "tok-123" };
    const logs: string[] = [];
    const ok = await register(input("v1"), bssTarget(), { ...opts(), env, ochamiConfigPaths: undefined, log: (l) => logs.push(l) });
    expect(ok.written).toBe(true);
    expect(logs.join("\n")).toContain('$MY_CLUSTER_ACCESS_TOKEN (ochami cluster "my-cluster"');
    expect(logs.join("\n")).not.toContain("tok-123");

    // A wrong token names where it came from (never the token itself).
    const bad = await caught(register(input("v2"), bssTarget(), { ...opts(), env: { BSS_TOKEN: "expired-tok" } }));
    expect(bad.message).toContain("$BSS_TOKEN was not accepted");
    expect(bad.message).not.toContain("expired-tok");
  });

  it("shows the problem+json detail of a 400", async () => {
    bss = await startBssServer();
    // A body bootsmith's own validation would never let through: straight through the client.
    const err = await caught(new BssClient(bss.url).put({ macs: ["not-a-mac"], kernel: "k" }));
    expect(err.kind).toBe("rejected");
    expect(err.status).toBe(400);
    expect(err.message).toContain('HTTP 400: Bad Request: invalid MAC address "not-a-mac"');
    // …and selectors are validated before anything is contacted.
    const invalid = await caught(register(input("v1", { macs: ["not-a-mac"] }), bssTarget(), opts()));
    expect(invalid.kind).toBe("invalid");
    expect(invalid.message).toContain('macs: "not-a-mac" is not a MAC address');
    expect(bss.requests).toHaveLength(1);
  });

  it("retries 5xx and dropped connections with backoff, then succeeds", async () => {
    bss = await startBssServer();
    bss.failNext(2, 503);
    bss.closeNext(1);
    const retries: string[] = [];
    const result = await register(
      input("v1"),
      bssTarget(),
      opts({ http: { retries: 4, backoffMs: 5, timeoutMs: 2_000, onRetry: (r) => retries.push(r.reason) } }),
    );
    expect(result.written).toBe(true);
    expect(retries).toHaveLength(3);
    expect(retries[0]).toContain("HTTP 503");
    expect(retries[2]).toMatch(/socket hang up|ECONNRESET/);
    expect(bss.entry(`mac:${MAC1}`)?.kernel).toBe(image("v1").urls.kernel);
  });

  it("waits as long as a 503's Retry-After asks (capped), not just the backoff", async () => {
    bss = await startBssServer();
    bss.failNext(1, 503, undefined, { "Retry-After": "1" });
    const delays: number[] = [];
    await register(input("v1"), bssTarget(), opts({ http: { retries: 2, backoffMs: 5, timeoutMs: 2_000, onRetry: (r) => delays.push(r.delayMs) } }));
    expect(delays).toEqual([1000]);
  });

  it("gives up on persistent 5xx and on a server that never answers, with a clear error", async () => {
    bss = await startBssServer();
    bss.failNext(10, 500);
    const err = await caught(register(input("v1"), bssTarget(), opts({ http: { retries: 2, backoffMs: 5, timeoutMs: 2_000 } })));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toMatch(/BSS at http:\/\/127\.0\.0\.1:\d+ is unavailable: GET .*HTTP 500: injected fault: HTTP 500 \(gave up after 3 attempts\)/);

    bss.entries.clear();
    await bss.stop();
    bss = await startBssServer();
    bss.hangNext(2);
    const hung = await caught(register(input("v1"), bssTarget(), opts({ http: { retries: 1, backoffMs: 5, timeoutMs: 300 } })));
    expect(hung.kind).toBe("unavailable");
    expect(hung.message).toContain("no answer within 300 ms");

    const url = bss.url;
    await bss.stop();
    const refused = await caught(register(input("v1"), { type: "bss", url }, opts({ http: { retries: 1, backoffMs: 5, timeoutMs: 300 } })));
    expect(refused.kind).toBe("unavailable");
    expect(refused.message).toContain("ECONNREFUSED");
  });

  it("talks https to a service whose certificate a site CA signed (caFile), and fails clearly without it", async () => {
    const pki = await makeTestPki(tmp);
    bss = await startBssServer({ tls: { key: pki.key, cert: pki.cert } });
    const ok = await register(input("v1"), { type: "bss", url: bss.url, caFile: pki.caFile }, opts());
    expect(ok.written).toBe(true);
    expect(bss.url.startsWith("https://")).toBe(true);
    const err = await caught(register(input("v2"), { type: "bss", url: bss.url }, opts()));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toMatch(/self[- ]signed|unable to (get local issuer|verify)/i);
    expect(err.message).toContain("pass the site CA with --ca-file");
    expect(err.message).toContain("gave up after 1 attempt)");
    const missingCa = await caught(register(input("v2"), { type: "bss", url: bss.url, caFile: join(tmp, "nope.pem") }, opts()));
    expect(missingCa.kind).toBe("invalid");
    expect(missingCa.message).toContain("BSS target: cannot read CA file");
    const badUrl = await caught(register(input("v2"), { type: "bss", url: "bss.example:8443" }, opts()));
    expect(badUrl.kind).toBe("invalid");
  });

  it("reads back what it wrote and fails when the service stores something else", async () => {
    bss = await startBssServer();
    // A service that answers 200 to PUT but keeps an old kernel (as a broken proxy or cache might).
    bss.seed({ nids: [8] }, { kernel: "http://stale/vmlinuz", params: "ro" });
    bss.failNext(1, 200, (r) => r.method === "PUT");
    const err = await caught(register(input("v1", { nids: [8] }), bssTarget(), opts()));
    expect(err.kind).toBe("state");
    expect(err.message).toContain('does not return what was written:\n  nid 8: reads back {"kernel":"http://stale/vmlinuz","params":"ro"}');
  });

  it("accepts a URL that already ends in /boot/v1 (ochami's bss uri)", async () => {
    bss = await startBssServer();
    await register(input("v1"), { type: "bss", url: `${bss.url}/boot/v1` }, opts());
    expect(bss.requests.filter((r) => r.method === "PUT").map((r) => r.path)).toEqual(["/boot/v1/bootparameters"]);
  });

  it("a URL that is not BSS's (a wrong path prefix, boot-service without its legacy API) is named with the fix, not taken for empty BSS", async () => {
    // Both answer GET /boot/v1/bootparameters 404 as BSS does for a node without params; the PUT
    // that BSS never answers 404 (it creates the entry) shows the URL is wrong.
    for (const server of [() => startBssServer(), () => startBssServer({ bootConfigurations: true, legacyApi: false })]) {
      bss = await server();
      const url = `${bss.url}/apis/bss`;
      const err = await caught(register(input("v1"), { type: "bss", url }, opts()));
      expect(err.kind).toBe("rejected");
      expect(err.message).toContain(`PUT ${url}/boot/v1/bootparameters answered HTTP 404`);
      expect(err.message).toContain(
        "BSS's PUT creates or replaces entries, so a 404 means either this URL is not BSS's /boot/v1 API: check the BSS URL (--bss, or url: in the recipe's register:), e.g. https://HOST:8443 or ochami's https://HOST/boot/v1",
      );
      expect(bss.entries.size).toBe(0);
      await bss.stop();
    }
    bss = await startBssServer({ bootConfigurations: true, legacyApi: false });
    const err = await caught(register(input("v1"), bssTarget(), opts()));
    expect(err.message).toContain("this URL is not BSS's /boot/v1 API");
  });

  it("a PUT that BSS answers 404 (the spec's 'cannot find specified host, MAC, or NID') also points at the nodes, not only the URL", async () => {
    bss = await startBssServer();
    bss.failNext(1, 404, (r) => r.method === "PUT");
    const err = await caught(register(input("v1", { hosts: ["x9000c0s0b0n0"] }), bssTarget(), opts()));
    expect(err.kind).toBe("rejected");
    expect(err.message).not.toContain("never 404");
    expect(err.message).toContain(
      "or BSS cannot find one of the nodes (the spec's 404 for PUT: an unknown host, MAC or NID): check --mac/--host/--nid (macs:/hosts:/nids: in the recipe's register:)",
    );
    expect(bss.entries.size).toBe(0);
  });

  it("renders the params template from a published image (the pipeline's entry point)", async () => {
    bss = await startBssServer();
    await registerPublished(image("v1"), "ro root=live:{{ rootfs.url }}", { nids: [3] }, bssTarget(), { ...opts(), extraParams: "console=ttyS0" });
    expect(bss.entry("nid:3")?.params).toBe(`ro root=live:${artifacts.url}/v1/rootfs.squashfs console=ttyS0`);
    const err = await caught(registerPublished(image("v1"), "root=live:{{ rootfs }}", { nids: [3] }, bssTarget(), opts()));
    expect(err.kind).toBe("invalid");
  });

  it("the served bootscript boots what was registered", async () => {
    bss = await startBssServer();
    await register(input("v2"), bssTarget(), opts());
    const script = await (await fetch(bss.bootscriptUrl(MAC1))).text();
    expect(script).toContain(
      `kernel --name kernel ${artifacts.url}/v2/vmlinuz initrd=initrd ro ip=dhcp console=ttyS0,115200 root=live:${artifacts.url}/v2/rootfs.squashfs`,
    );
    expect(script).toContain(`initrd --name initrd ${artifacts.url}/v2/initramfs.img`);
  });
});

describe("register --export", () => {
  it("writes the ochami BootParams payload", async () => {
    artifacts.files.clear();
    const text = exportPayload(input("v1", { macs: [MAC1.toUpperCase()], hosts: ["x1000c0s0b0n0"], nids: [1, 2] }));
    expect(text).toContain("ochami bss boot params set -f yaml -d @FILE");
    expect(parseYaml(text)).toEqual({
      macs: [MAC1],
      hosts: ["x1000c0s0b0n0"],
      nids: [1, 2],
      kernel: image("v1").urls.kernel,
      initrd: image("v1").urls.initrd,
      params: input("v1").params,
    });
  });
});

describe("register with boot-service", () => {
  function target(extra: Partial<{ legacy: boolean; priority: number; groups: string[] }> = {}): BootTarget {
    return { type: "boot-service", url: bss.url, name: "compute-nodes", ...extra };
  }

  it("creates a BootConfiguration, replaces it by name, and rolls back", async () => {
    bss = await startBssServer({ bootConfigurations: true, legacyApi: false });
    const created = await register(input("v1", { macs: [MAC1] }), target({ priority: 10, groups: ["compute"] }), opts());
    expect(created.written).toBe(true);
    const [only] = [...bss.bootConfigurations.values()];
    expect(only?.metadata.name).toBe("compute-nodes");
    expect(only?.spec).toEqual({
      macs: [MAC1],
      groups: ["compute"],
      kernel: image("v1").urls.kernel,
      initrd: image("v1").urls.initrd,
      params: input("v1").params,
      priority: 10,
    });
    const uid = only?.metadata.uid;

    const replaced = await register(input("v2", { macs: [MAC1] }), target({ priority: 20, groups: ["compute"] }), opts());
    expect(replaced.diff).toContain("priority: 10 → 20");
    expect(bss.bootConfigurations.size).toBe(1);
    expect(bss.bootConfigurations.get(uid ?? "")?.spec.kernel).toBe(image("v2").urls.kernel);
    expect(bss.requests.filter((r) => r.method === "PUT").map((r) => r.path)).toEqual([`/bootconfigurations/${uid ?? ""}`]);

    // The node's script comes from the configuration.
    // With enable_legacy_api off, /boot/v1 is not there at all.
    expect((await fetch(`${bss.url}/boot/v1/bootscript?mac=${MAC1}`)).status).toBe(404);
    await rollback(target(), opts());
    expect(bss.bootConfigurations.get(uid ?? "")?.spec.kernel).toBe(image("v1").urls.kernel);
    await rollback(target(), opts());
    expect(bss.bootConfigurations.size).toBe(0);
  });

  it("validates the target before contacting it, and shows boot-service's own error text", async () => {
    bss = await startBssServer({ bootConfigurations: true, token: "t" });
    const invalid = await caught(register(input("v1", { macs: [MAC1] }), target({ priority: 500 }), opts()));
    expect(invalid.kind).toBe("invalid");
    expect(invalid.message).toContain("priority 500 must be an integer 0–100");
    expect(bss.requests).toHaveLength(0);
    const denied = await caught(register(input("v1", { macs: [MAC1] }), target(), opts()));
    expect(denied.kind).toBe("unauthorized");
    expect(denied.message).toContain("HTTP 401: unauthorized: a valid bearer token is required");
  });

  it("dry-run diffs the BootConfiguration; export writes the resource; the root /bootscript serves it", async () => {
    bss = await startBssServer({ bootConfigurations: true });
    const dry = await register(input("v1", { nids: [5] }), target({ groups: ["compute"] }), opts({ dryRun: true }));
    expect(dry.written).toBe(false);
    expect(dry.diff).toContain("+ bootconfiguration compute-nodes: new entry");
    expect(dry.diff).toContain('groups: null → ["compute"]');
    expect(bss.bootConfigurations.size).toBe(0);

    expect(parseYaml(exportPayload(input("v1", { nids: [5] }), target({ groups: ["compute"], priority: 3 })))).toEqual({
      metadata: { name: "compute-nodes" },
      spec: { nids: [5], groups: ["compute"], kernel: image("v1").urls.kernel, initrd: image("v1").urls.initrd, params: input("v1").params, priority: 3 },
    });

    await register(input("v1", { nids: [5] }), target(), opts());
    const res = await fetch(`${bss.url}/bootscript?nid=5`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`kernel --name kernel ${image("v1").urls.kernel} initrd=initrd ${input("v1").params} nid=5`);
  });

  it("legacy mode talks BSS's /boot/v1 API", async () => {
    bss = await startBssServer({ bootConfigurations: true });
    await register(input("v1", { nids: [4] }), target({ legacy: true }), opts());
    expect(bss.entry("nid:4")?.kernel).toBe(image("v1").urls.kernel);
    expect(bss.bootConfigurations.size).toBe(0);
    const files = await readdir(stateDir);
    expect(files).toHaveLength(1);
    const records = await readdir(join(stateDir, files[0] ?? ""));
    const record = JSON.parse(await readFile(join(stateDir, files[0] ?? "", records[0] ?? ""), "utf8"));
    expect(record.entries[0]).toEqual({
      selector: { kind: "nid", value: 4 },
      before: null,
      after: { kernel: image("v1").urls.kernel, initrd: image("v1").urls.initrd, params: input("v1").params },
    });
    await rollback(target({ legacy: true }), opts());
    expect(bss.entry("nid:4")).toBeUndefined();
  });

  it("boot-service's own /boot/v1 (answers {boot-parameters: …}, PUT only updates) is refused before any write, pointing at its BootConfiguration API", async () => {
    // What boot-service's legacy handler answers (pkg/handlers/boot): an envelope, not BSS's list;
    // a PUT for a node without a configuration is 404, and one that matches rewrites the
    // configuration's node list with the request's.
    const seen: string[] = [];
    const legacy = createServer((req, res) => {
      seen.push(`${req.method ?? ""} ${req.url ?? ""}`);
      req.resume();
      const found = req.method === "GET";
      res.writeHead(found ? 200 : 404, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify(found ? { "boot-parameters": null } : { type: "about:blank", title: "No matching boot parameters found", detail: "", status: 404 }),
      );
    });
    await new Promise<void>((resolve) => legacy.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`;
    try {
      for (const to of [
        { type: "boot-service", url, name: "compute-nodes", legacy: true },
        { type: "bss", url },
      ] as const) {
        const err = await caught(register(input("v1", { macs: [MAC1], nids: [4] }), to, opts()));
        expect(err.kind).toBe("rejected");
        expect(err.message).toContain(`GET ${url}/boot/v1/bootparameters?mac=52%3A54%3A00%3A12%3A34%3A56 answered in boot-service's shape`);
        expect(err.message).toContain(`register through its BootConfiguration API: --boot-service ${url} --name NAME, without --legacy`);
      }
      expect(seen.filter((r) => !r.startsWith("GET "))).toEqual([]);
      expect(await readdir(stateDir).catch(() => [])).toEqual([]);
    } finally {
      legacy.closeAllConnections();
      await new Promise<void>((resolve) => legacy.close(() => resolve()));
    }
  });
});
