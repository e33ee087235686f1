#!/usr/bin/env bash
# bootsmith plan for leap-15-live (15.6, latest) from <repo>/recipes/leap-15-live.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/17] create-container: Create the working container
buildah from --name bootsmith-leap-15-live-test --arch amd64 --tls-verify=true --pull=missing registry.opensuse.org/opensuse/leap:15.6
#   undone on failure by: buildah rm bootsmith-leap-15-live-test
BASE_IMAGE_ID=$(buildah inspect --type container --format '{{.FromImageID}}' bootsmith-leap-15-live-test)

# [2/17] mount: Mount the container's root
MNT=$(buildah mount bootsmith-leap-15-live-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-leap-15-live-test

# [3/17] configure-repos: Configure package repositories
mkdir -p /var/tmp/bootsmith/work-test/zypp.repos.d
(umask 077; set -C; printf '%s' '[repo-oss]
name=repo-oss
baseurl=https://download.opensuse.org/distribution/leap/15.6/repo/oss/
enabled=1
gpgcheck=1
gpgkey=https://download.opensuse.org/distribution/leap/15.6/repo/oss/repodata/repomd.xml.key
autorefresh=1
type=rpm-md
repo_gpgcheck=1
pkg_gpgcheck=1
' > /var/tmp/bootsmith/work-test/zypp.repos.d/repo-oss.repo)
chmod 0644 /var/tmp/bootsmith/work-test/zypp.repos.d/repo-oss.repo
mkdir -p /var/tmp/bootsmith/work-test/image-repos
(umask 077; set -C; printf '%s' '[repo-oss]
name=repo-oss
baseurl=https://download.opensuse.org/distribution/leap/15.6/repo/oss/
enabled=1
gpgcheck=1
gpgkey=https://download.opensuse.org/distribution/leap/15.6/repo/oss/repodata/repomd.xml.key
autorefresh=1
type=rpm-md
repo_gpgcheck=1
pkg_gpgcheck=1
' > /var/tmp/bootsmith/work-test/image-repos/repo-oss.repo)
chmod 0644 /var/tmp/bootsmith/work-test/image-repos/repo-oss.repo
timeout 3600 buildah copy --chmod 0644 bootsmith-leap-15-live-test /var/tmp/bootsmith/work-test/image-repos/repo-oss.repo /etc/zypp/repos.d/repo-oss.repo
mkdir -p /var/tmp/bootsmith/work-test/zypp.repos.d
(umask 077; set -C; printf '%s' '[repo-update]
name=repo-update
baseurl=https://download.opensuse.org/update/leap/15.6/oss/
enabled=1
gpgcheck=1
autorefresh=1
type=rpm-md
repo_gpgcheck=1
pkg_gpgcheck=1
' > /var/tmp/bootsmith/work-test/zypp.repos.d/repo-update.repo)
chmod 0644 /var/tmp/bootsmith/work-test/zypp.repos.d/repo-update.repo
mkdir -p /var/tmp/bootsmith/work-test/image-repos
(umask 077; set -C; printf '%s' '[repo-update]
name=repo-update
baseurl=https://download.opensuse.org/update/leap/15.6/oss/
enabled=1
gpgcheck=1
autorefresh=1
type=rpm-md
repo_gpgcheck=1
pkg_gpgcheck=1
' > /var/tmp/bootsmith/work-test/image-repos/repo-update.repo)
chmod 0644 /var/tmp/bootsmith/work-test/image-repos/repo-update.repo
timeout 3600 buildah copy --chmod 0644 bootsmith-leap-15-live-test /var/tmp/bootsmith/work-test/image-repos/repo-update.repo /etc/zypp/repos.d/repo-update.repo

# [4/17] install-packages: Install packages with zypper
mkdir -p /var/tmp/bootsmith/work-test
(umask 077; set -C; printf '%s' '%_excludedocs 1
' > /var/tmp/bootsmith/work-test/zypper-nodocs.macros)
chmod 0644 /var/tmp/bootsmith/work-test/zypper-nodocs.macros
timeout 3600 buildah copy --chmod 0644 bootsmith-leap-15-live-test /var/tmp/bootsmith/work-test/zypper-nodocs.macros /etc/rpm/macros.bootsmith-nodocs
timeout 3600 buildah run --isolation chroot bootsmith-leap-15-live-test -- rpm --import https://download.opensuse.org/distribution/leap/15.6/repo/oss/repodata/repomd.xml.key
timeout 3600 buildah run --isolation chroot bootsmith-leap-15-live-test -- zypper --non-interactive refresh
timeout 3600 buildah run --isolation chroot bootsmith-leap-15-live-test -- zypper --non-interactive --no-refresh install --auto-agree-with-licenses --no-recommends 'pattern() = minimal_base' kernel-default dracut curl iproute2 NetworkManager || case $? in 107) ;; *) false ;; esac
timeout 3600 buildah run --isolation chroot bootsmith-leap-15-live-test -- rm -f /etc/rpm/macros.bootsmith-nodocs

# [5/17] select-kernel: Select the newest installed kernel
KERNEL=$(bootsmith rootfs select-kernel "$MNT" newest --record /var/tmp/bootsmith/work-test/kernel.json)
read -r KVER KERNEL_IMAGE <<<"$KERNEL"

# [6/17] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-leap-15-live-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-manager' /boot/initramfs-live-"$KVER".img
bootsmith rootfs copy-out "$MNT" /boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
bootsmith artifacts verify-initramfs /srv/bootsmith/out/initramfs.img "$KVER"

# [7/17] kernel: Copy the kernel out
bootsmith rootfs copy-out "$MNT" "$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [8/17] list-packages: Record the installed packages
buildah run --isolation chroot bootsmith-leap-15-live-test -- rpm -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [9/17] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [10/17] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts --if-empty var/cache/bootsmith -- var/cache/zypp var/log/zypp var/log/zypper.log run/zypp.pid var/cache/bootsmith/zypp

# [11/17] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/leap-15-live.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --id leap-15-live --version 15.6)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [12/17] squashfs: Make rootfs.squashfs (runs beside the next steps, until name-image)
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp xz -Xbcj x86 -processors 2 -e boot &
SQUASHFS_PID=$!

# [13/17] commit: Commit the image (as localhost/bootsmith/leap-15-live:building-test until the squashfs is made)
buildah config --label org.opencontainers.image.title=leap-15-live --label io.bootsmith.recipe=leap-15-live --label io.bootsmith.tags=15.6,latest --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=registry.opensuse.org/opensuse/leap:15.6 --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-leap-15-live-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-leap-15-live-test localhost/bootsmith/leap-15-live:building-test)
#   undone on failure by: buildah rmi localhost/bootsmith/leap-15-live:building-test

# [14/17] name-image: Name the image localhost/bootsmith/leap-15-live:15.6 and its other tags
wait "$SQUASHFS_PID"
buildah tag localhost/bootsmith/leap-15-live:building-test localhost/bootsmith/leap-15-live:15.6 localhost/bootsmith/leap-15-live:latest
buildah rmi localhost/bootsmith/leap-15-live:building-test

# [15/17] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-leap-15-live-test
buildah rm bootsmith-leap-15-live-test
bootsmith artifacts remove-superseded leap-15-live

# [16/17] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/leap-15-live.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --image-id "$IMAGE_ID" --base-image-id "$BASE_IMAGE_ID"

# [17/17] publish-1-s3: Publish to s3
bootsmith publish /srv/bootsmith/out --to s3://boot-images --endpoint http://s3.cluster.local:7480 --public-base http://s3.cluster.local:7480/boot-images --record /var/tmp/bootsmith/work-test/published-1.json
