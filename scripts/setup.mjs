#!/usr/bin/env node
// Install bootsmith's host dependencies on Debian 12 (root) and build it. Run through
// scripts/setup.sh, which installs the npm packages (zx among them) first. Idempotent: Debian
// packages already present are not fetched again.
import { $, ProcessOutput, cd } from "zx";
import { fileURLToPath } from "node:url";

cd(fileURLToPath(new URL("..", import.meta.url)));

const PACKAGES = [
  ...["buildah", "skopeo", "uidmap", "fuse-overlayfs"], // containers and images
  ...["dnf", "zypper", "rpm", "createrepo-c", "busybox-static"], // RPM images (dnf, zypper) and the test RPM repository (busybox: its shell)
  "mmdebstrap", // Debian images
  "squashfs-tools", // rootfs.squashfs
  "ansible", // commands: ansible: (ansible-core + community.general's chroot connection)
  "openscap-scanner", // scan: openscap: (oscap)
  "ssg-debian", // scan: openscap: Debian's SCAP Security Guide content (/usr/share/xml/scap/ssg/content)
  ...["qemu-system-x86", "ipxe-qemu", "zstd", "xz-utils"], // boot-test (zstd/xz: reading initramfs images)
  ...["qemu-user-static", "binfmt-support", "arch-test"], // aarch64 images built on x86_64 (arm64 programs run through qemu-user)
  ...["qemu-system-arm", "qemu-efi-aarch64"], // boot-test of aarch64 images (virt machine, UEFI firmware)
  "docker-registry", // OCI registry for publish tests
  ...["ceph-mon", "ceph-osd", "radosgw", "ceph-common", "uuid-runtime", "awscli"], // S3 server for tests, and the S3 benchmark baseline
  "chromium", // inspect --html test: the report page rendered in a real headless browser
  "rsync", // gitlab-ci-local (pipeline test) copies the project with it
  ...["gnupg", "curl", "ca-certificates", "iproute2", "util-linux", "openssl", "time", "git"], // git: build --since and gitlab-ci-local
];

// One dpkg-query for all: it prints the installed ones and fails (ignored) for the unknown.
const status = await $({ nothrow: true, quiet: true })`dpkg-query -W -f=${"${Package} ${Status}\n"} ${PACKAGES}`;
const installed = new Set(
  status.stdout
    .split("\n")
    .filter((l) => l.endsWith(" install ok installed"))
    .map((l) => l.split(" ")[0]),
);
const missing = PACKAGES.filter((p) => !installed.has(p));
try {
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) {
      console.error(`setup: run as root to install: ${missing.join(" ")}`);
      process.exit(1);
    }
    await $({ stdio: "inherit" })`apt-get update -q`;
    await $({ stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })`apt-get install -y -q --no-install-recommends ${missing}`;
  }
  await enableForeignArchitectures();
  await $({ stdio: "inherit" })`npm run build`;
} catch (error) {
  // apt-get or tsc printed its own error (stdio inherited): exit with its code, no zx trace.
  if (!(error instanceof ProcessOutput)) throw error;
  process.exit(error.exitCode ?? 1);
}

/**
 * arm64 programs in an image reach qemu-user through binfmt_misc. Containers (CI runners) often
 * start without it mounted; as root it can be mounted from inside, and the qemu entries are then
 * (re)registered. `bootsmith doctor --arch aarch64` checks the result. A failure here only warns:
 * x86_64 builds do not need it.
 */
async function enableForeignArchitectures() {
  if (process.getuid?.() !== 0 || process.arch === "arm64") return;
  const binfmt = "/proc/sys/fs/binfmt_misc";
  const quiet = $({ nothrow: true, quiet: true });
  if (!(await quiet`test -e ${binfmt}/status`).ok && !(await quiet`mount -t binfmt_misc binfmt_misc ${binfmt}`).ok) {
    console.error("setup: cannot mount binfmt_misc: aarch64 builds will not work (bootsmith doctor --arch aarch64 says why)");
    return;
  }
  if (!(await quiet`test -e ${binfmt}/qemu-aarch64`).ok && !(await quiet`update-binfmts --enable qemu-aarch64`).ok)
    console.error("setup: update-binfmts --enable qemu-aarch64 failed");
}
