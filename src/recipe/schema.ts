// The recipe format, v1: the single source of truth. It yields the TypeScript types
// (z.infer), the validation (strict objects: unknown keys fail), and the JSON Schema editors
// use (`bootsmith schema`, schema/recipe.schema.json).
import { z } from "zod";
import { MANAGER_NAMES } from "../core/package-managers.js";
import { DEFAULT_PARAMS_TEMPLATE } from "../core/params.js";
import { OCI_TAG as TAG } from "../core/oci-tag.js";
import { HOST_NAME, hostNameProblem } from "../core/host-name.js";
import { MAC_INPUT } from "../core/mac.js";
import { NID_MAX } from "../core/nid.js";
import { IMAGE_REFERENCE, imageReferenceProblem, REPOSITORY } from "../core/image-ref.js";

// zod compiles a parser for each object schema with `new Function` on its first parse; that pays
// off over many parses, but a build validates a handful of recipes once, where compiling costs
// more than it saves (the fixture recipe's first validation: 35 ms of CPU, 20 ms without).
z.config({ jitless: true });

// --- value formats --------------------------------------------------------------------------

/** OCI image names: lowercase components separated by . _ - (distribution's grammar, simplified). */
const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const URL_HTTP = /^https?:\/\/[^\s/?#]+[^\s]*$/;
const URL_REPO = /^(https?|ftp|file):\/\/[^\s]*$/;
/** An absolute path inside the image. */
const IMAGE_PATH = /^\/[^\0]*$/;
/** The architectures bootsmith builds for (core/arch.ts ARCHES), in the recipe's spelling. */
const ARCH = z.enum(["x86_64", "aarch64"]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OWNER = /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/;
const MODE = /^0?[0-7]{3,4}$/;
/** "newest" or a kernel version as named under /lib/modules (no spaces or slashes). */
const KERNEL = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

/**
 * One package (or package spec such as pkg-1.2, pkg=1.2, name:stream): one argv word, so no
 * spaces; no commas (apt joins them into --include=a,b); not starting with - (it would be read
 * as an option of dnf/apt).
 */
const PACKAGE = /^[^\s,-][^\s,]*$/;
const pkg = z.string().regex(PACKAGE, { error: "must be one package name (no spaces or commas, not starting with -)" });
const name = z
  .string()
  .regex(NAME, { error: "must be lowercase letters, digits and . _ - separators (an OCI image name), e.g. rocky-9-compute" })
  // localhost/bootsmith/<name>:<tag> must stay within the 255 characters image references allow.
  .max(128, { error: "must be at most 128 characters (it becomes the image name localhost/bootsmith/<name>)" });
const tag = z.string().regex(TAG, { error: "must be an OCI tag: letters, digits, _ . -, at most 128 characters, not starting with . or -" });
const httpUrl = z.string().regex(URL_HTTP, { error: "must be an http:// or https:// URL" });
const repoUrl = z.string().regex(URL_REPO, { error: "must be an http(s)://, ftp:// or file:// URL" });
/** A `..` path segment: in a path meant to stay inside the image root it could climb out of it. */
const DOT_DOT_SEGMENT = /(^|\/)\.\.(\/|$)/;
const imagePath = z
  .string()
  .regex(IMAGE_PATH, { error: "must be an absolute path inside the image, e.g. /etc/motd" })
  .refine((p) => !DOT_DOT_SEGMENT.test(p), {
    error: "must not contain .. segments (they climb out of the directory they name); write the path meant, e.g. /etc/motd",
  });
const rootfsExclude = z
  .string()
  .min(1)
  .refine((p) => !DOT_DOT_SEGMENT.test(p), {
    error: "must not contain .. segments (exclude paths are relative to the image root); write the path meant, e.g. var/cache",
  });
/**
 * A label goes to buildah as --label KEY=VALUE, split at the first "=": a key holding one would
 * label the image with its front part and the rest glued to the value; an empty key is a label
 * named "". io.bootsmith.* labels are the build's own (the cache and remove-superseded read
 * them), set after the recipe's, so one in a recipe would be dropped without a word.
 */
const labelKey = z
  .string()
  .regex(/^[^=]+$/, { error: "must be a label name: not empty, without =, e.g. org.example.site" })
  .refine((k) => !k.startsWith("io.bootsmith."), {
    error: "is one of the labels bootsmith sets itself (io.bootsmith.*); name yours under your own domain, e.g. org.example.role",
  });
const envMap = z.record(z.string().regex(ENV_NAME, { error: "must be an environment variable name" }), z.string());
/**
 * A kernel command line. A long one is written as a folded block (params: >), which YAML ends
 * with a newline: trailing whitespace is dropped, so only a newline inside it is refused.
 */
const paramsTemplate = z.string().overwrite((p) => p.trimEnd());
const seconds = z.number().int().positive().max(86_400);

// --- base -----------------------------------------------------------------------------------

const fromImage = z.strictObject({
  image: z
    .string()
    .min(1)
    // The pattern is what editors see; the refinement also says what is wrong (and checks the name's length).
    .regex(IMAGE_REFERENCE, { error: (issue) => imageReferenceProblem(String(issue.input)), abort: true })
    .refine((ref) => imageReferenceProblem(ref) === undefined, { error: (issue) => imageReferenceProblem(String(issue.input)) })
    .describe("OCI image reference to build on, [docker://][HOST[:PORT]/]PATH[:TAG][@DIGEST], e.g. registry.local/base/rocky:9.5"),
  tlsVerify: z.boolean().default(true).describe("Verify the registry's TLS certificate when pulling"),
});
const fromRecipe = z.strictObject({
  recipe: z.string().min(1).describe("Path (relative to this file) of the parent recipe whose committed image this one builds on"),
});
export const FromSchema = z
  .union([z.literal("scratch"), fromImage, fromRecipe], {
    error: 'must be "scratch", {image: REF} or {recipe: PATH}',
  })
  .default("scratch")
  .describe("What the image starts from");

// --- packages -------------------------------------------------------------------------------

const repo = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, { error: "must be a repository id: letters, digits, _ . : -" })
      .describe("Repository id; also the name of its .repo / .sources file"),
    baseurl: repoUrl.optional().describe("dnf/zypper: baseurl; apt: archive URL (with suite and components)"),
    content: z.string().optional().describe("Full .repo file (dnf, zypper) or deb822 .sources file (apt), written as is"),
    gpgkey: z
      .string()
      .optional()
      .describe(
        "Recipe-relative path of the signing key, or (dnf, zypper) its URL; apt takes a file only, copied to /etc/apt/keyrings and named by Signed-By (in each stanza of a content: source) (zypper: imported into the image's rpm database). A key file is hashed into the cache key",
      ),
    gpgcheck: z.boolean().optional().describe("Check signatures (default: on when gpgkey is given)"),
    priority: z.number().int().min(1).max(99).optional().describe("dnf/zypper repository priority (lower wins)"),
    enabled: z.boolean().default(true).describe("Enable the repository"),
    suite: z.string().optional().describe("apt: suite, e.g. bookworm (defaults to packages.release)"),
    components: z.array(z.string()).optional().describe("apt: components (default main)"),
  })
  .refine((r) => r.baseurl === undefined || r.content === undefined, { error: "give baseurl or content, not both" })
  .refine((r) => r.baseurl !== undefined || r.content !== undefined, { error: "give baseurl (the repository URL) or content (a full .repo / .sources file)" });

const managerOptions = z.strictObject({
  weakDeps: z.boolean().default(false).describe("Install weak dependencies (dnf install_weak_deps, apt and zypper Recommends)"),
  best: z.boolean().default(true).describe("dnf: insist on the best candidate (--best)"),
  nogpgcheck: z.boolean().default(false).describe("Skip signature checks (zypper --no-gpg-checks). Only when you know why."),
  gpgAutoImportKeys: z
    .boolean()
    .default(false)
    .describe("zypper: trust and import new repository signing keys (--gpg-auto-import-keys); otherwise only the keys named by gpgkey are trusted"),
  docs: z.boolean().default(false).describe("Install documentation (dnf tsflags=nodocs, apt path-exclude, rpm %_excludedocs for zypper)"),
  proxy: httpUrl.optional().describe("HTTP proxy for the package manager"),
  variant: z.enum(["minbase", "essential", "apt", "required", "important", "standard"]).default("minbase").describe("apt/mmdebstrap: variant"),
  mirror: z.string().optional().describe("apt: a sources file path or 'deb …' line for mmdebstrap; default the host's apt sources"),
  installer: z
    .enum(["host", "image"])
    .optional()
    .describe("Run the package manager on the host into the mount (default from scratch) or inside the image (default on a parent)"),
});

/** Package managers: each has a plug-in in the registry. */
export const MANAGERS = MANAGER_NAMES;

export const PackagesSchema = z.strictObject({
  manager: z.enum(MANAGERS).describe("Package manager: dnf (RPM), apt (Debian/Ubuntu via mmdebstrap), zypper (SUSE)"),
  release: z.string().min(1).optional().describe("dnf --releasever, the apt suite (e.g. bookworm), or zypper --releasever ($releasever in repository URLs)"),
  repos: z
    .array(repo)
    .default([])
    .describe(
      "Package repositories (dnf/zypper .repo, apt sources). From scratch they are the only ones used: apt takes the host's sources only when the recipe names no repository and no mirror, so a recipe adding a site repository lists the distribution's archive too. On a parent they add to the image's own",
    ),
  groups: z.array(z.string().min(1)).default([]).describe("dnf groups, e.g. 'Minimal Install' or minimal-install"),
  patterns: z.array(pkg).default([]).describe("zypper patterns, e.g. minimal_base (installed as the capability pattern() = NAME)"),
  modules: z
    .strictObject({
      enable: z.array(pkg).default([]).describe("dnf module enable, e.g. nodejs:18"),
      install: z.array(pkg).default([]).describe("dnf module install, e.g. nodejs:18/common"),
    })
    .prefault({})
    .describe("dnf modules"),
  install: z.array(pkg).default([]).describe("Packages to install"),
  remove: z
    .array(pkg)
    .default([])
    .describe(
      "Packages to remove after installing. Removing one that a package named in install: needs fails the build (dnf, apt and zypper would remove both)",
    ),
  options: managerOptions.prefault({}).describe("Package manager options"),
});

// --- files and commands ---------------------------------------------------------------------

const fileEntry = z
  .strictObject({
    dest: imagePath.describe("Absolute path inside the image"),
    src: z.string().min(1).optional().describe("File or directory relative to the recipe"),
    content: z.string().optional().describe("Inline file content"),
    mode: z
      .string()
      .regex(MODE, { error: "must be an octal mode such as 0644" })
      .optional()
      .describe(
        'Octal mode, e.g. "0755" (default 0644 for content, the file\'s own mode for src). For a directory src it is the mode of the files in it; its directories get the same with search (x) wherever read is allowed (0644 → 0755, 0640 → 0750), without the setuid, setgid and sticky bits',
      ),
    owner: z
      .string()
      .regex(OWNER, { error: "must be user or user:group" })
      .optional()
      .describe(
        "user or user:group inside the image: a name must exist once the base, packages and users:/groups: are in (checked before any file is copied). The file (or the copied directory) is theirs; directories made on the way to dest are root's, 0755",
      ),
  })
  .refine((f) => f.src === undefined || f.content === undefined, { error: "give src or content, not both" })
  .refine((f) => f.src !== undefined || f.content !== undefined, { error: "give src (a file next to the recipe) or content (inline text)" })
  // buildah would write the content as a file named after the temporary copy (/etc/ → /etc/etc).
  .refine((f) => f.content === undefined || !f.dest.endsWith("/"), {
    error: "content is written to one file: end dest with the file's name, e.g. /etc/motd (a / at the end names a directory)",
    path: ["dest"],
  });

/** A path relative to the recipe's directory (checked to stay inside it when the recipe loads). */
const recipeRelative = z.string().min(1).regex(/^[^/]/, { error: "must be a path relative to the recipe's directory" });

const ansibleRun = z.strictObject({
  playbook: recipeRelative.describe(
    "Playbook file, relative to the recipe. It, its roles and the templates/, files/, vars/, group_vars/ and host_vars/ directories beside it are hashed into the cache key",
  ),
  roles: recipeRelative.optional().describe("Roles directory, relative to the recipe (ANSIBLE_ROLES_PATH)"),
  inventoryVars: z
    .record(z.string().regex(ENV_NAME, { error: "must be a variable name" }), z.unknown())
    .default({})
    .describe("Host variables of the image in the generated inventory"),
  groups: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an Ansible group name (letters, digits, _)" }))
    .default([])
    .describe("Inventory groups the image belongs to (besides all): plays targeting them run, and their group_vars/ beside the playbook apply"),
  extraVars: z
    .record(z.string().regex(ENV_NAME, { error: "must be a variable name" }), z.unknown())
    .default({})
    .describe("Extra variables (ansible-playbook -e), highest precedence"),
  tags: z
    .array(z.string().regex(/^[^\s,]+$/, { error: "must be one tag (no spaces or commas)" }))
    .default([])
    .describe("Run only tasks with these tags (--tags)"),
});

/** How a command's run: is written (also said when run: is a string). */
export const ARGV_HINT = "run is an argv list, one item per word, e.g. [systemctl, enable, munge]; for a shell line use script:";

/** An argv list: its program one word ([systemctl enable munge] in YAML is one item, and buildah would look for a program of that name). */
const argv = z
  .array(z.string())
  .min(1)
  .refine((words) => words[0] === undefined || (words[0] !== "" && !/\s/.test(words[0])), {
    error: `the program must be one word: ${ARGV_HINT}`,
    path: [0],
  });

const commandEntry = z
  .strictObject({
    name: z.string().optional().describe("Shown in progress output"),
    run: argv.optional().describe("argv run inside the image, no shell"),
    script: z.string().min(1).optional().describe("Shell script run inside the image with /bin/sh -ec"),
    ansible: ansibleRun
      .optional()
      .describe(
        "Run an Ansible playbook against the image root with the host's ansible-playbook (chroot connection from community.general); the image needs python3",
      ),
    env: envMap.default({}).describe("Environment variables for the command"),
    timeout: seconds.optional().describe("Seconds before the command is stopped"),
  })
  .refine((c) => [c.run, c.script, c.ansible].filter((v) => v !== undefined).length <= 1, { error: "give one of run, script or ansible" })
  .refine((c) => c.run !== undefined || c.script !== undefined || c.ansible !== undefined, {
    error: "give run (an argv list), script (a shell script) or ansible (a playbook)",
  });

// --- users and groups with fixed ids -------------------------------------------------------

/** A user or group name as shadow-utils accepts it (NAME_REGEX of useradd, Debian and EL alike). */
const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]*[$]?$/;
const accountName = z
  .string()
  .max(32)
  .regex(ACCOUNT_NAME, { error: "must be a user/group name: lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters" });
/** 65534 is nobody/nogroup and 4294967295 is (uid_t)-1: neither can be given to an account. */
const accountId = z
  .number()
  .int()
  .min(0)
  .max(4_294_967_294)
  .refine((n) => n !== 65534, { error: "65534 is nobody/nogroup; pick another id" });

const groupEntry = z.strictObject({
  name: accountName.describe("Group name"),
  gid: accountId.describe("Fixed group id, the same on every image"),
  system: z.boolean().default(false).describe("A system group (documentation only: the id is what counts)"),
});

const userEntry = z.strictObject({
  name: accountName.describe("User name"),
  uid: accountId.describe("Fixed user id, the same on every image"),
  group: accountName
    .optional()
    .describe("Primary group: a name from groups: or already in the image. Default: a group named like the user, with gid = uid, created if missing"),
  groups: z.array(accountName).default([]).describe("Supplementary groups (from groups: or already in the image)"),
  home: imagePath.optional().describe("Home directory recorded in /etc/passwd (not created). Default /home/NAME, or / for system users"),
  shell: imagePath.optional().describe("Login shell. Default /bin/sh, or /usr/sbin/nologin for system users"),
  comment: z
    .string()
    .regex(/^[^:\n]*$/, { error: "must not contain ':' or newlines (it is a field of /etc/passwd)" })
    .optional()
    .describe("GECOS field"),
  system: z.boolean().default(false).describe("A system account: no login shell and / as home by default, locked password"),
});

// --- kernel modules for the image's kernel --------------------------------------------------

const kernelModuleBuild = z.strictObject({
  src: recipeRelative.describe(
    "Directory with the module's source (a Kbuild file or a Makefile for kbuild), relative to the recipe; hashed into the cache key. Copied into the image and built there with make -C /lib/modules/KVER/build M=DIR",
  ),
  make: z
    .array(z.string().regex(/^[^\s-][^\s]*$/, { error: "must be one make argument such as VAR=value (no spaces, not starting with -)" }))
    .default([])
    .describe("Extra make arguments (variables such as CONFIG_FOO=m) for both the build and modules_install"),
});

const kernelModules = z
  .strictObject({
    dkms: z
      .array(pkg)
      .default([])
      .describe(
        "DKMS packages (e.g. v4l2loopback-dkms) installed with apt-get inside the image together with the selected kernel's headers (linux-headers-KVER), then built and installed for that kernel with dkms autoinstall -k KVER",
      ),
    build: kernelModuleBuild
      .optional()
      .describe("An out-of-tree module built from source against the selected kernel's headers, installed into /lib/modules/KVER/extra"),
  })
  .refine((k) => k.dkms.length > 0 || k.build !== undefined, { error: "give dkms (a list of DKMS packages) or build (a module source directory)" });

// --- compliance scan ----------------------------------------------------------------------

/** XCCDF rule severities, lowest first (XCCDF 1.2 §6.4.4.2). */
export const SCAN_SEVERITIES = ["unknown", "info", "low", "medium", "high"] as const;

const openscapScan = z.strictObject({
  profile: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, { error: "must be an XCCDF profile id, e.g. xccdf_org.ssgproject.content_profile_standard" })
    .describe(
      "XCCDF profile id (oscap info DATASTREAM lists them), e.g. xccdf_org.ssgproject.content_profile_standard, or the end of exactly one id as oscap takes it (standard). It must be a profile of the data stream or the tailoring file: checked when the recipe is loaded",
    ),
  datastream: z
    .string()
    .min(1)
    .describe(
      "SCAP source data stream: an absolute path on the build host (e.g. /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml from Debian's ssg-debian) or a path relative to the recipe. Hashed into the cache key",
    ),
  tailoring: recipeRelative.optional().describe("XCCDF tailoring file relative to the recipe (oscap --tailoring-file)"),
  cpe: recipeRelative
    .optional()
    .describe(
      "Extra CPE dictionary relative to the recipe (oscap --cpe), for content whose platform does not name the image's release, e.g. Debian 12 scanned with the Debian 11 content",
    ),
  remediate: z
    .boolean()
    .default(false)
    .describe(
      "Apply the content's bash fixes for the failed rules inside the image, then scan again; the second scan's results are the ones reported and judged",
    ),
  failOn: z
    .strictObject({
      severity: z.enum(SCAN_SEVERITIES).default("high").describe("Count failed rules of this severity or higher"),
      max: z.number().int().min(0).default(0).describe("Most such failures allowed; one more fails the build before anything is published"),
    })
    .prefault({})
    .describe("When the scan fails the build"),
  timeout: seconds.default(1800).describe("Seconds each oscap run may take"),
});

const scan = z.strictObject({
  openscap: openscapScan
    .optional()
    .describe(
      "Scan the image root with the host's oscap (openscap-scanner) before it is squashed: ARF, XCCDF results and an HTML report beside the artifacts, counts in manifest.json",
    ),
});

// --- boot artifacts -------------------------------------------------------------------------

export const COMPRESSIONS = ["zstd", "xz", "gzip", "lz4", "lzo"] as const;

const rootfs = z.strictObject({
  profile: z
    .enum(["dev", "release"])
    .default("dev")
    .describe("dev: zstd level 3 (fast); release: xz with the architecture's BCJ filter (x86; none for aarch64) (small)"),
  compression: z.enum(COMPRESSIONS).optional().describe("Overrides the profile's compressor"),
  level: z.number().int().min(1).max(22).optional().describe("Compression level (zstd 1-22, gzip 1-9)"),
  exclude: z.array(rootfsExclude).default(["boot"]).describe("Paths (relative to /) left out of the squashfs"),
});

const initramfs = z.strictObject({
  modules: z
    .array(z.string().min(1))
    .optional()
    .describe(
      "dracut --add. Default by the image's family (the package manager of the recipe or its parents): apt (Debian) dmsquash-live, livenet, network-legacy; dnf (EL) and unknown bases dmsquash-live, livenet, network",
    ),
  drivers: z.array(z.string().min(1)).default([]).describe("dracut --add-drivers"),
  omit: z.array(z.string().min(1)).default([]).describe("dracut --omit"),
  compress: z
    .string()
    .min(1)
    .optional()
    .describe(
      "dracut --compress: zstd (bootsmith runs zstd -9 -q -T0: within 2 % of dracut's zstd -15 in size, five times faster; needs zstd in the image), gzip, xz, or a command line such as 'gzip -1' or 'zstd -15 -q -T0'",
    ),
  args: z.array(z.string()).default([]).describe("Extra dracut arguments"),
});

/** Check names travel in console frames and file names: one word. */
export const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const regex = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: "must be a valid regular expression" },
);

export const BootCheckSchema = z
  .strictObject({
    name: z
      .string()
      .regex(CHECK_NAME, { error: "must be one word: letters, digits, . _ - (at most 64 characters), e.g. slurmd-active" })
      .describe("Shown in the report and on the console"),
    run: argv.optional().describe("argv run on the booted node, no shell"),
    script: z.string().min(1).optional().describe("Shell script run on the booted node with /bin/sh -ec"),
    expect: z
      .strictObject({
        exit: z.number().int().min(0).max(255).default(0).describe("Exit code that counts as a pass"),
        stdout: regex.optional().describe("Regular expression the standard output must match"),
      })
      .prefault({})
      .describe("What a pass looks like"),
    timeout: seconds.default(60).describe("Seconds before the check is stopped (it then fails)"),
  })
  .refine((c) => c.run === undefined || c.script === undefined, { error: "give run or script, not both" })
  .refine((c) => c.run !== undefined || c.script !== undefined, { error: "give run (an argv list) or script (a shell script)" });

const bootTest = z
  .strictObject({
    marker: z.string().min(1).optional().describe("Regular expression the console must print for boot-test to PASS"),
    timeout: seconds.default(300).describe("Seconds the boot test waits for the marker"),
    checks: z.array(BootCheckSchema).default([]).describe("Checks run inside the booted node after it is up; boot-test fails if one fails"),
    builtinChecks: z.boolean().default(true).describe("Also run bootsmith's built-in checks (system state, image id, live root, kernel modules)"),
  })
  .refine((t) => new Set(t.checks.map((c) => c.name)).size === t.checks.length, { error: "check names must be unique" });

export const BootSchema = z.strictObject({
  kernel: z
    .string()
    .regex(KERNEL, { error: "must be newest or an installed kernel version such as 5.14.0-503.el9.x86_64 or 6.1.0-27-amd64" })
    .default("newest")
    .describe("'newest' (version-aware) or an exact kernel version, e.g. 5.14.0-503.el9.x86_64"),
  initramfs: initramfs.prefault({}).describe("The initramfs, built by dracut inside the image"),
  rootfs: rootfs.prefault({}).describe("The root filesystem squashfs"),
  params: paramsTemplate
    .default(DEFAULT_PARAMS_TEMPLATE)
    .describe("Kernel command line template; {{ rootfs.url }}, {{ kernel.url }}, {{ initrd.url }}, {{ name }}, {{ tag }}"),
  test: bootTest.prefault({}).describe("bootsmith boot-test settings"),
});

// --- publish and register -------------------------------------------------------------------

const publishRegistry = z.strictObject({
  type: z.literal("registry"),
  repository: z
    .string()
    .regex(REPOSITORY, {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is not a registry repository: write HOST[:PORT]/PATH with a lowercase PATH and no tag (the recipe's tags are pushed), e.g. registry.local:5000/images/rocky-9`,
    })
    .describe("Repository pushed to, one tag per recipe tag, e.g. registry.local:5000/images/rocky-9"),
  tlsVerify: z.boolean().default(true).describe("Verify the registry's TLS certificate"),
  authFile: z.string().optional().describe("Registry credentials file (buildah --authfile)"),
  lookaside: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Directory the image signatures are written to when the recipe is signed (registries.d lookaside-staging; serve it to pull hosts as their lookaside URL). Default: the host's registries.d configuration",
    ),
});
/** An S3 bucket name: 3-63 lowercase letters, digits, dots, hyphens (recipes and `publish --to s3://`). */
export const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * An S3 key prefix with an empty path segment (a leading /, or //) makes keys such as
 * `/a//b/name/tag/vmlinuz`: an S3 console cannot show them, and they are not the folder meant.
 * The prefix meant (empty segments dropped), or undefined when the prefix is fine.
 */
export function s3PrefixFix(prefix: string): string | undefined {
  return /^\/|\/\//.test(prefix) ? prefix.replace(/\/{2,}/g, "/").replace(/^\//, "") : undefined;
}

/** The end of the message for a prefix s3PrefixFix rejects, with the fixed form (`write …`). */
export const S3_EMPTY_SEGMENT = "has an empty path segment (a leading / or //), which makes keys an S3 console cannot show and that are not the folder meant";

/**
 * Object key layouts in a bucket. bootsmith: `<prefix><name>/<tag>/{vmlinuz,initramfs.img,
 * rootfs.squashfs,manifest.json}`, self-contained per tag. image-builder (OpenCHAMI's):
 * `efi-images/<prefix>vmlinuz-KVER`, `efi-images/<prefix>initramfs-KVER.img`, `<prefix><name>-<tag>`
 * (squashfs) and `<prefix><name>-<tag>.manifest.json`; kernel and initramfs are named by kernel
 * version only, so give each image its own prefix.
 */
export const S3_LAYOUTS = ["bootsmith", "image-builder"] as const;

const publishS3 = z.strictObject({
  type: z.literal("s3"),
  endpoint: httpUrl.optional().describe("S3 endpoint URL (default: AWS)"),
  bucket: z.string().regex(S3_BUCKET, { error: "must be an S3 bucket name (3-63 lowercase letters, digits, . -)" }).describe("Bucket name"),
  prefix: z
    .string()
    .refine((p) => s3PrefixFix(p) === undefined, {
      error: (issue) => `${JSON.stringify(issue.input)} ${S3_EMPTY_SEGMENT}: write ${JSON.stringify(s3PrefixFix(String(issue.input)))}`,
    })
    .default("")
    .describe(
      "Key prefix, without a leading / or empty segments (//). bootsmith layout: a folder, images and images/ both put a set under images/<name>/<tag>/. image-builder layout: pasted into the names as image-builder's s3_prefix is (site- gives efi-images/site-vmlinuz-KVER)",
    ),
  region: z.string().optional().describe("S3 region"),
  publicBase: httpUrl.optional().describe("Base URL nodes download from (anonymous http)"),
  layout: z.enum(S3_LAYOUTS).default("bootsmith").describe("Object key layout: bootsmith's or OpenCHAMI image-builder's"),
  caFile: z.string().optional().describe("CA certificate file for the endpoint"),
  forcePathStyle: z.boolean().default(true).describe("Path-style URLs (Ceph RGW, MinIO)"),
});
const publishLocal = z.strictObject({
  type: z.literal("local"),
  dir: z.string().min(1).describe("Directory the artifacts are published to"),
  publicBase: httpUrl.optional().describe("Base URL nodes download that directory from"),
});
export const PublishTargetSchema = z.discriminatedUnion("type", [publishRegistry, publishS3, publishLocal], {
  error: 'must be one of "registry", "s3", "local"',
});

const selectors = {
  macs: z
    .array(z.string().regex(MAC_INPUT, { error: "must be a MAC address like 52:54:00:12:34:56 or 52-54-00-12-34-56" }))
    .default([])
    .describe("Node MAC addresses, with colons or dashes, either case (sent to BSS as 52:54:00:12:34:56)"),
  hosts: z
    .array(
      z
        .string()
        .regex(HOST_NAME, { error: (issue) => hostNameProblem(String(issue.input)), abort: true })
        .refine((host) => hostNameProblem(host) === undefined, { error: (issue) => hostNameProblem(String(issue.input)) }),
    )
    .default([])
    .describe("Node host names as BSS takes them: xnames (x1000c0s0b0n0), a BSS tag (Default, or an HSM role such as Compute) or host names"),
  nids: z
    .array(
      z
        .number()
        .int()
        .nonnegative()
        .max(NID_MAX, { error: `must be at most ${NID_MAX} (BSS stores node numbers as 32-bit integers)` }),
    )
    .default([])
    .describe("Node ids (BSS stores them as 32-bit integers)"),
};
const registerVerify = z.strictObject({
  key: z.string().min(1).describe("Public key file (relative to the recipe) that must have signed SHA256SUMS (gpg --export KEYID > key.gpg)"),
});
const registerArch = ARCH.optional().describe(
  "Which architecture's artifacts these nodes boot: required in a recipe with arches:, registered after the combined publish",
);
const registerBss = z.strictObject({
  type: z.literal("bss"),
  arch: registerArch,
  url: httpUrl.describe("BSS base URL (routes under /boot/v1)"),
  ...selectors,
  params: paramsTemplate.default("").describe("Site-wide params appended to the image's"),
  tokenEnv: z.string().regex(ENV_NAME).optional().describe("Environment variable holding the bearer token"),
  caFile: z.string().optional().describe("CA certificate file for the service"),
  from: z.enum(["s3", "local"]).optional().describe("Which publish target's URLs to register (default: the first with URLs)"),
  verify: registerVerify.optional().describe("Refuse to register unless the published set verifies from the URLs nodes use"),
});
const registerBootService = z.strictObject({
  type: z.literal("boot-service"),
  arch: registerArch,
  url: httpUrl.describe("boot-service base URL"),
  name: name.describe("BootConfiguration name"),
  ...selectors,
  groups: z.array(z.string().min(1)).default([]).describe("Node groups"),
  priority: z.number().int().min(0).max(100).default(0).describe("BootConfiguration priority, 0–100: the higher wins when configurations overlap"),
  params: paramsTemplate.default("").describe("Site-wide params appended to the image's"),
  tokenEnv: z.string().regex(ENV_NAME).optional().describe("Environment variable holding the bearer token"),
  caFile: z.string().optional().describe("CA certificate file for the service"),
  legacy: z.boolean().default(false).describe("Use the /boot/v1 legacy API"),
  from: z.enum(["s3", "local"]).optional().describe("Which publish target's URLs to register (default: the first with URLs)"),
  verify: registerVerify.optional().describe("Refuse to register unless the published set verifies from the URLs nodes use"),
});
export const RegistrationSchema = z
  .discriminatedUnion("type", [registerBss, registerBootService], { error: 'must be "bss" or "boot-service"' })
  .refine((r) => r.macs.length + r.hosts.length + r.nids.length + ("groups" in r ? r.groups.length : 0) > 0, {
    error: "name at least one node: macs, hosts, nids (or groups for boot-service)",
  });

const signing = z.strictObject({
  key: z
    .string()
    .min(1)
    .describe("Secret OpenPGP key: a file (relative to the recipe), env:NAME (armored key in a variable) or keyring:KEYID (your gpg keyring/agent)"),
  passphraseEnv: z.string().regex(ENV_NAME).optional().describe("Environment variable holding the key's passphrase (default BOOTSMITH_SIGN_PASSPHRASE)"),
});

// --- the recipe -----------------------------------------------------------------------------

export const RecipeSchema = z
  .strictObject({
    $schema: z.string().optional(),
    apiVersion: z.literal("bootsmith/v1", { error: 'must be "bootsmith/v1"' }).default("bootsmith/v1").describe("Recipe format version"),
    name: name.describe("Image name"),
    tags: z
      .array(tag)
      .min(1, { error: "give at least one tag; the first is the primary" })
      .default(["latest"])
      .describe("Image tags; the first is the primary"),
    arch: ARCH.default("x86_64").describe(
      "Target architecture. On a host of the other architecture its programs run through qemu-user (binfmt_misc: `bootsmith doctor --arch aarch64` checks it) and boot-test emulates the node",
    ),
    arches: z
      .array(ARCH)
      .min(1, { error: "name at least one architecture" })
      .refine((a) => new Set(a).size === a.length, { error: "each architecture once" })
      .optional()
      .describe(
        "Build the recipe once per architecture (instead of arch): each into <out>/<name>/<tag>/<arch>/, with a combined manifest.json in <out>/<name>/<tag>/ listing all of them. A layer on such a recipe inherits its arches. Not together with arch",
      ),
    description: z.string().optional().describe("Free text"),
    labels: z
      .record(labelKey, z.string())
      .default({})
      .describe(
        "OCI labels added to the committed image (io.bootsmith.* are bootsmith's own: the build sets them). org.opencontainers.image.title is the recipe's name unless given here",
      ),
    vars: z
      .record(z.string().regex(ENV_NAME, { error: "must be a variable name (letters, digits, _)" }), z.string())
      .default({})
      .describe("Variables for ${NAME} substitution; a value may use other variables, e.g. BASEOS: ${MIRROR}/9/BaseOS"),
    importEnv: z.array(z.string().regex(ENV_NAME)).default([]).describe("Environment variables allowed in ${NAME} substitution"),
    secrets: z
      .array(z.string().regex(ENV_NAME, { error: "must be a variable name (letters, digits, _)" }))
      .default([])
      .describe("Variables (from vars, --var or importEnv) whose values are secret: shown as *** in build.log, plan output, --json events and errors"),
    from: FromSchema,
    packages: PackagesSchema.optional().describe(
      "Packages to install (required from scratch). On a parent, naming only the manager lists the image's packages for the SBOMs and installs nothing",
    ),
    groups: z
      .array(groupEntry)
      .default([])
      .describe(
        "Groups with fixed ids, written into /etc/group before the recipe's packages install (from scratch: right after the package providing /etc/passwd), so munge, slurm and the like find them and do not pick ids. An id or name already used differently in the image fails the build",
      ),
    users: z
      .array(userEntry)
      .default([])
      .describe(
        "Users with fixed ids, written into /etc/passwd (and /etc/shadow, locked) with the groups, before the recipe's packages install. An id or name already used differently in the image fails the build",
      ),
    files: z
      .array(fileEntry)
      .default([])
      .describe(
        "Files copied or written into the image, in order, after the packages. A later entry may override files of an earlier directory src (or merge its directory into the same dest); one that replaces an earlier entry's file entirely is an error",
      ),
    commands: z.array(commandEntry).default([]).describe("Commands run inside the image, in order, after the files"),
    kernelModules: kernelModules
      .optional()
      .describe(
        "Out-of-tree kernel modules built for the selected kernel (boot.kernel, never the build host's), after the commands and before the initramfs: installed under /lib/modules/KVER, depmod run, and every module's vermagic checked against KVER. Needs packages.manager apt in the same recipe and boot artifacts",
      ),

    scan: scan.optional().describe("Compliance scans of the finished image root, before the squashfs (a threshold failure stops the build before publish)"),
    boot: z
      .union([z.literal(false), BootSchema], { error: "must be false (no boot artifacts) or a mapping of boot settings" })
      .prefault({})
      .describe("Boot artifacts (kernel, initramfs, squashfs), or false for a base layer that is only committed and pushed"),
    publish: z.array(PublishTargetSchema).default([]).describe("Where the artifacts (or the image) are published"),
    register: z.array(RegistrationSchema).default([]).describe("Boot registrations of the published artifacts"),
    signing: signing.optional().describe("Sign the artifact set: SHA256SUMS and a detached GnuPG signature SHA256SUMS.sig (verify with gpgv)"),
  })
  .describe("A bootsmith recipe: one diskless node image");

export type RecipeInput = z.input<typeof RecipeSchema>;
/** A recipe as the schema accepts it; the loader fills in what depends on the parents (initramfs modules). */
export type ParsedRecipe = z.output<typeof RecipeSchema>;
type ParsedBoot = z.output<typeof BootSchema>;
export type BootSpec = Omit<ParsedBoot, "initramfs"> & {
  readonly initramfs: Omit<ParsedBoot["initramfs"], "modules"> & { readonly modules: readonly string[] };
};
/** A loaded recipe: every default applied. */
export type RecipeSpec = Omit<ParsedRecipe, "boot"> & { readonly boot: false | BootSpec };
export type FromSpec = RecipeSpec["from"];
export type PackagesSpec = z.output<typeof PackagesSchema>;
export type BootCheckSpec = z.output<typeof BootCheckSchema>;
export type FileSpec = RecipeSpec["files"][number];
export type CommandSpec = RecipeSpec["commands"][number];
export type AnsibleSpec = NonNullable<CommandSpec["ansible"]>;
export type GroupSpec = RecipeSpec["groups"][number];
export type UserSpec = RecipeSpec["users"][number];
export type KernelModulesSpec = NonNullable<RecipeSpec["kernelModules"]>;

export type OpenscapSpec = NonNullable<NonNullable<RecipeSpec["scan"]>["openscap"]>;
export type ScanSeverity = (typeof SCAN_SEVERITIES)[number];
export type PublishTarget = z.output<typeof PublishTargetSchema>;
/** A publish target as written (defaults not yet applied): what the CLI builds from `--to`. */
export type PublishTargetInput = z.input<typeof PublishTargetSchema>;
export type Registration = z.output<typeof RegistrationSchema>;
export type SigningSpec = z.output<typeof signing>;

/** The JSON Schema for editors (yaml-language-server) and docs. */
export function recipeJsonSchema(): Record<string, unknown> {
  return allowVarReferences(z.toJSONSchema(RecipeSchema, { io: "input", unrepresentable: "any" })) as Record<string, unknown>;
}

/**
 * Values may hold ${NAME} references that bootsmith checks after substitution, so the JSON
 * Schema's value patterns also accept a reference: an editor must not flag `tags: ["${TAG}"]`.
 * Key patterns (propertyNames) stay strict: keys are never substituted (vars.ts refuses one with a reference).
 */
const VAR_REFERENCE = String.raw`\$\{[A-Za-z_][A-Za-z0-9_]*\}`;
function allowVarReferences(node: unknown, parentKey?: string): unknown {
  if (Array.isArray(node)) return node.map((n) => allowVarReferences(n));
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === "pattern" && typeof v === "string" && parentKey !== "propertyNames" ? `(?:${v})|${VAR_REFERENCE}` : allowVarReferences(v, k),
    ]),
  );
}
