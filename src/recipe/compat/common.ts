// Shared by the image-builder and image-thrillhouse converters: the record of where each native
// value came from (so errors found later in the native recipe point at the original file's line
// and key), conversion problems and notes, and small helpers both formats need.
import { formatPath } from "../errors.js";

export type DataPath = readonly (string | number)[];

/** The native fix for an image whose packages go unlisted; converters spell it in their own keys. */
export const ADD_PACKAGE_MANAGER = "packages: {manager: dnf|apt|zypper}";

export interface PathNote {
  /** Path in the original (foreign) file. */
  readonly path: DataPath;
  readonly message: string;
}

export class Conversion {
  /** Problems that stop the conversion: the value cannot be expressed in bootsmith. */
  readonly problems: PathNote[] = [];
  /** What changed in meaning, for the converted recipe's comments and the docs. */
  readonly notes: PathNote[] = [];
  /** Formatted native path → the foreign path it came from. */
  private readonly origins = new Map<string, DataPath>();
  /** A native fix as a message words it → the same fix in the foreign format's own keys. */
  readonly spellings = new Map<string, string>();

  /** The native value at `native` was made from the foreign value at `foreign`. */
  from(native: DataPath, foreign: DataPath): void {
    this.origins.set(formatPath(native), foreign);
  }

  fail(foreign: DataPath, message: string): void {
    this.problems.push({ path: foreign, message });
  }

  /** A message's `native` fix (e.g. a key to add) is written `foreign` for a config of this format. */
  spell(native: string, foreign: string): void {
    this.spellings.set(native, foreign);
  }

  note(foreign: DataPath, message: string): void {
    this.notes.push({ path: foreign, message });
  }

  /** The foreign path a native path (formatted, e.g. packages.repos[1].baseurl) came from: its own or its nearest recorded ancestor's. */
  foreignPathOf(native: string): DataPath {
    let p = native;
    for (;;) {
      const hit = this.origins.get(p);
      if (hit) return hit;
      if (p === "") return [];
      // Drop the last segment: "[3]" or ".key" (or the first key).
      p = p.replace(/(\[\d+\]|\.?[^.[\]]+)$/, "");
    }
  }
}

/**
 * Labels both OpenCHAMI tools stamp on every image (image-builder src/publish.py
 * _generate_labels; image-thrillhouse docs/configuration.md "Image labels"), so tooling that
 * reads them keeps working. The build date is left out on purpose: it would make every
 * build's labels, and so its image, differ. The recipe's own labels override these.
 */
export function openchamiLabels(l: {
  name: string;
  type?: string;
  parent: string;
  manager?: string;
  tags: readonly string[];
  repos: readonly string[];
  packages: readonly string[];
  groups: readonly string[];
}): Record<string, string> {
  const labels: Record<string, string> = {
    "org.openchami.image.name": l.name,
    "org.openchami.image.parent": l.parent,
    "org.openchami.image.tags": l.tags.join(","),
  };
  if (l.type) labels["org.openchami.image.type"] = l.type;
  if (l.manager) labels["org.openchami.image.package-manager"] = l.manager;
  if (l.repos.length > 0) labels["org.openchami.image.repositories"] = l.repos.join(",");
  if (l.packages.length > 0) labels["org.openchami.image.packages"] = l.packages.join(",");
  if (l.groups.length > 0) labels["org.openchami.image.package-groups"] = l.groups.join(",");
  return labels;
}

/** Both tools run plain `mksquashfs DIR FILE` (image-builder publish.py squash_image, image-thrillhouse squashfs.go): its default compressor is gzip, which every kernel mounts. */
export const UPSTREAM_SQUASHFS_COMPRESSION = "gzip";

/** A `dracut` invocation found in a command, and what bootsmith keeps from it. */
export interface DracutCall {
  /** Modules given with --add / -a, in order. */
  readonly modules: string[];
  /** --logfile's path, when given: later commands that only read it go with the dracut call. */
  readonly logfile?: string;
}

/**
 * `text` is a dracut call when its first word is dracut (after optional `env`/assignments are
 * ruled out: those configs run dracut directly). Only then can the command be replaced by
 * bootsmith's own initramfs step; a command that runs dracut among other things is kept.
 */
export function parseDracutCall(text: string): DracutCall | undefined {
  const split = shellWords(text.trim());
  // Redirections (2>/dev/null) end the words but not the call; ; && | mean more than dracut.
  if (!split.ok && split.operator !== ">" && split.operator !== "<") return undefined;
  const w = split.ok ? split.words : split.before;
  if (w[0] !== "dracut") return undefined;
  const modules: string[] = [];
  let logfile: string | undefined;
  for (let i = 1; i < w.length; i++) {
    const word = w[i]!;
    const value = (name: string): string | undefined => (word === name ? w[++i] : word.startsWith(`${name}=`) ? word.slice(name.length + 1) : undefined);
    const add = value("--add") ?? value("-a");
    if (add !== undefined) modules.push(...add.split(/\s+/).filter(Boolean));
    const log = value("--logfile") ?? value("-L");
    if (log !== undefined) logfile = log;
  }
  return { modules, logfile };
}

export type ShellWords = { ok: true; words: string[] } | { ok: false; operator: string; before: string[] };

/**
 * Split a command line into words the way go-shellwords' Parse does with its defaults
 * (image-thrillhouse runs `run:` with it, without a shell): blanks separate words, '…' and "…"
 * quote, backslash escapes, $ and ` are plain characters (no expansion). An unquoted operator
 * (; & | < >) ends the split: go-shellwords stops there and image-thrillhouse silently runs only
 * the words before it.
 */
export function shellWords(line: string): ShellWords {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i]!;
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      cur += line[++i]!;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else if (";&|<>".includes(c)) {
      if (inWord) words.push(cur);
      return { ok: false, operator: c, before: words };
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return { ok: false, operator: quote, before: words };
  if (inWord) words.push(cur);
  return { ok: true, words };
}

/**
 * The release a dnf build from scratch needs (--releasever), read from repository URLs that
 * name it (…/rocky/9/BaseOS/…, …/epel/8/…, …/el8/…). image-builder never passes one: dnf
 * takes the build host's, which is why its EL9 images need the image-build-el9 container.
 * Undefined when no URL names a version or they disagree.
 */
export function releaseFromUrls(urls: readonly string[]): string | undefined {
  const majors = new Set<string>();
  for (const url of urls) {
    const m = /\/(?:el)?(\d{1,2})(?:\.\d+)?\//i.exec(url.replace(/^[a-z]+:\/\/[^/]+/i, "") + "/");
    if (m) majors.add(m[1]!);
  }
  return majors.size === 1 ? [...majors][0] : undefined;
}

/** Last path segment without extension: /etc/yum.repos.d/rocky-baseos.repo → rocky-baseos. */
export function baseName(p: string): string {
  const last = p.split("/").filter(Boolean).pop() ?? p;
  const dot = last.lastIndexOf(".");
  return dot > 0 ? last.slice(0, dot) : last;
}

/** OpenSCAP settings as both OpenCHAMI tools spell them (image-builder src/oscap.py, image-thrillhouse config.OpenSCAP). */
export interface OpenchamiOpenscap {
  readonly install_scap?: boolean;
  readonly scap_benchmark?: boolean;
  readonly oval_eval?: boolean;
  readonly profile?: string;
  readonly benchmark_path?: string;
  readonly oval_url?: string;
  readonly results_path?: string;
  readonly remediate_path?: string;
  readonly oval_result_path?: string;
}

/** Their scans never fail a build (`oscap … || true`): the converted threshold only reports. */
export const REPORT_ONLY_MAX = 100000;

/**
 * scap_benchmark → scan.openscap. Both tools install openscap into the image and run `oscap
 * xccdf eval … || true` inside it, then generate (not apply) a fix script into the image's
 * /root; bootsmith scans from the host, writes the results beside the artifacts and applies no
 * fixes unless asked. `at(key)` is where each key sits in the original file.
 */
export function convertOpenscap(o: OpenchamiOpenscap, at: (key: keyof OpenchamiOpenscap) => DataPath, conv: Conversion) {
  if (o.oval_eval)
    conv.fail(
      at("oval_eval"),
      "OVAL vulnerability evaluation (oval_eval, oval_url) has no bootsmith equivalent: its definitions are downloaded at build time. Remove it and run `oscap oval eval` against the published image's package list, or keep a commands: entry that runs it in the image",
    );
  if (o.install_scap)
    conv.note(
      at("install_scap"),
      "not needed: bootsmith scans with the build host's oscap (apt-get install openscap-scanner ssg-debian), so openscap-utils and scap-security-guide are not installed into the image; add them to packages if the nodes need them",
    );
  for (const key of ["results_path", "remediate_path", "oval_result_path"] as const)
    if (o[key] !== undefined)
      conv.note(
        at(key),
        `ignored: the results, report and fix script go beside the artifacts (openscap-results.xml, openscap-report.html, openscap-remediation.sh), not into the image`,
      );
  if (!o.scap_benchmark) {
    for (const key of ["profile", "benchmark_path"] as const)
      if (o[key] !== undefined) conv.note(at(key), "ignored: scap_benchmark is not set, so no scan runs");
    return undefined;
  }
  if (!o.profile) conv.fail(at("scap_benchmark"), "scap_benchmark needs profile (an XCCDF profile id, e.g. xccdf_org.ssgproject.content_profile_standard)");
  if (!o.benchmark_path)
    conv.fail(at("scap_benchmark"), "scap_benchmark needs benchmark_path (the data stream, e.g. /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml)");
  if (!o.profile || !o.benchmark_path) return undefined;
  conv.note(
    at("benchmark_path"),
    `read on the build host now, not in the image: install the content there (Debian: ssg-debian) or copy ${o.benchmark_path} next to the recipe and name it relative to it`,
  );
  conv.note(
    at("scap_benchmark"),
    `scanned from the host before the squashfs; like the original the scan does not fail the build (failOn.max ${REPORT_ONLY_MAX}): lower scan.openscap.failOn.max to enforce it, set remediate: true to apply the fixes`,
  );
  return { openscap: { profile: o.profile, datastream: o.benchmark_path, failOn: { severity: "high" as const, max: REPORT_ONLY_MAX } } };
}
