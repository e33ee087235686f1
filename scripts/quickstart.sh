#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (as root): install what bootsmith needs, build the
# embedded Debian live recipe, and prove that it netboots (iPXE → kernel + initramfs over HTTP →
# livenet downloads the squashfs → systemd comes up) in QEMU.
#   sudo bash scripts/quickstart.sh [RECIPE]     (default recipes/debian-12-live.yaml)
# Artifacts land in artifacts/<name>/<tag>/ (vmlinuz, initramfs.img, rootfs.squashfs,
# manifest.json, build.log).
# Bash only to bootstrap: a fresh machine has node and npm but not zx, which setup.sh installs
# (npm ci) before the zx scripts run; the main job itself is scripts/quickstart.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/quickstart.mjs "$@"
