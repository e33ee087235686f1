#!/usr/bin/env bash
# Install bootsmith's host dependencies on Debian 12 (root) and its npm packages.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  buildah skopeo uidmap fuse-overlayfs    # containers and images
  dnf zypper rpm createrepo-c busybox-static  # RPM images (dnf, zypper) and the test RPM repository (busybox: its shell)
  mmdebstrap                              # Debian images
  squashfs-tools                          # rootfs.squashfs
  ansible                                 # commands: ansible: (ansible-core + community.general's chroot connection)
  qemu-system-x86 ipxe-qemu zstd xz-utils # boot-test (zstd/xz: reading initramfs images)
  docker-registry                         # OCI registry for publish tests
  ceph-mon ceph-osd radosgw ceph-common uuid-runtime awscli  # S3 server for tests, and the S3 benchmark baseline
  rsync                                   # gitlab-ci-local (pipeline test) copies the project with it
  gnupg curl ca-certificates iproute2 util-linux openssl time
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
npm ci --no-audit --no-fund --loglevel=error
npm run build
