// One way to print a size, so a build's output (free disk space, artifact sizes, uploads) uses
// one unit system: binary (IEC) units, as the kernel, squashfs and df -h report them.

const UNITS = ["KiB", "MiB", "GiB", "TiB"] as const;

/** 512 B, 1.5 KiB, 165.2 MiB, 2.0 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A transfer rate in the same units: 206.5 MiB/s. */
export function formatRate(bytes: number, seconds: number): string {
  return `${formatBytes(bytes / seconds)}/s`;
}

/** The first line of a program's output that is not blank, trimmed: its one-line summary. */
export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? ""
  );
}
