#!/usr/bin/env bash
# bootsmith plan for debian-12-users (bookworm) from <repo>/recipes/debian-12-users.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/16] create-container: Create the working container
buildah from --name bootsmith-debian-12-users-test --arch amd64 --pull=never localhost/bootsmith/debian-12-live:bookworm
#   undone on failure by: buildah rm bootsmith-debian-12-users-test
BASE_IMAGE_ID=$(buildah inspect --type container --format '{{.FromImageID}}' bootsmith-debian-12-users-test)

# [2/16] mount: Mount the container's root
MNT=$(buildah mount bootsmith-debian-12-users-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-debian-12-users-test

# [3/16] create-accounts: Create users and groups with fixed ids
# adds group munge=991, group slurm=992, group hpcusers=5000, user munge=991, user slurm=992, user alice=5001
bootsmith rootfs accounts "$MNT" --recipe <repo>/recipes/debian-12-users.yaml

# [4/16] install-packages: Install packages with apt-get
timeout 3600 buildah run --isolation chroot --env DEBIAN_FRONTEND=noninteractive bootsmith-debian-12-users-test -- apt-get --no-install-recommends update
timeout 3600 buildah run --isolation chroot bootsmith-debian-12-users-test -- dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --add /etc/kernel/postinst.d/dracut
mkdir -p /var/tmp/bootsmith/work-test/apt-hooks
(umask 077; set -C; printf '%s' '#!/bin/sh
# bootsmith: the package-time initramfs is skipped while packages install
exit 0
' > /var/tmp/bootsmith/work-test/apt-hooks/dracut-noop)
chmod 0755 /var/tmp/bootsmith/work-test/apt-hooks/dracut-noop
timeout 3600 buildah copy --chmod 0755 bootsmith-debian-12-users-test /var/tmp/bootsmith/work-test/apt-hooks/dracut-noop /etc/kernel/postinst.d/dracut
timeout 3600 buildah run --isolation chroot --env DEBIAN_FRONTEND=noninteractive bootsmith-debian-12-users-test -- apt-get install -y --no-install-recommends munge slurmd
timeout 3600 buildah run --isolation chroot bootsmith-debian-12-users-test -- rm -f /etc/kernel/postinst.d/dracut
timeout 3600 buildah run --isolation chroot bootsmith-debian-12-users-test -- dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --remove /etc/kernel/postinst.d/dracut

# [5/16] select-kernel: Select the newest installed kernel
KERNEL=$(bootsmith rootfs select-kernel "$MNT" newest --record /var/tmp/bootsmith/work-test/kernel.json)
read -r KVER KERNEL_IMAGE <<<"$KERNEL"

# [6/16] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-users-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-legacy' --compress 'zstd -9 -q -T0' /boot/initramfs-live-"$KVER".img
bootsmith rootfs copy-out "$MNT" /boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
bootsmith artifacts verify-initramfs /srv/bootsmith/out/initramfs.img "$KVER"

# [7/16] kernel: Copy the kernel out
bootsmith rootfs copy-out "$MNT" "$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [8/16] list-packages: Record the installed packages
dpkg-query --admindir="$MNT"/var/lib/dpkg -W '-f=${Package}\t\t${Version}\t\t${Architecture}\t\t${Maintainer}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [9/16] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [10/16] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts -- 'var/cache/apt/archives/*.deb' var/cache/apt/pkgcache.bin var/cache/apt/srcpkgcache.bin 'var/lib/apt/lists/*' var/log/apt/term.log var/log/apt/history.log

# [11/16] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/debian-12-users.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --id debian-12-users --version bookworm)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [12/16] squashfs: Make rootfs.squashfs (runs beside the next steps, until name-image)
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp zstd -Xcompression-level 3 -processors 2 -e boot &
SQUASHFS_PID=$!

# [13/16] commit: Commit the image (as localhost/bootsmith/debian-12-users:building-test until the squashfs is made)
buildah config --label org.opencontainers.image.title=debian-12-users --label io.bootsmith.recipe=debian-12-users --label io.bootsmith.tags=bookworm --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=localhost/bootsmith/debian-12-live:bookworm --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-debian-12-users-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-debian-12-users-test localhost/bootsmith/debian-12-users:building-test)
#   undone on failure by: buildah rmi localhost/bootsmith/debian-12-users:building-test

# [14/16] name-image: Name the image localhost/bootsmith/debian-12-users:bookworm
wait "$SQUASHFS_PID"
buildah tag localhost/bootsmith/debian-12-users:building-test localhost/bootsmith/debian-12-users:bookworm
buildah rmi localhost/bootsmith/debian-12-users:building-test

# [15/16] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-debian-12-users-test
buildah rm bootsmith-debian-12-users-test
bootsmith artifacts remove-superseded debian-12-users

# [16/16] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/debian-12-users.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --image-id "$IMAGE_ID" --base-image-id "$BASE_IMAGE_ID"
