// Node numbers (NIDs) as BSS stores them: its BootParams.nids are Go int32, so a larger number
// is refused by its JSON decoder (400) or, through a query string, parsed into something else.
// Every NID a user gives (recipe `register: nids:`, --nid) is checked against this range first.

/** The largest NID BSS can store (2^31 - 1). */
export const NID_MAX = 2_147_483_647;

/** Why `nid` cannot be sent as a node number, or undefined when it can. */
export function nidProblem(nid: number): string | undefined {
  if (!Number.isInteger(nid) || nid < 0) return "is not a non-negative integer";
  if (nid > NID_MAX) return `is out of range: BSS stores node numbers as 32-bit integers, 0–${NID_MAX}`;
  return undefined;
}
