#!/usr/bin/env bash
# bootsmith plan for rocky-9-base (9.5) from <repo>/recipes/rocky-9-base.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/13] create-container: Create the working container
buildah from --name bootsmith-rocky-9-base-test --arch amd64 scratch
#   undone on failure by: buildah rm bootsmith-rocky-9-base-test

# [2/13] mount: Mount the container's root
MNT=$(buildah mount bootsmith-rocky-9-base-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-rocky-9-base-test

# [3/13] configure-repos: Configure package repositories
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
timeout 3600 buildah copy --chmod 0644 bootsmith-rocky-9-base-test /var/tmp/bootsmith/work-test/image-repos/baseos.repo /etc/yum.repos.d/baseos.repo
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
timeout 3600 buildah copy --chmod 0644 bootsmith-rocky-9-base-test /var/tmp/bootsmith/work-test/image-repos/appstream.repo /etc/yum.repos.d/appstream.repo

# [4/13] install-packages: Install packages with dnf
mkdir -p /var/tmp/bootsmith/work-test/rpm-home
(umask 077; set -C; printf '%s' '%_dbpath /var/lib/rpm
%_db_backend sqlite
' > /var/tmp/bootsmith/work-test/rpm-home/.rpmmacros)
chmod 0644 /var/tmp/bootsmith/work-test/rpm-home/.rpmmacros
mkdir -p /var/tmp/bootsmith/work-test
(umask 077; set -C; printf '%s' '[main]
' > /var/tmp/bootsmith/work-test/dnf.conf)
chmod 0644 /var/tmp/bootsmith/work-test/dnf.conf
HOME=/var/tmp/bootsmith/work-test/rpm-home timeout 3600 dnf --installroot="$MNT" --config=/var/tmp/bootsmith/work-test/dnf.conf --releasever=9 --forcearch=x86_64 --setopt=reposdir=/var/tmp/bootsmith/work-test/yum.repos.d --setopt=cachedir=/var/cache/bootsmith/dnf --setopt=keepcache=True --noplugins -y --setopt=skip_if_unavailable=False --setopt=install_weak_deps=False --best --setopt=tsflags=nodocs install @minimal-install kernel dracut-live fuse-overlayfs NetworkManager chrony

# [5/13] command-1: Run: time sync on
timeout 1800 buildah run --isolation chroot bootsmith-rocky-9-base-test -- systemctl enable chronyd

# [6/13] list-packages: Record the installed packages
HOME=/var/tmp/bootsmith/work-test/rpm-home rpm --root="$MNT" --dbpath=/var/lib/rpm -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [7/13] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [8/13] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts --if-empty var/cache/bootsmith -- var/cache/dnf var/log/dnf.log var/log/dnf.librepo.log var/log/dnf.rpm.log var/log/hawkey.log var/cache/bootsmith/dnf

# [9/13] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/rocky-9-base.yaml --packages /var/tmp/bootsmith/work-test/packages.tsv --id rocky-9-base --version 9.5)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [10/13] commit: Commit the image as localhost/bootsmith/rocky-9-base:9.5
buildah config --label org.opencontainers.image.title=rocky-9-base --label io.bootsmith.recipe=rocky-9-base --label io.bootsmith.tags=9.5 --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=scratch --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-rocky-9-base-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-rocky-9-base-test localhost/bootsmith/rocky-9-base:9.5)

# [11/13] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-rocky-9-base-test
buildah rm bootsmith-rocky-9-base-test
bootsmith artifacts remove-superseded rocky-9-base

# [12/13] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/rocky-9-base.yaml --packages /var/tmp/bootsmith/work-test/packages.tsv --image-id "$IMAGE_ID"

# [13/13] publish-1-registry: Publish to registry
bootsmith publish /srv/bootsmith/out --to registry:registry.cluster.local:5000/images/rocky-9-base --record /var/tmp/bootsmith/work-test/published-1.json
