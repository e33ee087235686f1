// What a publisher did with each object: the CLI prints one line per transfer, tests count them.
import { formatBytes, formatRate } from "../core/format.js";

export type TransferAction =
  /** Bytes were sent (or copied into place). */
  | "uploaded"
  /** The destination already held the same bytes (same sha256). */
  | "skipped"
  /** Server-side copy / hard link from the primary tag. */
  | "copied"
  /** A container image pushed to a registry tag (the tool sends only the blobs it lacks, and reports no size). */
  | "pushed";

export interface ArtifactTransfer {
  readonly action: TransferAction;
  readonly tag: string;
  /** Published file name (vmlinuz, …, manifest.json). */
  readonly file: string;
  /** Absent when the size is not known (a registry push). */
  readonly bytes?: number;
  readonly seconds: number;
  /** Where it now lives (s3://bucket/key, a path, docker://…). */
  readonly destination: string;
}

export type TransferListener = (transfer: ArtifactTransfer) => void;

/** `uploaded  rootfs.squashfs     165.2 MB   212.5 MB/s  s3://boot/debian/1/rootfs.squashfs` */
export function formatTransfer(t: ArtifactTransfer): string {
  // A rate over a few kilobytes measures latency, not throughput: show it from 1 MiB up.
  const rate = t.action === "uploaded" && t.seconds > 0 && t.bytes !== undefined && t.bytes >= 1024 ** 2 ? formatRate(t.bytes, t.seconds) : "";
  const size = t.bytes === undefined ? "" : formatBytes(t.bytes);
  return `${t.action.padEnd(8)}  ${t.file.padEnd(16)} ${size.padStart(9)}  ${rate.padStart(12)}  ${t.destination}`;
}
