// `bootsmith inspect` as text: the artifacts, the largest packages and directories, in columns.
import { formatBytes } from "../core/format.js";
import { builtText, type SizeReport, type TreeReport } from "./inspect.js";

/** Packages listed in the text report (JSON and HTML carry all of them). */
const TEXT_PACKAGES = 25;

export function renderInspectText(report: SizeReport): string {
  const out: string[] = [];
  out.push(`${report.name}:${report.tags[0] ?? "?"} (${report.source}, ${builtText(report.builtAt)})`, "");
  out.push("artifacts (as stored):");
  for (const a of report.artifacts) out.push(`  ${a.file.padEnd(18)} ${size(a.bytes)}`);
  if (report.packages) {
    const p = report.packages;
    out.push("", `packages: ${p.packages.length}, ${formatBytes(p.bytes)} installed (${p.database} database), largest:`);
    for (const pkg of p.packages.slice(0, TEXT_PACKAGES))
      out.push(`  ${size(pkg.bytes)}  ${share(pkg.bytes, p.bytes)}  ${pkg.name}${pkg.arch ? `.${pkg.arch}` : ""} ${pkg.version}`);
    const rest = p.packages.slice(TEXT_PACKAGES);
    if (rest.length > 0) out.push(`  ${size(rest.reduce((s, x) => s + x.bytes, 0))}  ${rest.length} more packages`);
  } else if (report.packagesNotRead) {
    out.push("", `packages: not read (${report.packagesNotRead})`);
  } else if (report.rootfs) {
    out.push("", "packages: no dpkg or rpm database in the rootfs");
  }
  if (report.rootfs) tree(out, "rootfs", report.rootfs);
  if (report.initramfs) tree(out, "initramfs", report.initramfs);
  return `${out.join("\n")}\n`;
}

function tree(out: string[], label: string, t: TreeReport) {
  out.push("", `${label}: ${formatBytes(t.bytes)} in ${t.files} files (unpacked), largest directories:`);
  for (const d of t.largest) out.push(`  ${size(d.bytes)}  ${share(d.bytes, t.bytes)}  ${d.path}`);
}

const size = (bytes: number) => formatBytes(bytes).padStart(10);
const share = (part: number, whole: number) => `${whole > 0 ? ((100 * part) / whole).toFixed(1) : "0.0"}%`.padStart(6);
