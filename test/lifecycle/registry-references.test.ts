// gc on a registry: which tags a boot service's kernel, initrd or params strings name. References
// are parsed and compared exactly (tag 1 is not tag 10, bootsmith/img is not bootsmith/img2);
// what cannot be matched for sure (the same path and tag under another host spelling, a blob URL)
// keeps the tag, saying why. Through the registry store's matcher and the plan, as `bootsmith gc` uses them.
import { describe, expect, it } from "vitest";
import { describeReasons, planGc } from "../../src/lifecycle/gc.js";
import { RegistryStore } from "../../src/lifecycle/store-registry.js";
import type { StoredTag } from "../../src/lifecycle/store.js";

const REPO = "localhost:5000/bootsmith/img";
const store = new RegistryStore({ kind: "registry", repository: REPO, tlsVerify: false } as never, { artifacts: "/nonexistent" });
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const tag = (t: string, d: string, day: number): StoredTag => ({
  name: "img",
  tag: t,
  image: { digest: digest(d), builtAt: `2026-01-0${day}`, builtTags: [t] },
});
const TAGS = [tag("1", "a", 1), tag("10", "b", 2), tag("3", "c", 3), tag("9", "d", 9)];

/** The plan with only the newest tag kept by age: what else stays is what the references keep. */
function plan(...strings: string[]) {
  const p = planGc(TAGS, [{ who: "BSS mac 52:54:00:00:00:01", strings }], 1, (s, t) => store.matchReference(s, t));
  return {
    removed: p.remove.map((r) => r.tag).sort(),
    kept: Object.fromEntries(p.keep.filter((k) => k.tag !== "9").map((k) => [k.tag, describeReasons(k.reasons)])),
  };
}

describe("gc: boot references to registry images", () => {
  it("a tag that is a prefix of another is not the other: img:10 keeps 10, not 1", () => {
    expect(plan(`bootsmith.image=${REPO}:10`)).toEqual({ removed: ["1", "3"], kept: { "10": "in use by BSS mac 52:54:00:00:00:01" } });
  });

  it("the same repository under another host spelling (an IP for a DNS name) is kept, saying gc cannot tell", () => {
    const p = plan("console=ttyS0 bootsmith.image=127.0.0.1:5000/bootsmith/img:3");
    expect(p.removed).toEqual(["1", "10"]);
    expect(p.kept["3"]).toBe(
      "maybe in use by BSS mac 52:54:00:00:00:01 (127.0.0.1:5000/bootsmith/img:3 names host 127.0.0.1:5000, not localhost:5000: gc cannot tell whether that is the same registry; kept to be safe)",
    );
  });

  it("reads references with a scheme, a digest, or as a registry API manifest URL", () => {
    expect(plan(`img=docker://${REPO}:3`).kept).toEqual({ "3": "in use by BSS mac 52:54:00:00:00:01" });
    expect(plan(`img=${REPO}@${digest("b")}`).kept).toEqual({ "10": "in use by BSS mac 52:54:00:00:00:01" });
    expect(plan(`img=${REPO}:1@${digest("c")}`).removed).toEqual(["10"]);
    expect(plan(`http://localhost:5000/v2/bootsmith/img/manifests/1`).removed).toEqual(["10", "3"]);
    // A different letter case in the host is the same host.
    expect(plan(`LOCALHOST:5000/bootsmith/img:1`).removed).toEqual(["10", "3"]);
  });

  it("another repository is not this one: a longer name, a nested path, another path prefix", () => {
    for (const other of [
      "localhost:5000/bootsmith/img2:3",
      "localhost:5000/bootsmith/img/sub:3",
      "localhost:5000/mirror/bootsmith/img:3",
      "localhost:5000/bootsmith/img:30",
    ])
      expect(plan(`x=${other}`), other).toEqual({ removed: ["1", "10", "3"], kept: {} });
  });

  it("what names the repository but no one tag, or names no host, keeps the tags it may mean", () => {
    const blob = plan(`http://localhost:5000/v2/bootsmith/img/blobs/${digest("e")}`);
    expect(blob.removed).toEqual([]);
    expect(blob.kept["1"]).toMatch(/^maybe in use by .*names bootsmith\/img in a way gc cannot read as one tag or digest/);
    const hostless = plan("bootsmith/img:3");
    expect(hostless.removed).toEqual(["1", "10"]);
    expect(hostless.kept["3"]).toMatch(/bootsmith\/img:3 names no registry host/);
  });
});
