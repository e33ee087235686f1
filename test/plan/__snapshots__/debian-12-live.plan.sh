#!/usr/bin/env bash
# bootsmith plan for debian-12-live (bookworm) from <repo>/recipes/debian-12-live.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/19] create-container: Create the working container
buildah from --name bootsmith-debian-12-live-test --arch amd64 scratch
#   undone on failure by: buildah rm bootsmith-debian-12-live-test

# [2/19] mount: Mount the container's root
MNT=$(buildah mount bootsmith-debian-12-live-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-debian-12-live-test

# [3/19] install-packages: Install packages with mmdebstrap
timeout 3600 mmdebstrap --mode=root --variant=minbase --architectures=amd64 '--aptopt=APT::Install-Recommends "false"' '--dpkgopt=path-exclude=/usr/share/man/*' '--dpkgopt=path-exclude=/usr/share/doc/*' '--dpkgopt=path-include=/usr/share/doc/*/copyright' '--dpkgopt=path-exclude=/usr/share/locale/*' '--dpkgopt=path-exclude=/usr/share/info/*' --include=linux-image-amd64,systemd-sysv,dracut,dracut-live,dracut-network,curl,ca-certificates,isc-dhcp-client,iproute2,procps,kmod,udev,zstd --skip=essential/unlink '--setup-hook=mkdir -p /var/cache/bootsmith/apt/archives "$1/var/cache/apt/archives" && flock /var/cache/bootsmith/apt/archives.lock cp -a /var/cache/bootsmith/apt/archives/. "$1/var/cache/apt/archives/"' '--customize-hook=flock /var/cache/bootsmith/apt/archives.lock cp -a "$1/var/cache/apt/archives/." /var/cache/bootsmith/apt/archives/' '--essential-hook=mkdir -p "$1/etc/kernel/postinst.d"; chroot "$1" dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --add /etc/kernel/postinst.d/dracut; printf '\''#!/bin/sh\n# bootsmith: the package-time initramfs is skipped while packages install\nexit 0\n'\'' > "$1/etc/kernel/postinst.d/dracut"; chmod 755 "$1/etc/kernel/postinst.d/dracut"' '--customize-hook=rm -f "$1/etc/kernel/postinst.d/dracut"; chroot "$1" dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --remove /etc/kernel/postinst.d/dracut' bookworm "$MNT" /etc/apt/sources.list.d/debian.sources

# [4/19] copy-files: Copy files into the image
mkdir -p /var/tmp/bootsmith/work-test/files/0
(umask 077; set -C; printf '%s' 'debian-live
' > /var/tmp/bootsmith/work-test/files/0/hostname)
chmod 0600 /var/tmp/bootsmith/work-test/files/0/hostname
buildah copy --chmod 0644 bootsmith-debian-12-live-test /var/tmp/bootsmith/work-test/files/0/hostname /etc/hostname
mkdir -p /var/tmp/bootsmith/work-test/files/1
(umask 077; set -C; printf '%s' '' > /var/tmp/bootsmith/work-test/files/1/fstab)
chmod 0600 /var/tmp/bootsmith/work-test/files/1/fstab
buildah copy --chmod 0644 bootsmith-debian-12-live-test /var/tmp/bootsmith/work-test/files/1/fstab /etc/fstab
buildah copy --chmod 0755 bootsmith-debian-12-live-test <repo>/recipes/files/bootsmith-ready.sh /usr/local/sbin/bootsmith-ready
buildah copy --chmod 0644 bootsmith-debian-12-live-test <repo>/recipes/files/bootsmith-ready.service /etc/systemd/system/bootsmith-ready.service

# [5/19] command-1: Run: enable the boot-ready marker
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-live-test -- systemctl enable bootsmith-ready.service

# [6/19] command-2: Run: allow root login on the console without a password (test im…
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-live-test -- passwd -d root

# [7/19] command-3: Run: no gettys on tty2-tty6
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-live-test -- systemctl mask getty-static.service

# [8/19] select-kernel: Select the newest installed kernel
KERNEL=$(bootsmith rootfs select-kernel "$MNT" newest --record /var/tmp/bootsmith/work-test/kernel.json)
read -r KVER KERNEL_IMAGE <<<"$KERNEL"

# [9/19] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-live-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-legacy' --compress 'zstd -9 -q -T0' /boot/initramfs-live-"$KVER".img
bootsmith rootfs copy-out "$MNT" /boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
bootsmith artifacts verify-initramfs /srv/bootsmith/out/initramfs.img "$KVER"

# [10/19] kernel: Copy the kernel out
bootsmith rootfs copy-out "$MNT" "$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [11/19] list-packages: Record the installed packages
dpkg-query --admindir="$MNT"/var/lib/dpkg -W '-f=${Package}\t\t${Version}\t\t${Architecture}\t\t${Maintainer}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [12/19] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [13/19] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts -- 'var/cache/apt/archives/*.deb' var/cache/apt/pkgcache.bin var/cache/apt/srcpkgcache.bin 'var/lib/apt/lists/*' var/log/apt/term.log var/log/apt/history.log

# [14/19] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/debian-12-live.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --id debian-12-live --version bookworm)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [15/19] squashfs: Make rootfs.squashfs (runs beside the next steps, until name-image)
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp zstd -Xcompression-level 3 -processors 2 -e boot &
SQUASHFS_PID=$!

# [16/19] commit: Commit the image (as localhost/bootsmith/debian-12-live:building-test until the squashfs is made)
buildah config --label 'org.opencontainers.image.vendor=bootsmith examples' --label org.opencontainers.image.title=debian-12-live --label io.bootsmith.recipe=debian-12-live --label io.bootsmith.tags=bookworm --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=scratch --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-debian-12-live-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-debian-12-live-test localhost/bootsmith/debian-12-live:building-test)
#   undone on failure by: buildah rmi localhost/bootsmith/debian-12-live:building-test

# [17/19] name-image: Name the image localhost/bootsmith/debian-12-live:bookworm
wait "$SQUASHFS_PID"
buildah tag localhost/bootsmith/debian-12-live:building-test localhost/bootsmith/debian-12-live:bookworm
buildah rmi localhost/bootsmith/debian-12-live:building-test

# [18/19] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-debian-12-live-test
buildah rm bootsmith-debian-12-live-test
bootsmith artifacts remove-superseded debian-12-live

# [19/19] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/debian-12-live.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --image-id "$IMAGE_ID"
