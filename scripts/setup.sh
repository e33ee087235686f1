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
  qemu-user-static binfmt-support arch-test  # aarch64 images built on x86_64 (arm64 programs run through qemu-user)
  qemu-system-arm qemu-efi-aarch64        # boot-test of aarch64 images (virt machine, UEFI firmware)
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
# arm64 programs in an image reach qemu-user through binfmt_misc. Containers (CI runners) often
# start without it mounted; as root it can be mounted from inside, and the qemu entries are then
# (re)registered. `bootsmith doctor --arch aarch64` checks the result.
if [ "$(id -u)" = 0 ] && [ "$(uname -m)" != aarch64 ]; then
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || echo "setup: cannot mount binfmt_misc: aarch64 builds will not work (bootsmith doctor --arch aarch64 says why)" >&2
  fi
  if [ -e /proc/sys/fs/binfmt_misc/status ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 || echo "setup: update-binfmts --enable qemu-aarch64 failed" >&2
  fi
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build
