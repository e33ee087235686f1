#!/usr/bin/env bash
# bootsmith plan for rocky-9-compute (9.5) from <repo>/recipes/rocky-9-compute.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/19] create-container: Create the working container
buildah from --name bootsmith-rocky-9-compute-test --arch amd64 --pull=never localhost/bootsmith/rocky-9-base:9.5
#   undone on failure by: buildah rm bootsmith-rocky-9-compute-test
BASE_IMAGE_ID=$(buildah inspect --type container --format '{{.FromImageID}}' bootsmith-rocky-9-compute-test)

# [2/19] mount: Mount the container's root
MNT=$(buildah mount bootsmith-rocky-9-compute-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-rocky-9-compute-test

# [3/19] install-packages: Install packages with dnf
timeout 3600 mkdir -p /var/cache/bootsmith/dnf-in-image
timeout 3600 buildah run --isolation chroot --volume /var/cache/bootsmith/dnf-in-image:/var/cache/bootsmith-dnf bootsmith-rocky-9-compute-test -- dnf --setopt=cachedir=/var/cache/bootsmith-dnf --setopt=keepcache=True -y --setopt=skip_if_unavailable=False --setopt=install_weak_deps=False --best --setopt=tsflags=nodocs install slurm-slurmd munge rdma-core infiniband-diags

# [4/19] copy-files: Copy files into the image
mkdir -p /var/tmp/bootsmith/work-test/files/0
(umask 077; set -C; printf '%s' 'Compute node image built by bootsmith
' > /var/tmp/bootsmith/work-test/files/0/motd)
chmod 0600 /var/tmp/bootsmith/work-test/files/0/motd
buildah copy --chmod 0644 bootsmith-rocky-9-compute-test /var/tmp/bootsmith/work-test/files/0/motd /etc/motd

# [5/19] command-1: Run: enable compute services
timeout 1800 buildah run --isolation chroot bootsmith-rocky-9-compute-test -- /bin/sh -ec 'systemctl enable munge
systemctl enable slurmd
'

# [6/19] select-kernel: Select the newest installed kernel
KERNEL=$(bootsmith rootfs select-kernel "$MNT" newest --record /var/tmp/bootsmith/work-test/kernel.json)
read -r KVER KERNEL_IMAGE <<<"$KERNEL"

# [7/19] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-rocky-9-compute-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-manager' /boot/initramfs-live-"$KVER".img
bootsmith rootfs copy-out "$MNT" /boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
bootsmith artifacts verify-initramfs /srv/bootsmith/out/initramfs.img "$KVER"

# [8/19] kernel: Copy the kernel out
bootsmith rootfs copy-out "$MNT" "$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [9/19] list-packages: Record the installed packages
HOME=/var/tmp/bootsmith/work-test/rpm-home rpm --root="$MNT" --dbpath=/var/lib/rpm -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [10/19] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [11/19] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts --if-empty var/cache/bootsmith --if-empty var/cache/bootsmith-dnf -- var/cache/dnf var/log/dnf.log var/log/dnf.librepo.log var/log/dnf.rpm.log var/log/hawkey.log var/cache/bootsmith/dnf

# [12/19] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/rocky-9-compute.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --id rocky-9-compute --version 9.5)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [13/19] squashfs: Make rootfs.squashfs (runs beside the next steps, until name-image)
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp zstd -Xcompression-level 3 -processors 2 -e boot &
SQUASHFS_PID=$!

# [14/19] commit: Commit the image (as localhost/bootsmith/rocky-9-compute:building-test until the squashfs is made)
buildah config --label org.opencontainers.image.title=rocky-9-compute --label io.bootsmith.recipe=rocky-9-compute --label io.bootsmith.tags=9.5 --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=localhost/bootsmith/rocky-9-base:9.5 --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-rocky-9-compute-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-rocky-9-compute-test localhost/bootsmith/rocky-9-compute:building-test)
#   undone on failure by: buildah rmi localhost/bootsmith/rocky-9-compute:building-test

# [15/19] name-image: Name the image localhost/bootsmith/rocky-9-compute:9.5
wait "$SQUASHFS_PID"
buildah tag localhost/bootsmith/rocky-9-compute:building-test localhost/bootsmith/rocky-9-compute:9.5
buildah rmi localhost/bootsmith/rocky-9-compute:building-test

# [16/19] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-rocky-9-compute-test
buildah rm bootsmith-rocky-9-compute-test
bootsmith artifacts remove-superseded rocky-9-compute

# [17/19] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/rocky-9-compute.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --image-id "$IMAGE_ID" --base-image-id "$BASE_IMAGE_ID"

# [18/19] publish-1-s3: Publish to s3
bootsmith publish /srv/bootsmith/out --to s3://boot-images --endpoint http://s3.cluster.local:7480 --public-base http://s3.cluster.local:7480/boot-images --record /var/tmp/bootsmith/work-test/published-1.json

# [19/19] register-1-bss: Register with bss
bootsmith register /var/tmp/bootsmith/work-test/published-1.json --bss http://bss.cluster.local:27778 --nid 1 --nid 2 --nid 3 --nid 4 --params-template 'ro ip=dhcp selinux=0 console=ttyS0,115200 root=live:{{ rootfs.url }} rd.live.overlay.overlayfs=1'
