// What a publisher did with each object: the CLI prints one line per transfer, tests count them.

export type TransferAction =
  /** Bytes were sent (or copied into place). */
  | "uploaded"
  /** The destination already held the same bytes (same sha256). */
  | "skipped"
  /** Server-side copy / hard link from the primary tag. */
  | "copied";

export interface ArtifactTransfer {
  readonly action: TransferAction;
  readonly tag: string;
  /** Published file name (vmlinuz, …, manifest.json). */
  readonly file: string;
  readonly bytes: number;
  readonly seconds: number;
  /** Where it now lives (s3://bucket/key, a path, docker://…). */
  readonly destination: string;
}

export type TransferListener = (transfer: ArtifactTransfer) => void;

/** `uploaded  rootfs.squashfs     165.2 MB   212.5 MB/s  s3://boot/debian/1/rootfs.squashfs` */
export function formatTransfer(t: ArtifactTransfer): string {
  // A rate over a few kilobytes measures latency, not throughput: show it from 1 MB up.
  const rate = t.action === "uploaded" && t.seconds > 0 && t.bytes >= 1e6 ? `${(t.bytes / 1e6 / t.seconds).toFixed(1)} MB/s` : "";
  return `${t.action.padEnd(8)}  ${t.file.padEnd(16)} ${formatBytes(t.bytes).padStart(9)}  ${rate.padStart(12)}  ${t.destination}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}
