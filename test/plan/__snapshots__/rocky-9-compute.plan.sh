#!/usr/bin/env bash
# bootsmith plan for rocky-9-compute (9.5) from <repo>/recipes/rocky-9-compute.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/16] create-container: Create the working container
buildah from --name bootsmith-rocky-9-compute-test --pull=never localhost/bootsmith/rocky-9-base:9.5
#   undone on failure by: buildah rm bootsmith-rocky-9-compute-test

# [2/16] mount: Mount the container's root
MNT=$(buildah mount bootsmith-rocky-9-compute-test)
#   undone on failure by: buildah umount bootsmith-rocky-9-compute-test

# [3/16] install-packages: Install packages with dnf
timeout 3600 buildah run --isolation chroot bootsmith-rocky-9-compute-test -- dnf -y --setopt=install_weak_deps=False --best --setopt=tsflags=nodocs install slurm-slurmd munge rdma-core infiniband-diags

# [4/16] copy-files: Copy files into the image
mkdir -p /var/tmp/bootsmith/work-test/files/0
printf '%s' 'Compute node image built by bootsmith
' > /var/tmp/bootsmith/work-test/files/0/motd
chmod 0644 /var/tmp/bootsmith/work-test/files/0/motd
buildah copy --chmod 0644 bootsmith-rocky-9-compute-test /var/tmp/bootsmith/work-test/files/0/motd /etc/motd

# [5/16] command-1: Run: enable compute services
timeout 1800 buildah run --isolation chroot bootsmith-rocky-9-compute-test -- /bin/sh -ec 'systemctl enable munge
systemctl enable slurmd
'

# [6/16] select-kernel: Select the newest installed kernel
KVER=$(ls -1 "$MNT"/lib/modules | sort -V | tail -n 1)  # bootsmith sorts like rpmvercmp/dpkg
if [ -e "$MNT"/boot/vmlinuz-"$KVER" ]; then KERNEL_IMAGE=/boot/vmlinuz-"$KVER"; else KERNEL_IMAGE=/lib/modules/"$KVER"/vmlinuz; fi

# [7/16] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-rocky-9-compute-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-manager' /boot/initramfs-live-"$KVER".img
install -D -m 0644 "$MNT"/boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
# bootsmith checks that /srv/bootsmith/out/initramfs.img holds lib/modules/$KVER (an initramfs made for another kernel cannot load its modules)

# [8/16] kernel: Copy the kernel out
install -D -m 0644 "$MNT""$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [9/16] list-packages: Record the installed packages
HOME=/var/tmp/bootsmith/work-test/rpm-home rpm --root="$MNT" --dbpath=/var/lib/rpm -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{VENDOR}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [10/16] clean-leftovers: Remove build leftovers
rm -rf -- "$MNT"/var/cache/dnf "$MNT"/var/log/dnf.log "$MNT"/var/log/dnf.librepo.log "$MNT"/var/log/dnf.rpm.log "$MNT"/var/log/hawkey.log "$MNT"/var/cache/bootsmith/dnf
[ -s "$MNT"/etc/resolv.conf ] || rm -f -- "$MNT"/etc/resolv.conf
[ -s "$MNT"/etc/hostname ] || rm -f -- "$MNT"/etc/hostname
[ -s "$MNT"/etc/hosts ] || rm -f -- "$MNT"/etc/hosts

# [11/16] identity: Write the SBOMs and the image's identity
# bootsmith writes /srv/bootsmith/out/{sbom.cdx.json,sbom.spdx.json} from the package list and "$MNT"/etc/os-release
# bootsmith writes the manifest so far (no rootfs digest) to "$MNT"/usr/lib/bootsmith/manifest.json
# bootsmith sets IMAGE_ID=rocky-9-compute IMAGE_VERSION=9.5 in the file "$MNT"/etc/os-release resolves to inside the image

# [12/16] squashfs: Make rootfs.squashfs
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp zstd -Xcompression-level 3 -processors 2 -e boot

# [13/16] commit: Commit the image as localhost/bootsmith/rocky-9-compute:9.5
buildah config --label org.opencontainers.image.title=rocky-9-compute --label io.bootsmith.recipe=rocky-9-compute --label io.bootsmith.tags=9.5 --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=localhost/bootsmith/rocky-9-base:9.5 bootsmith-rocky-9-compute-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-rocky-9-compute-test localhost/bootsmith/rocky-9-compute:9.5)

# [14/16] teardown: Unmount and remove the working container
buildah umount bootsmith-rocky-9-compute-test
buildah rm bootsmith-rocky-9-compute-test

# [15/16] manifest: Write manifest.json
# bootsmith writes /srv/bootsmith/out/manifest.json: artifact sha256 and sizes, packages, kernel, timings
(cd /srv/bootsmith/out && sha256sum -- * > /dev/null)

# [16/16] register-1-bss: Register with bss
# bootsmith registers boot parameters with bss at http://bss.cluster.local:27778
