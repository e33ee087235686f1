// A typical short build as events: two steps ok, output, a warning, a failing third step.
import type { BuildEvent } from "../../../src/exec/events.js";

export const buildEvents: BuildEvent[] = [
  { type: "step-start", step: "fetch-base", title: "Fetch the base image", index: 1, total: 3 },
  { type: "command", step: "fetch-base", command: "buildah from scratch" },
  { type: "output", step: "fetch-base", stream: "stdout", line: "working-container" },
  { type: "step-end", step: "fetch-base", status: "ok", durationMs: 1_234 },
  { type: "step-start", step: "install-packages", title: "Install packages", index: 2, total: 3 },
  { type: "command", step: "install-packages", command: "dnf -y install bash" },
  { type: "output", step: "install-packages", stream: "stdout", line: "Installing: bash-5.2" },
  { type: "message", level: "warn", text: "repo metadata is 3 days old" },
  { type: "step-end", step: "install-packages", status: "ok", durationMs: 42_100 },
  { type: "step-start", step: "squashfs", title: "Make rootfs.squashfs", index: 3, total: 3 },
  { type: "command", step: "squashfs", command: "mksquashfs /mnt rootfs.squashfs" },
  { type: "output", step: "squashfs", stream: "stderr", line: "FATAL ERROR: no space left" },
  { type: "step-end", step: "squashfs", status: "failed", durationMs: 3_000, error: "mksquashfs exited with code 1" },
  { type: "summary", ok: false, durationMs: 46_334, lines: ["log: artifacts/x/build.log"] },
];
