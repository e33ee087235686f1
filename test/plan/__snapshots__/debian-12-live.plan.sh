#!/usr/bin/env bash
# bootsmith plan for debian-12-live (bookworm) from <repo>/recipes/debian-12-live.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/16] create-container: Create the working container
buildah from --name bootsmith-debian-12-live-test scratch
#   undone on failure by: buildah rm bootsmith-debian-12-live-test

# [2/16] mount: Mount the container's root
MNT=$(buildah mount bootsmith-debian-12-live-test)
#   undone on failure by: buildah umount bootsmith-debian-12-live-test

# [3/16] install-packages: Install packages with mmdebstrap
timeout 3600 mmdebstrap --mode=root --variant=minbase --architectures=amd64 '--aptopt=APT::Install-Recommends "false"' '--dpkgopt=path-exclude=/usr/share/man/*' '--dpkgopt=path-exclude=/usr/share/doc/*' '--dpkgopt=path-include=/usr/share/doc/*/copyright' '--dpkgopt=path-exclude=/usr/share/locale/*' '--dpkgopt=path-exclude=/usr/share/info/*' --include=linux-image-amd64,systemd-sysv,dracut,dracut-live,dracut-network,curl,ca-certificates,isc-dhcp-client,iproute2,procps,kmod,udev,zstd --skip=essential/unlink '--setup-hook=mkdir -p /var/cache/bootsmith/apt/archives "$1/var/cache/apt/archives"' '--setup-hook=sync-in /var/cache/bootsmith/apt/archives /var/cache/apt/archives/' '--customize-hook=sync-out /var/cache/apt/archives /var/cache/bootsmith/apt/archives' '--essential-hook=mkdir -p "$1/etc/kernel/postinst.d"; chroot "$1" dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --add /etc/kernel/postinst.d/dracut; printf '\''#!/bin/sh\n# bootsmith: the package-time initramfs is skipped while packages install\nexit 0\n'\'' > "$1/etc/kernel/postinst.d/dracut"; chmod 755 "$1/etc/kernel/postinst.d/dracut"' '--customize-hook=rm -f "$1/etc/kernel/postinst.d/dracut"; chroot "$1" dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --remove /etc/kernel/postinst.d/dracut' bookworm "$MNT" /etc/apt/sources.list.d/debian.sources

# [4/16] copy-files: Copy files into the image
mkdir -p /var/tmp/bootsmith/work-test/files/0
printf '%s' 'debian-live
' > /var/tmp/bootsmith/work-test/files/0/hostname
chmod 0644 /var/tmp/bootsmith/work-test/files/0/hostname
buildah copy --chmod 0644 bootsmith-debian-12-live-test /var/tmp/bootsmith/work-test/files/0/hostname /etc/hostname
mkdir -p /var/tmp/bootsmith/work-test/files/1
printf '%s' '' > /var/tmp/bootsmith/work-test/files/1/fstab
chmod 0644 /var/tmp/bootsmith/work-test/files/1/fstab
buildah copy --chmod 0644 bootsmith-debian-12-live-test /var/tmp/bootsmith/work-test/files/1/fstab /etc/fstab
buildah copy --chmod 0755 bootsmith-debian-12-live-test <repo>/recipes/files/bootsmith-ready.sh /usr/local/sbin/bootsmith-ready
buildah copy --chmod 0644 bootsmith-debian-12-live-test <repo>/recipes/files/bootsmith-ready.service /etc/systemd/system/bootsmith-ready.service

# [5/16] command-1: Run: enable the boot-ready marker
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-live-test -- systemctl enable bootsmith-ready.service

# [6/16] command-2: Run: allow root login on the console without a password (test im…
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-live-test -- passwd -d root

# [7/16] select-kernel: Select the newest installed kernel
KVER=$(ls -1 "$MNT"/lib/modules | sort -V | tail -n 1)  # bootsmith sorts like rpmvercmp/dpkg
if [ -e "$MNT"/boot/vmlinuz-"$KVER" ]; then KERNEL_IMAGE=/boot/vmlinuz-"$KVER"; else KERNEL_IMAGE=/lib/modules/"$KVER"/vmlinuz; fi

# [8/16] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-live-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-legacy' --compress zstd /boot/initramfs-live-"$KVER".img
install -D -m 0644 "$MNT"/boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
# bootsmith checks that /srv/bootsmith/out/initramfs.img holds lib/modules/$KVER (an initramfs made for another kernel cannot load its modules)

# [9/16] kernel: Copy the kernel out
install -D -m 0644 "$MNT""$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [10/16] list-packages: Record the installed packages
dpkg-query --admindir="$MNT"/var/lib/dpkg -W '-f=${Package}\t\t${Version}\t\t${Architecture}\t\t${Maintainer}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [11/16] clean-leftovers: Remove build leftovers
rm -rf -- "$MNT"/var/cache/apt/archives/*.deb "$MNT"/var/cache/apt/pkgcache.bin "$MNT"/var/cache/apt/srcpkgcache.bin "$MNT"/var/lib/apt/lists/* "$MNT"/var/log/apt/term.log "$MNT"/var/log/apt/history.log
[ -s "$MNT"/etc/resolv.conf ] || rm -f -- "$MNT"/etc/resolv.conf
[ -s "$MNT"/etc/hostname ] || rm -f -- "$MNT"/etc/hostname
[ -s "$MNT"/etc/hosts ] || rm -f -- "$MNT"/etc/hosts

# [12/16] identity: Write the SBOMs and the image's identity
# bootsmith writes /srv/bootsmith/out/{sbom.cdx.json,sbom.spdx.json} from the package list and "$MNT"/etc/os-release
# bootsmith writes the manifest so far (no rootfs digest) to "$MNT"/usr/lib/bootsmith/manifest.json
# bootsmith sets IMAGE_ID=debian-12-live IMAGE_VERSION=bookworm in the file "$MNT"/etc/os-release resolves to inside the image

# [13/16] squashfs: Make rootfs.squashfs
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp zstd -Xcompression-level 3 -processors 2 -e boot

# [14/16] commit: Commit the image as localhost/bootsmith/debian-12-live:bookworm
buildah config --label 'org.opencontainers.image.vendor=bootsmith examples' --label org.opencontainers.image.title=debian-12-live --label io.bootsmith.recipe=debian-12-live --label io.bootsmith.tags=bookworm --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=scratch bootsmith-debian-12-live-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-debian-12-live-test localhost/bootsmith/debian-12-live:bookworm)

# [15/16] teardown: Unmount and remove the working container
buildah umount bootsmith-debian-12-live-test
buildah rm bootsmith-debian-12-live-test

# [16/16] manifest: Write manifest.json
# bootsmith writes /srv/bootsmith/out/manifest.json: artifact sha256 and sizes, packages, kernel, timings
(cd /srv/bootsmith/out && sha256sum -- * > /dev/null)
