#!/usr/bin/env bash
# bootsmith plan for debian-12-dkms (bookworm) from <repo>/recipes/debian-12-dkms.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/15] create-container: Create the working container
buildah from --name bootsmith-debian-12-dkms-test --arch amd64 --pull=never localhost/bootsmith/debian-12-live:bookworm
#   undone on failure by: buildah rm bootsmith-debian-12-dkms-test
BASE_IMAGE_ID=$(buildah inspect --type container --format '{{.FromImageID}}' bootsmith-debian-12-dkms-test)

# [2/15] mount: Mount the container's root
MNT=$(buildah mount bootsmith-debian-12-dkms-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-debian-12-dkms-test

# [3/15] select-kernel: Select the newest installed kernel
KERNEL=$(bootsmith rootfs select-kernel "$MNT" newest --record /var/tmp/bootsmith/work-test/kernel.json)
read -r KVER KERNEL_IMAGE <<<"$KERNEL"

# [4/15] kernel-modules: Build kernel modules for the selected kernel: DKMS v4l2loopback-dkms; hello-module
timeout 3600 buildah run --isolation chroot --env DEBIAN_FRONTEND=noninteractive bootsmith-debian-12-dkms-test -- apt-get --no-install-recommends update
timeout 3600 buildah run --isolation chroot --env DEBIAN_FRONTEND=noninteractive bootsmith-debian-12-dkms-test -- apt-get install -y --no-install-recommends linux-headers-"$KVER" kmod make v4l2loopback-dkms
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-dkms-test -- dkms autoinstall -k "$KVER"
buildah run --isolation chroot bootsmith-debian-12-dkms-test -- rm -rf /usr/src/bootsmith-module
buildah copy bootsmith-debian-12-dkms-test <repo>/recipes/files/hello-module /usr/src/bootsmith-module
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-dkms-test -- make -C /lib/modules/"$KVER"/build M=/usr/src/bootsmith-module modules
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-dkms-test -- make -C /lib/modules/"$KVER"/build M=/usr/src/bootsmith-module INSTALL_MOD_DIR=extra modules_install
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-dkms-test -- depmod -a "$KVER"
bootsmith rootfs check-modules "$MNT" "$KVER"

# [5/15] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-dkms-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-legacy' --add-drivers v4l2loopback --compress 'zstd -9 -q -T0' /boot/initramfs-live-"$KVER".img
bootsmith rootfs copy-out "$MNT" /boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
bootsmith artifacts verify-initramfs /srv/bootsmith/out/initramfs.img "$KVER"

# [6/15] kernel: Copy the kernel out
bootsmith rootfs copy-out "$MNT" "$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [7/15] list-packages: Record the installed packages
dpkg-query --admindir="$MNT"/var/lib/dpkg -W '-f=${Package}\t\t${Version}\t\t${Architecture}\t\t${Maintainer}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [8/15] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [9/15] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts -- 'var/cache/apt/archives/*.deb' var/cache/apt/pkgcache.bin var/cache/apt/srcpkgcache.bin 'var/lib/apt/lists/*' var/log/apt/term.log var/log/apt/history.log

# [10/15] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/debian-12-dkms.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --id debian-12-dkms --version bookworm)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [11/15] squashfs: Make rootfs.squashfs (runs beside the next steps, until name-image)
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp zstd -Xcompression-level 3 -processors 2 -e boot &
SQUASHFS_PID=$!

# [12/15] commit: Commit the image (as localhost/bootsmith/debian-12-dkms:building-test until the squashfs is made)
buildah config --label org.opencontainers.image.title=debian-12-dkms --label io.bootsmith.recipe=debian-12-dkms --label io.bootsmith.tags=bookworm --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=localhost/bootsmith/debian-12-live:bookworm --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-debian-12-dkms-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-debian-12-dkms-test localhost/bootsmith/debian-12-dkms:building-test)
#   undone on failure by: buildah rmi localhost/bootsmith/debian-12-dkms:building-test

# [13/15] name-image: Name the image localhost/bootsmith/debian-12-dkms:bookworm
wait "$SQUASHFS_PID"
buildah tag localhost/bootsmith/debian-12-dkms:building-test localhost/bootsmith/debian-12-dkms:bookworm
buildah rmi localhost/bootsmith/debian-12-dkms:building-test

# [14/15] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-debian-12-dkms-test
buildah rm bootsmith-debian-12-dkms-test
bootsmith artifacts remove-superseded debian-12-dkms

# [15/15] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/debian-12-dkms.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --image-id "$IMAGE_ID" --base-image-id "$BASE_IMAGE_ID"
