// Host names as BSS takes them in `hosts` (bss-swagger.yaml, BootParams.hosts: "host names";
// "Specific hosts can be specified either by a hostname (xname) … Otherwise, a tag can be used":
// Default or an HSM role such as Compute). BSS stores any string, so the check only refuses what
// cannot name one host: spaces and commas (several names in one), a MAC or a bare node number
// (which belong in macs / nids, where BSS matches them), characters no host name has, and a
// mistyped xname (x1000c0s0n0b0), which would match no node.
// The recipe's `hosts:` and --host on register and rollback read names with this one rule.
import { MAC_INPUT } from "./mac.js";

/** One host name: letters, digits, '_', '-' and '.', not only digits, at most 253 characters (a MAC with dashes passes: see hostNameProblem). */
export const HOST_NAME = /^(?!\d+$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;

/** Cray/HPE xnames as OpenCHAMI uses them, cabinet down to node (x1000c0s0b0n0). */
export const XNAME = /^x\d{1,4}(c\d{1,2}(r\d{1,2}|s\d{1,2}(b\d{1,2}(n\d{1,2})?)?)?)?$/;

/** Twelve hex digits: how a MAC reads with its separators left out. */
const BARE_MAC = /^[0-9a-f]{12}$/i;

/** A name that starts as an xname does (cabinet, chassis) is meant as one. */
const XNAME_LIKE = /^x\d+c\d/;

/** What to write instead, shared by every message. */
const KINDS = "an xname (x1000c0s0b0n0), a BSS tag (Default, or an HSM role such as Compute) or a host name (nid001, cn01.cluster)";

/** Why `text` cannot be sent as a host name, or undefined when it can. `where` names where MACs and NIDs go (macs: or --mac). */
export function hostNameProblem(text: string, where: { macs: string; nids: string } = { macs: "macs", nids: "nids" }): string | undefined {
  // Before the name test: 52-54-00-12-34-56 is spelled like a host name too.
  if (MAC_INPUT.test(text)) return `is a MAC address: give it in ${where.macs}, not as a host name`;
  // 525400123456 or 5254001234ab: a MAC copied without its separators (a node number has fewer digits).
  if (BARE_MAC.test(text) && /\d/.test(text))
    return `looks like a MAC address without separators: give it in ${where.macs} as ${text.match(/../g)!.join(":").toLowerCase()}, not as a host name`;
  if (HOST_NAME.test(text)) {
    if (XNAME_LIKE.test(text) && !XNAME.test(text)) return "is not an xname: write cabinet, chassis, slot, board and node in that order, as in x1000c0s0b0n0";
    return undefined;
  }
  if (text.trim() === "") return `is empty: give ${KINDS}`;
  if (/^\d+$/.test(text)) return `is a node number: give it in ${where.nids}, not as a host name`;
  if (/[\s,]/.test(text.trim())) return `names more than one host: give one name per entry, each ${KINDS}`;
  return `is not a host name: give ${KINDS}`;
}
