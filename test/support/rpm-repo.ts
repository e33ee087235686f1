// The fixture RPM repository for build tests: tiny packages built with rpmbuild from
// test/fixtures/rpm/*.spec and indexed with createrepo_c (with a comps group for dnf and a
// pattern package for zypper), optionally signed with a throwaway GPG key (packages and
// repomd.xml, as SUSE repositories are). Building takes about a second, but a test run asks for it many times,
// so finished repos are cached under os.tmpdir(), keyed on the hash of everything that goes into
// them; callers get their own copy so a test cannot damage the cache for the next one.
import { createHash, randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { access, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { run, type Command } from "../../src/exec/run.js";
import { silentReporter } from "../../src/exec/events.js";

export const FIXTURE_SPEC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../fixtures/rpm");

/** The static busybox that becomes the fixture image's only program (Debian: busybox-static). */
export const FIXTURE_BUSYBOX = "/bin/busybox";

/** The comps group in the repo: fixture-base and fixture-hello. */
export const FIXTURE_GROUP = "fixture-minimal";

/** The zypper pattern in the repo (package patterns-fixture-minimal): the same two packages. */
export const FIXTURE_PATTERN = "fixture-minimal";

/**
 * Busybox applets linked into /usr/bin by fixture-base: what recipes' shell commands, rpm
 * scriptlets and the dracut stand-in (cpio, gzip, find, sort, mktemp) use.
 */
const APPLETS = [
  "sh",
  "ash",
  "cat",
  "ls",
  "echo",
  "mkdir",
  "rm",
  "rmdir",
  "cp",
  "test",
  "sed",
  "grep",
  "id",
  "env",
  "true",
  "false",
  "sleep",
  "touch",
  "chmod",
  "chown",
  "ln",
  "mv",
  "printf",
  "uname",
  "cpio",
  "gzip",
  "gunzip",
  "zcat",
  "find",
  "sort",
  "mktemp",
  "head",
  "tail",
  "wc",
  "awk",
  "dd",
  "readlink",
  "basename",
  "dirname",
  "stat",
  "tr",
  "cut",
  "xargs",
  "uniq",
  "date",
  "hostname",
  "sha256sum",
] as const;

/**
 * Kernel releases, oldest first. A string sort orders "5.14.0-10.fx" before "5.14.0-9.fx" and so
 * would pick the older kernel: version-aware selection must pick release 10.
 */
const KERNEL_RELEASES = [9, 10] as const;
const KERNEL_VERSION = "5.14.0";

/** Specs built once each (the kernel spec is built once per entry of KERNEL_RELEASES). */
const SPECS = ["fixture-base", "fixture-libgreet", "fixture-hello", "fixture-dracut", "patterns-fixture-minimal"] as const;
/** Every file under FIXTURE_SPEC_DIR that shapes the packages, hashed into the cache key. */
const SOURCES = [...SPECS, "fixture-kernel"].map((s) => `${s}.spec`).concat(["dracut.sh", "comps.xml"]);

/** Recorded in the cache; bump it to change the format of fixture-repo.json. */
const BUILDER_VERSION = "2";

/** Fixed timestamps make rebuilt RPMs byte-identical, and so the repo metadata too. */
const SOURCE_DATE_EPOCH = "1700000000";

const GPG_UID = "bootsmith fixture <fixture@bootsmith.invalid>";
const GPG_NAME = "fixture@bootsmith.invalid";

export interface FixturePackage {
  readonly name: string;
  readonly epoch: number;
  readonly version: string;
  readonly release: string;
  readonly arch: string;
  /** name-version-release.arch, as `rpm -qa` prints it (epoch 0 is not shown). */
  readonly nvra: string;
  /** Absolute path of the .rpm inside FixtureRepo.dir. */
  readonly file: string;
}

export interface FixtureRepo {
  /** Directory with the RPMs and repodata/ (comps included). */
  readonly dir: string;
  /** `file://` URL of dir, for a repo file's baseurl. */
  readonly baseurl: string;
  readonly signed: boolean;
  /** ASCII-armored public key that signed the packages (signed repos only). */
  readonly gpgKey?: string;
  /** `file://` URL of gpgKey, for a repo file's gpgkey. */
  readonly gpgKeyUrl?: string;
  /** Key ID (last 8 hex digits, lower case) as rpm names it: gpg-pubkey-<id>-<date>. */
  readonly gpgKeyId?: string;
  readonly packages: readonly FixturePackage[];
  /** All NVRAs in the repo, sorted. */
  readonly nvras: readonly string[];
  /** Kernel versions (`uname -r` form) provided by fixture-kernel packages, oldest first. */
  readonly kernelVersions: readonly string[];
  /** The version a correct selection picks: the last of kernelVersions. */
  readonly newestKernel: string;
  /** The comps group id. */
  readonly group: string;
  /** The pattern name (`pattern() = NAME` provided by patterns-fixture-minimal). */
  readonly pattern: string;
  /** True when this call reused a repo built earlier (in this run or a previous one). */
  readonly fromCache: boolean;
  /** The cache directory the copy was made from. */
  readonly cacheDir: string;
}

export interface FixtureRepoOptions {
  /** Sign every package with a throwaway key and return it (default false). */
  readonly signed?: boolean;
}

/** What the cache stores next to the repo, so a cache hit needs no rpm queries. */
interface CacheRecord {
  readonly builderVersion: string;
  readonly packages: readonly Omit<FixturePackage, "file">[];
  readonly files: Readonly<Record<string, string>>;
  readonly kernelVersions: readonly string[];
  readonly gpgKeyId?: string;
}

const RECORD = "fixture-repo.json";
const REPO_SUBDIR = "repo";
const KEY_FILE = "RPM-GPG-KEY-bootsmith-fixture";

const step = { step: "fixture", reporter: silentReporter } as const;

/** Builds in flight or done in this process, so concurrent callers share one build. */
const memo = new Map<string, Promise<{ cacheDir: string; built: boolean }>>();

/**
 * Provide the fixture repository in `dir` (created if needed; the repo goes to `dir` itself).
 * The first call in a run (or after the specs change) builds it under
 * os.tmpdir()/bootsmith-fixture-rpm-<hash>[-signed]; later calls copy that.
 */
export async function buildFixtureRepo(dir: string, opts: FixtureRepoOptions = {}): Promise<FixtureRepo> {
  const signed = opts.signed === true;
  const key = await cacheKey();
  const cacheDir = join(tmpdir(), `bootsmith-fixture-rpm-${key}${signed ? "-signed" : ""}`);
  let pending = memo.get(cacheDir);
  const first = pending === undefined;
  if (!pending) {
    pending = ensureCached(cacheDir, signed);
    memo.set(cacheDir, pending);
    // A failed build must not poison later calls in the same run.
    pending.catch(() => memo.delete(cacheDir));
  }
  const { built } = await pending;
  if (!(await exists(join(cacheDir, RECORD)))) {
    // Someone removed the cache during the run (tmp cleaners, a test of this module): rebuild.
    if (memo.get(cacheDir) === pending) memo.delete(cacheDir);
    return buildFixtureRepo(dir, opts);
  }
  const record = JSON.parse(await readFile(join(cacheDir, RECORD), "utf8")) as CacheRecord;

  const target = resolve(dir);
  await mkdir(target, { recursive: true });
  await cp(join(cacheDir, REPO_SUBDIR), target, { recursive: true, force: true });
  const packages = record.packages.map((p) => ({ ...p, file: join(target, record.files[p.nvra] ?? "") }));
  let gpg: Pick<FixtureRepo, "gpgKey" | "gpgKeyUrl" | "gpgKeyId"> = {};
  if (signed) {
    const gpgKey = join(target, KEY_FILE);
    gpg = { gpgKey, gpgKeyUrl: `file://${gpgKey}`, gpgKeyId: record.gpgKeyId };
  }
  const newestKernel = record.kernelVersions[record.kernelVersions.length - 1];
  if (newestKernel === undefined) throw new Error("fixture repo: no kernel packages were built");
  return {
    dir: target,
    baseurl: `file://${target}`,
    signed,
    ...gpg,
    packages,
    nvras: packages.map((p) => p.nvra).sort(),
    kernelVersions: record.kernelVersions,
    newestKernel,
    group: FIXTURE_GROUP,
    pattern: FIXTURE_PATTERN,
    fromCache: !(first && built),
    cacheDir,
  };
}

/** A dnf .repo file for the repository; gpgcheck follows the repo's signedness unless given. */
export function repoFileText(repo: FixtureRepo, opts: { id?: string; gpgcheck?: boolean } = {}): string {
  const id = opts.id ?? (repo.signed ? "fixture-signed" : "fixture");
  const gpgcheck = opts.gpgcheck ?? repo.signed;
  const lines = [`[${id}]`, `name=bootsmith fixture (${id})`, `baseurl=${repo.baseurl}`, `gpgcheck=${gpgcheck ? 1 : 0}`];
  if (repo.gpgKeyUrl) lines.push(`gpgkey=${repo.gpgKeyUrl}`);
  // Local metadata changes whenever the specs change; never trust a stale copy.
  lines.push("metadata_expire=0", "");
  return lines.join("\n");
}

async function cacheKey(): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`builder ${BUILDER_VERSION}\napplets ${APPLETS.join(" ")}\nkernels ${KERNEL_RELEASES.join(" ")}\n`);
  // This module's own text too: a change in how packages are built must not reuse old ones.
  hash.update(await readFile(fileURLToPath(import.meta.url)));
  for (const name of SOURCES) {
    hash.update(`${name}\0`);
    hash.update(await readFile(join(FIXTURE_SPEC_DIR, name)));
  }
  // The busybox binary is the payload of fixture-base: a host upgrade changes the packages.
  hash.update(
    await readFile(FIXTURE_BUSYBOX).catch((error: unknown) => {
      throw new Error(`${FIXTURE_BUSYBOX} is missing: apt-get install busybox-static (the fixture image's shell)`, { cause: error });
    }),
  );
  return hash.digest("hex").slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  return access(path, fsConstants.F_OK).then(
    () => true,
    () => false,
  );
}

async function ensureCached(cacheDir: string, signed: boolean): Promise<{ cacheDir: string; built: boolean }> {
  if (await exists(join(cacheDir, RECORD))) return { cacheDir, built: false };
  // Build next to the cache and rename into place: the rename is atomic, so another vitest
  // worker or a concurrent run either sees a complete repo or none, never half of one.
  const work = `${cacheDir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(work, { recursive: true });
  try {
    const record = signed ? await buildSigned(work) : await buildUnsigned(work);
    await writeFile(join(work, RECORD), JSON.stringify(record, null, 2));
    try {
      await rename(work, cacheDir);
    } catch (error) {
      // Someone else finished first (ENOTEMPTY/EEXIST): theirs is as good as ours.
      if (!(await exists(join(cacheDir, RECORD)))) throw error;
      return { cacheDir, built: false };
    }
    return { cacheDir, built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Build every package and index them: <work>/repo. */
async function buildUnsigned(work: string): Promise<CacheRecord> {
  const top = join(work, "rpmbuild");
  const home = join(work, "home");
  const repo = join(work, REPO_SUBDIR);
  await mkdir(home, { recursive: true });
  await mkdir(repo, { recursive: true });
  // An empty HOME keeps the user's ~/.rpmmacros out of the build.
  const env = { HOME: home, SOURCE_DATE_EPOCH };
  const rpmbuild = (spec: string, extra: string[] = []): Command => ({
    file: "rpmbuild",
    args: ["-bb", "--nodeps", "--quiet", ...rpmbuildDefines(top), ...extra, join(FIXTURE_SPEC_DIR, spec)],
    env,
  });
  for (const spec of SPECS) await run(rpmbuild(`${spec}.spec`), step, { capture: false });
  for (const rel of KERNEL_RELEASES) {
    await run(rpmbuild("fixture-kernel.spec", ["--define", `fx_krel ${rel}`]), step, { capture: false });
  }

  const rpms: string[] = [];
  for (const archDir of await readdir(join(top, "RPMS"))) {
    for (const file of await readdir(join(top, "RPMS", archDir))) {
      if (!file.endsWith(".rpm")) continue;
      await rename(join(top, "RPMS", archDir, file), join(repo, file));
      rpms.push(file);
    }
  }
  await rm(top, { recursive: true, force: true });
  await createrepo(repo, env);
  return { builderVersion: BUILDER_VERSION, ...(await describePackages(repo, rpms.sort(), env)) };
}

/** rpmbuild's settings for the fixture packages (build tree `top`). */
function rpmbuildDefines(top: string): string[] {
  return [
    "--define",
    `_topdir ${top}`,
    "--define",
    `_sourcedir ${FIXTURE_SPEC_DIR}`,
    // Debian's rpm defaults would strip binaries and try to split debuginfo: not wanted for
    // fixtures (busybox is already stripped) and slow.
    "--define",
    "debug_package %{nil}",
    "--define",
    "__os_install_post %{nil}",
    "--define",
    "_build_id_links none",
    "--define",
    "use_source_date_epoch_as_buildtime 1",
    "--define",
    "clamp_mtime_to_source_date_epoch 1",
    "--define",
    "_buildhost bootsmith-fixture",
    "--define",
    `fx_busybox ${FIXTURE_BUSYBOX}`,
    "--define",
    `fx_applets ${APPLETS.join(" ")}`,
  ];
}

/**
 * Add aarch64 builds of the architecture-specific fixture packages (fixture-base, the newest
 * fixture-kernel) to a repository copy, for recipes with `arch: aarch64` / `arches:`
 * (dnf --forcearch=aarch64 takes them, an x86_64 install ignores them). The payload stays the
 * host's static busybox, an x86_64 program: such an image's commands run natively, not through
 * qemu-user (test/e2e/aarch64.test.ts builds a real arm64 root). About a second.
 */
export async function addAarch64Packages(repo: FixtureRepo): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "bsfx-arm-"));
  const top = join(work, "rpmbuild");
  const env = { HOME: work, SOURCE_DATE_EPOCH };
  try {
    const newest = KERNEL_RELEASES[KERNEL_RELEASES.length - 1]!;
    for (const [spec, extra] of [
      ["fixture-base", []],
      ["fixture-kernel", ["--define", `fx_krel ${newest}`]],
    ] as const)
      await run(
        {
          file: "rpmbuild",
          args: ["-bb", "--nodeps", "--quiet", "--target", "aarch64", ...rpmbuildDefines(top), ...extra, join(FIXTURE_SPEC_DIR, `${spec}.spec`)],
          env,
        },
        step,
        { capture: false },
      );
    for (const file of await readdir(join(top, "RPMS", "aarch64"))) await rename(join(top, "RPMS", "aarch64", file), join(repo.dir, file));
    await createrepo(repo.dir, env);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A package whose %post fails (exit 7) after fixture-base put a shell in place: rpm warns and installs it anyway. */
export const POSTFAIL_PACKAGE = "fixture-postfail";
const POSTFAIL_SPEC = `Name: ${POSTFAIL_PACKAGE}
Version: 1.0
Release: 1
Summary: bootsmith fixture whose %post fails
License: MIT
BuildArch: noarch
Requires(post): fixture-base
%description
A %post that exits 7, as a site package's broken setup script would.
%install
mkdir -p %{buildroot}/usr/share/${POSTFAIL_PACKAGE}
echo installed > %{buildroot}/usr/share/${POSTFAIL_PACKAGE}/marker
%files
/usr/share/${POSTFAIL_PACKAGE}/marker
%post
echo "${POSTFAIL_PACKAGE}: setup failed" >&2
exit 7
`;

/** Add POSTFAIL_PACKAGE (unsigned) to a copy of the unsigned fixture repository. About a second. */
export async function addPostFailPackage(repo: FixtureRepo): Promise<string> {
  if (repo.signed) throw new Error("addPostFailPackage: the package is unsigned; use the unsigned fixture repository");
  const work = await mkdtemp(join(tmpdir(), "bsfx-postfail-"));
  const top = join(work, "rpmbuild");
  const env = { HOME: work, SOURCE_DATE_EPOCH };
  try {
    const spec = join(work, `${POSTFAIL_PACKAGE}.spec`);
    await writeFile(spec, POSTFAIL_SPEC);
    await run({ file: "rpmbuild", args: ["-bb", "--nodeps", "--quiet", ...rpmbuildDefines(top), spec], env }, step, { capture: false });
    const nvra = `${POSTFAIL_PACKAGE}-1.0-1.noarch`;
    await rename(join(top, "RPMS", "noarch", `${nvra}.rpm`), join(repo.dir, `${nvra}.rpm`));
    await createrepo(repo.dir, env);
    return nvra;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The unsigned packages, signed with a fresh key whose public half is exported next to them. */
async function buildSigned(work: string): Promise<CacheRecord> {
  const unsigned = await buildFixtureRepo(join(work, "unsigned"));
  const repo = join(work, REPO_SUBDIR);
  await mkdir(repo, { recursive: true });
  const files = unsigned.packages.map((p) => p.file.slice(unsigned.dir.length + 1));
  for (const file of files) await cp(join(unsigned.dir, file), join(repo, file));
  await rm(unsigned.dir, { recursive: true, force: true });

  // gpg-agent sockets must fit in sun_path (108 bytes), so GNUPGHOME gets a short path.
  const gnupg = await mkdtemp(join(tmpdir(), "bsfx-gpg-"));
  const env = { GNUPGHOME: gnupg, HOME: gnupg, SOURCE_DATE_EPOCH };
  try {
    await run({ file: "gpg", args: ["--batch", "--passphrase", "", "--quick-gen-key", GPG_UID, "rsa2048", "sign", "never"], env }, step, { capture: false });
    const armored = await run({ file: "gpg", args: ["--batch", "--armor", "--export", GPG_NAME], env }, step, { quiet: true });
    await writeFile(join(repo, KEY_FILE), armored.stdout.endsWith("\n") ? armored.stdout : `${armored.stdout}\n`);
    const colons = await run({ file: "gpg", args: ["--batch", "--with-colons", "--list-keys", GPG_NAME], env }, step, { quiet: true });
    const keyId = colons.stdout
      .split("\n")
      .find((l) => l.startsWith("pub:"))
      ?.split(":")[4];
    if (!keyId) throw new Error("fixture repo: gpg did not list the key it generated");
    // Debian's rpm points %__gpg at /usr/bin/gpg2, which Debian does not ship.
    await run(
      {
        file: "rpmsign",
        args: [
          "--addsign",
          "--define",
          `_gpg_name ${GPG_NAME}`,
          "--define",
          `_gpg_path ${gnupg}`,
          "--define",
          "__gpg /usr/bin/gpg",
          ...files.map((f) => join(repo, f)),
        ],
        env,
      },
      step,
      { capture: false },
    );
    await createrepo(repo, env);
    // zypper checks the metadata's signature too (dnf only with repo_gpgcheck=1).
    await run(
      { file: "gpg", args: ["--batch", "--yes", "--armor", "--detach-sign", "--local-user", GPG_NAME, join(repo, "repodata", "repomd.xml")], env },
      step,
      { capture: false },
    );
    const described = await describePackages(repo, files, env);
    return { builderVersion: BUILDER_VERSION, ...described, gpgKeyId: keyId.slice(-8).toLowerCase() };
  } finally {
    // The agent started by --quick-gen-key would otherwise outlive the test run.
    await run({ file: "gpgconf", args: ["--kill", "all"], env }, step, { capture: false }).catch(() => undefined);
    await rm(gnupg, { recursive: true, force: true });
  }
}

/**
 * A valid public key that signed nothing in the fixture repository, written to `file`: what a
 * recipe naming the wrong key for a repository hands the package manager.
 */
export async function writeForeignKey(file: string): Promise<void> {
  const gnupg = await mkdtemp(join(tmpdir(), "bsfx-gpg-"));
  const env = { GNUPGHOME: gnupg, HOME: gnupg };
  try {
    await run(
      { file: "gpg", args: ["--batch", "--passphrase", "", "--quick-gen-key", "someone else <else@bootsmith.invalid>", "rsa2048", "sign", "never"], env },
      step,
      { capture: false },
    );
    const armored = await run({ file: "gpg", args: ["--batch", "--armor", "--export", "else@bootsmith.invalid"], env }, step, { quiet: true });
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, armored.stdout.endsWith("\n") ? armored.stdout : `${armored.stdout}\n`);
  } finally {
    await run({ file: "gpgconf", args: ["--kill", "all"], env }, step, { capture: false }).catch(() => undefined);
    await rm(gnupg, { recursive: true, force: true });
  }
}

async function createrepo(repo: string, env: Record<string, string>): Promise<void> {
  await run({ file: "createrepo_c", args: ["--quiet", "--no-database", "--groupfile", join(FIXTURE_SPEC_DIR, "comps.xml"), repo], env }, step, {
    capture: false,
  });
}

async function describePackages(
  repo: string,
  files: readonly string[],
  env: Record<string, string>,
): Promise<Omit<CacheRecord, "builderVersion" | "gpgKeyId">> {
  // One query for all packages; the kernel's uname -r comes from its kernel-uname-r provide.
  const qf = "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t[%{PROVIDENAME}=%{PROVIDEVERSION},]\\n";
  const out = await run({ file: "rpm", args: ["-qp", "--nosignature", "--qf", qf, ...files.map((f) => join(repo, f))], env }, step, { quiet: true });
  const lines = out.stdout.split("\n").filter((l) => l.length > 0);
  if (lines.length !== files.length) throw new Error(`fixture repo: rpm described ${lines.length} of ${files.length} packages`);
  const packages: Omit<FixturePackage, "file">[] = [];
  const byNvra: Record<string, string> = {};
  const kernels: { release: number; kver: string }[] = [];
  lines.forEach((line, i) => {
    const [name = "", epoch = "0", version = "", release = "", arch = "", provides = ""] = line.split("\t");
    const nvra = `${name}-${version}-${release}.${arch}`;
    packages.push({ name, epoch: Number(epoch), version, release, arch, nvra });
    byNvra[nvra] = files[i] ?? "";
    const kver = provides
      .split(",")
      .find((p) => p.startsWith("kernel-uname-r="))
      ?.slice("kernel-uname-r=".length);
    if (kver) kernels.push({ release: Number.parseInt(release, 10), kver });
  });
  // Oldest first by the numeric release: the one ordering the fixture is designed around.
  kernels.sort((a, b) => a.release - b.release);
  if (kernels.length !== KERNEL_RELEASES.length || kernels[0]?.kver.startsWith(KERNEL_VERSION) !== true) {
    throw new Error(`fixture repo: expected ${KERNEL_RELEASES.length} fixture-kernel packages, found ${kernels.map((k) => k.kver).join(", ")}`);
  }
  return { packages, files: byNvra, kernelVersions: kernels.map((k) => k.kver) };
}
