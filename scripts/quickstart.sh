#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (as root): install what bootsmith needs, build the
# embedded Debian live recipe, and prove that it netboots (iPXE → kernel + initramfs over HTTP →
# livenet downloads the squashfs → systemd comes up) in QEMU.
#   sudo bash scripts/quickstart.sh [RECIPE]     (default recipes/debian-12-live.yaml)
# Artifacts land in artifacts/<name>/<tag>/ (vmlinuz, initramfs.img, rootfs.squashfs,
# manifest.json, build.log).
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-recipes/debian-12-live.yaml}

bash scripts/setup.sh
node dist/cli/main.js doctor
node dist/cli/main.js validate "$recipe"
node dist/cli/main.js build "$recipe" --no-publish
node dist/cli/main.js boot-test "$recipe"
