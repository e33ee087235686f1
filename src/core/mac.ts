// MAC addresses as sites' inventories write them: `aa:bb:cc:dd:ee:ff` or `AA-BB-CC-DD-EE-FF`
// (Windows, many DHCP and switch exports), either case. BSS accepts only the colon form and
// compares case-insensitively, so every MAC a user gives (recipe `register:`, --mac) is read with
// this pattern and sent, stored and compared in one spelling: lower case with colons.

/** Six hex pairs separated by one kind of separator: colons or dashes, not a mix. */
export const MAC_INPUT = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$/;

/** The one spelling BSS stores (lower case, colons), or undefined when `text` is not a MAC. */
export function normalizeMac(text: string): string | undefined {
  return MAC_INPUT.test(text) ? text.toLowerCase().replaceAll("-", ":") : undefined;
}
