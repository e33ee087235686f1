#!/usr/bin/env bash
# bootsmith plan for debian-12-openscap (bookworm) from <repo>/recipes/debian-12-openscap.yaml
# input digest <input-digest>
set -euo pipefail
mkdir -p /srv/bootsmith/out /var/tmp/bootsmith/work-test

# [1/17] create-container: Create the working container
buildah from --name bootsmith-debian-12-openscap-test --arch amd64 --pull=never localhost/bootsmith/debian-12-live:bookworm
#   undone on failure by: buildah rm bootsmith-debian-12-openscap-test
BASE_IMAGE_ID=$(buildah inspect --type container --format '{{.FromImageID}}' bootsmith-debian-12-openscap-test)

# [2/17] mount: Mount the container's root
MNT=$(buildah mount bootsmith-debian-12-openscap-test)
#   undone on failure by: bootsmith rootfs stop-processes "$MNT"; buildah umount bootsmith-debian-12-openscap-test

# [3/17] install-packages: Install packages with apt-get
timeout 3600 buildah run --isolation chroot --env DEBIAN_FRONTEND=noninteractive bootsmith-debian-12-openscap-test -- apt-get --no-install-recommends update
timeout 3600 buildah run --isolation chroot bootsmith-debian-12-openscap-test -- dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --add /etc/kernel/postinst.d/dracut
mkdir -p /var/tmp/bootsmith/work-test/apt-hooks
(umask 077; set -C; printf '%s' '#!/bin/sh
# bootsmith: the package-time initramfs is skipped while packages install
exit 0
' > /var/tmp/bootsmith/work-test/apt-hooks/dracut-noop)
chmod 0755 /var/tmp/bootsmith/work-test/apt-hooks/dracut-noop
timeout 3600 buildah copy --chmod 0755 bootsmith-debian-12-openscap-test /var/tmp/bootsmith/work-test/apt-hooks/dracut-noop /etc/kernel/postinst.d/dracut
timeout 3600 buildah run --isolation chroot --env DEBIAN_FRONTEND=noninteractive bootsmith-debian-12-openscap-test -- apt-get install -y --no-install-recommends ntp
timeout 3600 buildah run --isolation chroot bootsmith-debian-12-openscap-test -- rm -f /etc/kernel/postinst.d/dracut
timeout 3600 buildah run --isolation chroot bootsmith-debian-12-openscap-test -- dpkg-divert --quiet --local --rename --divert /etc/kernel/postinst.d/dracut.bootsmith-diverted --remove /etc/kernel/postinst.d/dracut

# [4/17] select-kernel: Select the newest installed kernel
KERNEL=$(bootsmith rootfs select-kernel "$MNT" newest --record /var/tmp/bootsmith/work-test/kernel.json)
read -r KVER KERNEL_IMAGE <<<"$KERNEL"

# [5/17] initramfs: Build the initramfs with dracut
timeout 1800 buildah run --isolation chroot bootsmith-debian-12-openscap-test -- dracut --no-hostonly --force --kver "$KVER" --add 'dmsquash-live livenet network-legacy' --compress 'zstd -9 -q -T0' /boot/initramfs-live-"$KVER".img
bootsmith rootfs copy-out "$MNT" /boot/initramfs-live-"$KVER".img /srv/bootsmith/out/initramfs.img
bootsmith artifacts verify-initramfs /srv/bootsmith/out/initramfs.img "$KVER"

# [6/17] kernel: Copy the kernel out
bootsmith rootfs copy-out "$MNT" "$KERNEL_IMAGE" /srv/bootsmith/out/vmlinuz

# [7/17] openscap-scan: Scan with OpenSCAP (standard), remediate and scan again
mkdir -p /var/tmp/bootsmith/work-test/openscap/root
timeout 60 mount -o bind,ro "$MNT" /var/tmp/bootsmith/work-test/openscap/root
#   undone on failure by: timeout 60 umount /var/tmp/bootsmith/work-test/openscap/root
OSCAP_PROBE_ROOT=/var/tmp/bootsmith/work-test/openscap/root OSCAP_EVALUATION_TARGET=chroot://localhost/bootsmith/debian-12-openscap:bookworm timeout 1800 oscap xccdf eval --profile xccdf_org.ssgproject.content_profile_standard --cpe <repo>/recipes/files/openscap/debian-12-as-11.cpe-dictionary.xml --results /var/tmp/bootsmith/work-test/openscap/results-before-remediation.xml /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml || case $? in 2) ;; *) false ;; esac
oscap xccdf generate fix --fix-type bash --result-id xccdf_org.open-scap_testresult_xccdf_org.ssgproject.content_profile_standard --output /srv/bootsmith/out/openscap-remediation.sh /var/tmp/bootsmith/work-test/openscap/results-before-remediation.xml
buildah copy --chmod 0700 bootsmith-debian-12-openscap-test /srv/bootsmith/out/openscap-remediation.sh /var/tmp/bootsmith-openscap-remediation.sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin timeout 1800 chroot "$MNT" /bin/bash /var/tmp/bootsmith-openscap-remediation.sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin chroot "$MNT" rm -f /var/tmp/bootsmith-openscap-remediation.sh
OSCAP_PROBE_ROOT=/var/tmp/bootsmith/work-test/openscap/root OSCAP_EVALUATION_TARGET=chroot://localhost/bootsmith/debian-12-openscap:bookworm timeout 1800 oscap xccdf eval --profile xccdf_org.ssgproject.content_profile_standard --cpe <repo>/recipes/files/openscap/debian-12-as-11.cpe-dictionary.xml --results /srv/bootsmith/out/openscap-results.xml --results-arf /srv/bootsmith/out/openscap-arf.xml --report /srv/bootsmith/out/openscap-report.html /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml || case $? in 2) ;; *) false ;; esac
timeout 60 umount /var/tmp/bootsmith/work-test/openscap/root
bootsmith artifacts scan-verdict /srv/bootsmith/out/openscap-results.xml --before /var/tmp/bootsmith/work-test/openscap/results-before-remediation.xml --profile xccdf_org.ssgproject.content_profile_standard --datastream /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml --fail-on high --max 0 --dir /srv/bootsmith/out --file openscap-arf.xml --file openscap-results.xml --file openscap-report.html --file openscap-remediation.sh --record /var/tmp/bootsmith/work-test/openscap.json

# [8/17] list-packages: Record the installed packages
dpkg-query --admindir="$MNT"/var/lib/dpkg -W '-f=${Package}\t\t${Version}\t\t${Architecture}\t\t${Maintainer}\n' > /var/tmp/bootsmith/work-test/packages.tsv

# [9/17] stop-processes: Stop processes the steps left running in the image
bootsmith rootfs stop-processes "$MNT"

# [10/17] clean-leftovers: Remove build leftovers
bootsmith rootfs clean "$MNT" --if-empty etc/resolv.conf --if-empty etc/hostname --if-empty etc/hosts -- 'var/cache/apt/archives/*.deb' var/cache/apt/pkgcache.bin var/cache/apt/srcpkgcache.bin 'var/lib/apt/lists/*' var/log/apt/term.log var/log/apt/history.log

# [11/17] identity: Write the SBOMs and the image's identity
IDENTITY=$(bootsmith artifacts image-identity "$MNT" /srv/bootsmith/out --recipe <repo>/recipes/debian-12-openscap.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --scan-record /var/tmp/bootsmith/work-test/openscap.json --id debian-12-openscap --version bookworm)
read -r SBOM_CDX_SHA256 SBOM_SPDX_SHA256 <<<"$IDENTITY"

# [12/17] squashfs: Make rootfs.squashfs (runs beside the next steps, until name-image)
timeout 3600 mksquashfs "$MNT" /srv/bootsmith/out/rootfs.squashfs -noappend -no-progress -comp zstd -Xcompression-level 3 -processors 2 -e boot &
SQUASHFS_PID=$!

# [13/17] commit: Commit the image (as localhost/bootsmith/debian-12-openscap:building-test until the squashfs is made)
buildah config --label org.opencontainers.image.title=debian-12-openscap --label io.bootsmith.recipe=debian-12-openscap --label io.bootsmith.tags=bookworm --label io.bootsmith.input-digest=<input-digest> --label io.bootsmith.base=localhost/bootsmith/debian-12-live:bookworm --label io.bootsmith.sbom.cyclonedx.sha256="$SBOM_CDX_SHA256" --label io.bootsmith.sbom.spdx.sha256="$SBOM_SPDX_SHA256" bootsmith-debian-12-openscap-test
IMAGE_ID=$(buildah commit --quiet --format oci bootsmith-debian-12-openscap-test localhost/bootsmith/debian-12-openscap:building-test)
#   undone on failure by: buildah rmi localhost/bootsmith/debian-12-openscap:building-test

# [14/17] name-image: Name the image localhost/bootsmith/debian-12-openscap:bookworm
wait "$SQUASHFS_PID"
buildah tag localhost/bootsmith/debian-12-openscap:building-test localhost/bootsmith/debian-12-openscap:bookworm
buildah rmi localhost/bootsmith/debian-12-openscap:building-test

# [15/17] teardown: Unmount and remove the working container, then the recipe's earlier images no name points at
buildah umount bootsmith-debian-12-openscap-test
buildah rm bootsmith-debian-12-openscap-test
bootsmith artifacts remove-superseded debian-12-openscap

# [16/17] manifest: Write manifest.json
bootsmith artifacts write-manifest /srv/bootsmith/out --recipe <repo>/recipes/debian-12-openscap.yaml --kernel-record /var/tmp/bootsmith/work-test/kernel.json --packages /var/tmp/bootsmith/work-test/packages.tsv --scan-record /var/tmp/bootsmith/work-test/openscap.json --image-id "$IMAGE_ID" --base-image-id "$BASE_IMAGE_ID"

# [17/17] publish-1-local: Publish to local
bootsmith publish /srv/bootsmith/out --to dir:/srv/boot-images --record /var/tmp/bootsmith/work-test/published-1.json
