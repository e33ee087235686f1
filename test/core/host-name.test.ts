import { describe, expect, it } from "vitest";
import { hostNameProblem } from "../../src/core/host-name.js";

describe("hostNameProblem", () => {
  it("takes what BSS's hosts take: xnames, tags (Default, HSM roles) and host names", () => {
    for (const host of ["x1000c0s0b0n0", "x3000c0s17b3n0", "x1000", "x1000c0r1", "Default", "Compute", "Application", "nid001", "cn01.cluster.local", "node_7"])
      expect(hostNameProblem(host), host).toBeUndefined();
  });

  it("refuses what cannot name one host, saying where it belongs", () => {
    expect(hostNameProblem("52:54:00:12:34:56")).toBe("is a MAC address: give it in macs, not as a host name");
    expect(hostNameProblem("52-54-00-12-34-56", { macs: "--mac", nids: "--nid" })).toBe("is a MAC address: give it in --mac, not as a host name");
    expect(hostNameProblem("12", { macs: "--mac", nids: "--nid" })).toBe("is a node number: give it in --nid, not as a host name");
    // A MAC without separators, digits only or with letters: not a node number, not a host name.
    for (const bare of ["525400123456", "5254001234AB"])
      expect(hostNameProblem(bare, { macs: "--mac", nids: "--nid" })).toBe(
        `looks like a MAC address without separators: give it in --mac as ${bare.match(/../g)!.join(":").toLowerCase()}, not as a host name`,
      );
    expect(hostNameProblem("cafebabecafe")).toBeUndefined(); // no digit: a name
    expect(hostNameProblem("a b")).toMatch(/^names more than one host: give one name per entry/);
    expect(hostNameProblem("")).toMatch(/^is empty: give an xname \(x1000c0s0b0n0\)/);
    expect(hostNameProblem("node/1")).toMatch(/^is not a host name: give an xname/);
    expect(hostNameProblem("x".repeat(254))).toMatch(/^is not a host name/);
    expect(hostNameProblem("x1000c0s0n0b0")).toBe("is not an xname: write cabinet, chassis, slot, board and node in that order, as in x1000c0s0b0n0");
  });
});
