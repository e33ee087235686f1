// `bootsmith inspect --html FILE`: the size report as one self-contained page (inline CSS and
// SVG, no script, no font or CDN: it opens offline, from a mail attachment or a CI artifact).
// The charts are laid out here, at render time: a squarified treemap per file tree (nested
// directories, area = bytes, a hue per top-level directory) and a bar chart of the packages.
// Every drawn element carries data-path/data-bytes (or data-package) and a <title> tooltip.
import { formatBytes } from "../core/format.js";
import { builtText, type SizeReport, type TreeReport } from "./inspect.js";
import type { SizeNode } from "./size-tree.js";
import { squarify, type Rect } from "./treemap.js";

const TREEMAP = { width: 1000, height: 560 } as const;
/** Height of a directory's name strip above its children. */
const HEADER = 17;
const PAD = 2;
/** Packages drawn as bars; the rest are summed into one line. */
const BAR_PACKAGES = 30;
/** Distinct hues for top-level directories (colour-blind friendlier order: no red/green neighbours). */
const HUES = [211, 28, 268, 172, 340, 48, 190, 300, 95, 0, 240, 130];

export function renderInspectHtml(report: SizeReport): string {
  const title = `${report.name}:${report.tags[0] ?? "?"}`;
  const sections = [cards(report), artifactsBar(report)];
  if (report.rootfs) sections.push(treeSection("rootfs", "Root filesystem", report.rootfs));
  if (report.packages) sections.push(packagesSection(report));
  if (report.initramfs) sections.push(treeSection("initramfs", "Initramfs", report.initramfs));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · size report</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)} <span class="sub">size report</span></h1>
<p class="meta">${esc(builtText(report.builtAt))} · ${esc(report.source)} · tags ${esc(report.tags.join(", "))}</p>
</header>
<main>
${sections.join("\n")}
</main>
<footer>bootsmith inspect · sizes are uncompressed bytes of files and symlinks unless marked “stored”; package sizes are what the package database records</footer>
</body>
</html>
`;
}

function cards(r: SizeReport): string {
  const card = (id: string, label: string, value: string, note: string) =>
    `<div class="card" id="card-${id}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="note">${esc(note)}</div></div>`;
  const stored = r.artifacts.reduce((s, a) => s + a.bytes, 0);
  const out = [card("stored", "stored artifacts", formatBytes(stored), `${r.artifacts.length} files`)];
  if (r.rootfs) out.push(card("rootfs", "root filesystem", formatBytes(r.rootfs.bytes), `${r.rootfs.files.toLocaleString("en")} files, unpacked`));
  if (r.packages)
    out.push(card("packages", "packages", String(r.packages.packages.length), `${formatBytes(r.packages.bytes)} installed (${r.packages.database})`));
  if (r.initramfs) out.push(card("initramfs", "initramfs", formatBytes(r.initramfs.bytes), `${r.initramfs.files.toLocaleString("en")} files, unpacked`));
  return `<section class="cards">${out.join("")}</section>`;
}

function artifactsBar(r: SizeReport): string {
  const total = r.artifacts.reduce((s, a) => s + a.bytes, 0);
  if (total === 0) return "";
  const width = 1000;
  let x = 0;
  const segs = r.artifacts.map((a, i) => {
    const w = (a.bytes / total) * width;
    const color = `hsl(${HUES[i % HUES.length]} 55% 55%)`;
    const seg = `<g class="artifact" data-file="${esc(a.file)}" data-bytes="${a.bytes}"><rect x="${n(x)}" y="0" width="${n(w)}" height="28" fill="${color}"><title>${esc(a.file)}: ${formatBytes(a.bytes)} stored</title></rect></g>`;
    x += w;
    return { seg, color, a };
  });
  const legend = segs
    .map(({ color, a }) => `<span class="key"><i style="background:${color}"></i>${esc(a.file)} <b>${formatBytes(a.bytes)}</b> (${pct(a.bytes, total)})</span>`)
    .join("");
  return `<section id="artifacts"><h2>Artifacts as stored <span class="sub">${formatBytes(total)}</span></h2>
<svg class="bar" viewBox="0 0 ${width} 28" preserveAspectRatio="none" role="img" aria-label="stored artifact sizes">${segs.map((s) => s.seg).join("")}</svg>
<div class="legend">${legend}</div></section>`;
}

function treeSection(id: string, heading: string, t: TreeReport): string {
  const rows = t.largest
    .slice(0, 12)
    .map(
      (d) =>
        `<tr><td class="path">${esc(d.path)}</td><td class="num">${formatBytes(d.bytes)}</td><td class="num">${pct(d.bytes, t.bytes)}</td><td class="num">${d.files.toLocaleString("en")}</td></tr>`,
    )
    .join("");
  return `<section id="${id}"><h2>${esc(heading)} <span class="sub">${formatBytes(t.bytes)} in ${t.files.toLocaleString("en")} files, unpacked</span></h2>
<p class="hint">Each box is a directory, its area its size; hover for the full path. Grey boxes are files lying directly in the directory around them.</p>
${treemapSvg(id, t.tree)}
<details><summary>Largest directories</summary><table><thead><tr><th>directory</th><th>size</th><th>share</th><th>files</th></tr></thead><tbody>${rows}</tbody></table></details>
</section>`;
}

function treemapSvg(id: string, root: SizeNode): string {
  const parts: string[] = [];
  const total = root.bytes;
  const draw = (node: SizeNode, rect: Rect, depth: number, hue: number) => {
    const items = [...node.children.filter((c) => c.bytes > 0)];
    const own = node.bytes - items.reduce((s, c) => s + c.bytes, 0);
    const values = [...items.map((c) => c.bytes), ...(own > 0 ? [own] : [])];
    const rects = squarify(values, rect);
    items.forEach((child, i) => {
      const r = rects[i]!;
      if (r.w < 1 || r.h < 1) return;
      // Hues tell the top two levels apart (an image is mostly /usr: its subdirectories need colours too).
      const h = depth === 0 ? HUES[i % HUES.length]! : depth === 1 ? (hue + 37 * i) % 360 : hue;
      const light = Math.min(50 + depth * 11, 88);
      const fill = child.folded ? `hsl(${h} 15% ${light + 4}%)` : `hsl(${h} ${depth === 0 ? 60 : 50}% ${light}%)`;
      const tip = `${child.folded ? `${child.name} in ${node.path}` : child.path}\n${formatBytes(child.bytes)} (${pct(child.bytes, total)}), ${child.files.toLocaleString("en")} files`;
      const label = `${child.name} ${formatBytes(child.bytes)}`;
      const nested = child.children.length > 0 && r.w > 40 && r.h > HEADER + 12;
      parts.push(
        `<g class="tm-node${child.folded ? " tm-folded" : ""}" data-path="${esc(child.path)}" data-bytes="${child.bytes}" data-depth="${depth + 1}"><title>${esc(tip)}</title><rect x="${n(r.x)}" y="${n(r.y)}" width="${n(r.w)}" height="${n(r.h)}" fill="${fill}"/>${
          nested ? headerLabel(label, r, depth) : centeredLabel(child.name, formatBytes(child.bytes), r, depth)
        }</g>`,
      );
      if (nested) draw(child, { x: r.x + PAD, y: r.y + HEADER, w: r.w - 2 * PAD, h: r.h - HEADER - PAD }, depth + 1, h);
    });
    if (own > 0) {
      const r = rects[items.length]!;
      if (r.w >= 1 && r.h >= 1)
        parts.push(
          `<g class="tm-files" data-path="${esc(node.path)}" data-bytes="${own}"><title>${esc(`files directly in ${node.path}\n${formatBytes(own)} (${pct(own, total)})`)}</title><rect x="${n(r.x)}" y="${n(r.y)}" width="${n(r.w)}" height="${n(r.h)}" fill="#d9dce1"/></g>`,
        );
    }
  };
  draw(root, { x: 0, y: 0, w: TREEMAP.width, h: TREEMAP.height }, 0, 0);
  return `<svg class="treemap" id="${id}-treemap" viewBox="0 0 ${TREEMAP.width} ${TREEMAP.height}" role="img" aria-label="${id} directories by size">${parts.join("")}</svg>`;
}

/** A directory's name strip: "usr 812.4 MiB", cut to the width it has. */
function headerLabel(text: string, r: Rect, depth: number): string {
  const fitted = fit(text, r.w - 6, 11);
  if (!fitted) return "";
  return `<text x="${n(r.x + 4)}" y="${n(r.y + 12.5)}" class="tm-head${depth === 0 ? " top" : ""}">${esc(fitted)}</text>`;
}

/** A leaf's name and size in its middle, when the box is big enough to read them. */
function centeredLabel(name: string, size: string, r: Rect, depth: number): string {
  if (r.h < 14) return "";
  const cls = depth === 0 ? "tm-leaf top" : "tm-leaf";
  const nameFit = fit(name, r.w - 6, 11);
  if (!nameFit) return "";
  const cx = n(r.x + r.w / 2);
  if (r.h >= 30 && fit(size, r.w - 6, 10))
    return `<text x="${cx}" y="${n(r.y + r.h / 2 - 2)}" class="${cls}">${esc(nameFit)}</text><text x="${cx}" y="${n(r.y + r.h / 2 + 11)}" class="${depth === 0 ? "tm-size top" : "tm-size"}">${esc(size)}</text>`;
  return `<text x="${cx}" y="${n(r.y + r.h / 2 + 4)}" class="${cls}">${esc(nameFit)}</text>`;
}

/** `text` cut with an ellipsis to fit `width` px at roughly `em` px per character; undefined if not even 3 characters fit. */
function fit(text: string, width: number, em: number): string | undefined {
  const chars = Math.floor(width / (em * 0.6));
  if (chars >= text.length) return text;
  if (chars < 4) return undefined;
  return `${text.slice(0, chars - 1)}…`;
}

function packagesSection(r: SizeReport): string {
  const p = r.packages!;
  const shown = p.packages.slice(0, BAR_PACKAGES);
  const rest = p.packages.slice(BAR_PACKAGES);
  const max = shown[0]?.bytes ?? 1;
  const rowH = 22;
  const labelW = 300;
  const barW = 560;
  const rows = shown.map((pkg, i) => {
    const y = i * rowH;
    const w = Math.max(1, (pkg.bytes / max) * barW);
    const tip = `${pkg.name}${pkg.arch ? `.${pkg.arch}` : ""} ${pkg.version}\n${formatBytes(pkg.bytes)} installed (${pct(pkg.bytes, p.bytes)} of all packages)`;
    return `<g class="pkg" data-package="${esc(pkg.name)}" data-bytes="${pkg.bytes}"><title>${esc(tip)}</title><text x="${labelW - 8}" y="${y + 15}" class="pkg-name">${esc(fit(pkg.name, labelW - 10, 12) ?? pkg.name)}</text><rect x="${labelW}" y="${y + 3}" width="${n(w)}" height="${rowH - 6}" rx="3" fill="hsl(211 ${n(40 + 30 * (pkg.bytes / max))}% 52%)"/><text x="${n(labelW + w + 6)}" y="${y + 15}" class="pkg-size">${formatBytes(pkg.bytes)} · ${pct(pkg.bytes, p.bytes)}</text></g>`;
  });
  const height = shown.length * rowH + 4;
  const more = rest.length > 0 ? `<p class="hint">and ${rest.length} more packages, ${formatBytes(rest.reduce((s, x) => s + x.bytes, 0))} together.</p>` : "";
  return `<section id="packages"><h2>Packages by installed size <span class="sub">${p.packages.length} packages, ${formatBytes(p.bytes)} (${p.database} database)</span></h2>
<svg class="bars" viewBox="0 0 1000 ${height}" role="img" aria-label="largest packages">${rows.join("")}</svg>${more}</section>`;
}

const pct = (part: number, whole: number) => `${whole > 0 ? ((100 * part) / whole).toFixed(1) : "0.0"}%`;
const n = (v: number) => (Math.round(v * 10) / 10).toString();

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{color-scheme:light;--ink:#1d2330;--muted:#5f6b7a;--line:#e3e6eb;--bg:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
header{padding:22px 32px 8px}
h1{margin:0;font-size:26px}
h2{font-size:18px;margin:0 0 10px}
.sub{font-weight:400;color:var(--muted);font-size:.8em;margin-left:.4em}
.meta,.hint,footer{color:var(--muted)}
.hint{margin:0 0 8px;font-size:13px}
main{padding:0 32px 24px;max-width:1240px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:14px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;background:none;border:0;padding:0}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:26px;font-weight:650}
.card .note{color:var(--muted);font-size:12px}
svg{display:block;width:100%;height:auto}
svg.bar{height:28px;border-radius:6px;overflow:hidden}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin-top:8px;font-size:13px}
.key i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.treemap rect{stroke:#fff;stroke-width:1}
.tm-node:hover>rect,.tm-files:hover>rect{stroke:#1d2330;stroke-width:2}
.treemap text{font-size:11px;fill:#1d2330;pointer-events:none}
.tm-head{font-weight:600}
.tm-head.top,.tm-leaf.top{font-weight:700;fill:#fff}
.tm-leaf,.tm-size{text-anchor:middle}
.tm-size{font-size:10px!important;fill:#3a4352!important}
.tm-size.top{fill:#eef1f6!important}
.bars text{font-size:12px;fill:#1d2330}
.pkg-name{text-anchor:end}
.pkg-size{fill:#5f6b7a!important}
.pkg:hover rect{filter:brightness(.85)}
details{margin-top:10px}
summary{cursor:pointer;color:var(--muted)}
table{border-collapse:collapse;margin-top:6px;font-size:13px}
td,th{padding:3px 12px 3px 0;text-align:left;border-bottom:1px solid var(--line)}
td.num,th:not(:first-child){text-align:right}
td.path{font-family:ui-monospace,"DejaVu Sans Mono",monospace}
footer{padding:0 32px 24px;font-size:12px}
`;
