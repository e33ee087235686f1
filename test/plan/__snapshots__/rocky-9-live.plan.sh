#!/usr/bin/env bash
# bootsmith plan for rocky-9-live (9.5, latest) from <repo>/recipes/rocky-9-live.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/16] create-container: Create the working container
buildah from --name bootsmith-rocky-9-live-test scratch
#   undone on failure by: buildah rm bootsmith-rocky-9-live-test

# [2/16] mount: Mount the container's root
MNT=$(buildah mount bootsmith-rocky-9-live-test)
#   undone on failure by: buildah umount bootsmith-rocky-9-live-test

# [3/16] configure-repos: Configure package repositories
mkdir -p /var/tmp/bootsmith/work-test/yum.repos.d
printf '%s' '[baseos]
name=baseos
baseurl=https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/yum.repos.d/baseos.repo
chmod 0644 /var/tmp/bootsmith/work-test/yum.repos.d/baseos.repo
mkdir -p /var/tmp/bootsmith/work-test/image-repos
printf '%s' '[baseos]
name=baseos
baseurl=https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/image-repos/baseos.repo
chmod 0644 /var/tmp/bootsmith/work-test/image-repos/baseos.repo
timeout 3600 buildah copy --chmod 0644 bootsmith-rocky-9-live-test /var/tmp/bootsmith/work-test/image-repos/baseos.repo /etc/yum.repos.d/baseos.repo
mkdir -p /var/tmp/bootsmith/work-test/yum.repos.d
printf '%s' '[appstream]
name=appstream
baseurl=https://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/yum.repos.d/appstream.repo
chmod 0644 /var/tmp/bootsmith/work-test/yum.repos.d/appstream.repo
mkdir -p /var/tmp/bootsmith/work-test/image-repos
printf '%s' '[appstream]
name=appstream
baseurl=https://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/
enabled=1
gpgcheck=1
gpgkey=https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9
' > /var/tmp/bootsmith/work-test/image-repos/appstream.repo
chmod 0644 /var/tmp/bootsmith/work-test/image-repos/appstream.repo
timeout 3600 buildah copy --chmod 0644 bootsmith-rocky-9-live-test /var/tmp/bootsmith/work-test/image-repos/appstream.repo /etc/yum.repos.d/appstream.repo

# [4/16] install-packages: Install packages with dnf
mkdir -p /var/tmp/bootsmith/work-test/rpm-home
printf '%s' '%_dbpath /var/lib/rpm
%_db_backend sqlite
' > /var/tmp/bootsmith/work-test/rpm-home/.rpmmacros
chmod 0644 /var/tmp/bootsmith/work-test/rpm-home/.rpmmacros
HOME=/var/tmp/bootsmith/work-test/rpm-home timeout 3600 dnf --installroot="$MNT" --releasever=9 --setopt=reposdir=/var/tmp/bootsmith/work-test/yum.repos.d --setopt=cachedir=/var/cache/bootsmith/dnf --noplugins -y --setopt=install_weak_deps=False --best --setopt=tsflags=nodocs install @minimal-install kernel dracut-live fuse-overlayfs NetworkManager

# [5/16] select-kernel: Select the newest installed kernel
KVER=$(ls -1 "$MNT"/lib/modules | sort -V | tail -n 1)  # bootsmith sorts like rpmvercmp/dpkg
if [ -e "$MNT"/boot/vmlinuz-"$KVER" ]; then KERNEL_IMAGE=/boot/vmlinuz-"$KVER"; else KERNEL_IMAGE=/lib/modules/"$KVER"/vmlinuz; fi

# [6/16] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-rocky-9-live-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-manager' /boot/initramfs-live-"$KVER".img
install -D -m 0644 "$MNT"/boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
# bootsmith checks that /srv/bootsmith/out/initramfs.img holds lib/modules/$KVER (an initramfs made for another kernel cannot load its modules)

# [7/16] kernel: Copy the kernel out
install -D -m 0644 "$MNT""$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [8/16] list-packages: Record the installed packages
HOME=/var/tmp/bootsmith/work-test/rpm-home rpm --root="$MNT" --dbpath=/var/lib/rpm -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [9/16] clean-leftovers: Remove build leftovers
rm -rf -- "$MNT"/var/cache/dnf "$MNT"/var/log/dnf.log "$MNT"/var/log/dnf.librepo.log "$MNT"/var/log/dnf.rpm.log "$MNT"/var/log/hawkey.log "$MNT"/var/cache/bootsmith/dnf
[ -s "$MNT"/etc/resolv.conf ] || rm -f -- "$MNT"/etc/resolv.conf
[ -s "$MNT"/etc/hostname ] || rm -f -- "$MNT"/etc/hostname
[ -s "$MNT"/etc/hosts ] || rm -f -- "$MNT"/etc/hosts

# [10/16] identity: Write the SBOMs and the image's identity
# bootsmith writes /srv/bootsmith/out/{sbom.cdx.json,sbom.spdx.json} from the package list and "$MNT"/etc/os-release
# bootsmith writes the manifest so far (no rootfs digest) to "$MNT"/usr/lib/bootsmith/manifest.json
# bootsmith sets IMAGE_ID=rocky-9-live IMAGE_VERSION=9.5 in the file "$MNT"/etc/os-release resolves to inside the image

# [11/16] squashfs: Make rootfs.squashfs
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp xz -Xbcj x86 -processors 2 -e boot

# [12/16] commit: Commit the image as localhost/bootsmith/rocky-9-live:9.5
buildah config --label org.opencontainers.image.title=rocky-9-live --label io.bootsmith.recipe=rocky-9-live --label io.bootsmith.tags=9.5,latest --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=scratch bootsmith-rocky-9-live-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-rocky-9-live-test localhost/bootsmith/rocky-9-live:9.5)
buildah tag localhost/bootsmith/rocky-9-live:9.5 localhost/bootsmith/rocky-9-live:latest

# [13/16] teardown: Unmount and remove the working container
buildah umount bootsmith-rocky-9-live-test
buildah rm bootsmith-rocky-9-live-test

# [14/16] manifest: Write manifest.json
# bootsmith writes /srv/bootsmith/out/manifest.json: artifact sha256 and sizes, packages, kernel, timings
(cd /srv/bootsmith/out && sha256sum -- * > /dev/null)

# [15/16] publish-1-s3: Publish to s3
# bootsmith publishes the artifacts to s3: {"type":"s3","endpoint":"http://s3.cluster.local:7480","bucket":"boot-images","prefix":"","publicBase":"http://s3.cluster.local:7480/boot-images","layout":"bootsmith","forcePathStyle":true}

# [16/16] register-1-bss: Register with bss
# bootsmith registers boot parameters with bss at http://bss.cluster.local:27778
