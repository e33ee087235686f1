#!/usr/bin/env bash
# bootsmith plan for rocky-9-live (9.5, latest) from <repo>/recipes/rocky-9-live.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/18] create-container: Create the working container
buildah from --name bootsmith-rocky-9-live-test --arch amd64 scratch
#   undone on failure by: buildah rm bootsmith-rocky-9-live-test

# [2/18] mount: Mount the container's root
MNT=$(buildah mount bootsmith-rocky-9-live-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-rocky-9-live-test

# [3/18] configure-repos: Configure package repositories
mkdir -p /var/tmp/bootsmith/work-test/yum.repos.d
(umask 077; set -C; printf '%s' '[baseos]
name=baseos
baseurl=https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/yum.repos.d/baseos.repo)
chmod 0644 /var/tmp/bootsmith/work-test/yum.repos.d/baseos.repo
mkdir -p /var/tmp/bootsmith/work-test/image-repos
(umask 077; set -C; printf '%s' '[baseos]
name=baseos
baseurl=https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/image-repos/baseos.repo)
chmod 0644 /var/tmp/bootsmith/work-test/image-repos/baseos.repo
timeout 3600 buildah copy --chmod 0644 bootsmith-rocky-9-live-test /var/tmp/bootsmith/work-test/image-repos/baseos.repo /etc/yum.repos.d/baseos.repo
mkdir -p /var/tmp/bootsmith/work-test/yum.repos.d
(umask 077; set -C; printf '%s' '[appstream]
name=appstream
baseurl=https://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/yum.repos.d/appstream.repo)
chmod 0644 /var/tmp/bootsmith/work-test/yum.repos.d/appstream.repo
mkdir -p /var/tmp/bootsmith/work-test/image-repos
(umask 077; set -C; printf '%s' '[appstream]
name=appstream
baseurl=https://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/image-repos/appstream.repo)
chmod 0644 /var/tmp/bootsmith/work-test/image-repos/appstream.repo
timeout 3600 buildah copy --chmod 0644 bootsmith-rocky-9-live-test /var/tmp/bootsmith/work-test/image-repos/appstream.repo /etc/yum.repos.d/appstream.repo

# [4/18] install-packages: Install packages with dnf
mkdir -p /var/tmp/bootsmith/work-test/rpm-home
(umask 077; set -C; printf '%s' '%_dbpath /var/lib/rpm
%_db_backend sqlite
' > /var/tmp/bootsmith/work-test/rpm-home/.rpmmacros)
chmod 0644 /var/tmp/bootsmith/work-test/rpm-home/.rpmmacros
mkdir -p /var/tmp/bootsmith/work-test
(umask 077; set -C; printf '%s' '[main]
' > /var/tmp/bootsmith/work-test/dnf.conf)
chmod 0644 /var/tmp/bootsmith/work-test/dnf.conf
HOME=/var/tmp/bootsmith/work-test/rpm-home timeout 3600 dnf --installroot="$MNT" --config=/var/tmp/bootsmith/work-test/dnf.conf --releasever=9 --forcearch=x86_64 --setopt=reposdir=/var/tmp/bootsmith/work-test/yum.repos.d --setopt=cachedir=/var/cache/bootsmith/dnf --setopt=keepcache=True --noplugins -y --setopt=skip_if_unavailable=False --setopt=install_weak_deps=False --best --setopt=tsflags=nodocs install @minimal-install kernel dracut-live fuse-overlayfs NetworkManager

# [5/18] select-kernel: Select the newest installed kernel
KERNEL=$(bootsmith rootfs select-kernel "$MNT" newest --record /var/tmp/bootsmith/work-test/kernel.json)
read -r KVER KERNEL_IMAGE <<<"$KERNEL"

# [6/18] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-rocky-9-live-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-manager' /boot/initramfs-live-"$KVER".img
bootsmith rootfs copy-out "$MNT" /boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
bootsmith artifacts verify-initramfs /srv/bootsmith/out/initramfs.img "$KVER"

# [7/18] kernel: Copy the kernel out
bootsmith rootfs copy-out "$MNT" "$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [8/18] list-packages: Record the installed packages
HOME=/var/tmp/bootsmith/work-test/rpm-home rpm --root="$MNT" --dbpath=/var/lib/rpm -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [9/18] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [10/18] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts --if-empty var/cache/bootsmith -- var/cache/dnf var/log/dnf.log var/log/dnf.librepo.log var/log/dnf.rpm.log var/log/hawkey.log var/cache/bootsmith/dnf

# [11/18] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/rocky-9-live.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --id rocky-9-live --version 9.5)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [12/18] squashfs: Make rootfs.squashfs (runs beside the next steps, until name-image)
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp xz -Xbcj x86 -processors 2 -e boot &
SQUASHFS_PID=$!

# [13/18] commit: Commit the image (as localhost/bootsmith/rocky-9-live:building-test until the squashfs is made)
buildah config --label org.opencontainers.image.title=rocky-9-live --label io.bootsmith.recipe=rocky-9-live --label io.bootsmith.tags=9.5,latest --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=scratch --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-rocky-9-live-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-rocky-9-live-test localhost/bootsmith/rocky-9-live:building-test)
#   undone on failure by: buildah rmi localhost/bootsmith/rocky-9-live:building-test

# [14/18] name-image: Name the image localhost/bootsmith/rocky-9-live:9.5 and its other tags
wait "$SQUASHFS_PID"
buildah tag localhost/bootsmith/rocky-9-live:building-test localhost/bootsmith/rocky-9-live:9.5 localhost/bootsmith/rocky-9-live:latest
buildah rmi localhost/bootsmith/rocky-9-live:building-test

# [15/18] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-rocky-9-live-test
buildah rm bootsmith-rocky-9-live-test
bootsmith artifacts remove-superseded rocky-9-live

# [16/18] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/rocky-9-live.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --image-id "$IMAGE_ID"

# [17/18] publish-1-s3: Publish to s3
bootsmith publish /srv/bootsmith/out --to s3://boot-images --endpoint http://s3.cluster.local:7480 --public-base http://s3.cluster.local:7480/boot-images --record /var/tmp/bootsmith/work-test/published-1.json

# [18/18] register-1-bss: Register with bss
bootsmith register /var/tmp/bootsmith/work-test/published-1.json --bss http://bss.cluster.local:27778 --mac 52:54:00:00:00:01 --mac 52:54:00:00:00:02 --host x1000c0s0b0n0 --params-template 'nomodeset ro ip=dhcp selinux=0 console=ttyS0,115200 ip6=off rd.shell root=live:{{ rootfs.url }}'
