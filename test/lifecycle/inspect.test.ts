// `bootsmith inspect` on a real fixture build (buildah + dnf from the fixture RPM repository,
// mksquashfs, the fixture dracut stand-in) with one big file the recipe adds: the package sizes
// match what rpm says of the repository's RPM files, the big file's directory is where the
// report says, and the --html page, opened in a real headless chromium, draws them with the
// right labels and areas, offline. The screenshot is kept at $INSPECT_SCREENSHOT when set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith } from "../support/cli.js";
import { buildEnv, removeImages } from "../support/fixture-build.js";
import { launchBrowser, type Browser } from "../support/browser.js";
import type { SizeReport } from "../../src/lifecycle/inspect.js";
import { readPackageSizes } from "../../src/lifecycle/package-sizes.js";
import { listRootfs } from "../../src/lifecycle/rootfs-listing.js";

const IMAGE = "inspect-fixture:1";
/** The part of a DOM element the page checks read (the test project has no DOM types). */
type Attributed = { getAttribute(name: string): string | null };
const BIG = 300 * 1024;
let work: string;
let repo: FixtureRepo;
let dir: string;
let report: SizeReport;

const recipe = `apiVersion: bootsmith/v1
name: inspect-fixture
tags: ["1"]
from: scratch
packages:
  manager: dnf
  release: "1"
  repos:
    - name: fixture
      baseurl: \${REPO_URL}
  install: [fixture-base, fixture-libgreet, fixture-kernel-5.14.0-10.fx, fixture-dracut, fixture-hello]
files:
  - dest: /opt/big/blob
    src: blob
boot:
  rootfs:
    exclude: [boot]
  params: "console=ttyS0 root=live:{{ rootfs.url }}"
`;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-inspect-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  writeFileSync(path.join(work, "inspect-fixture.yaml"), recipe);
  writeFileSync(path.join(work, "blob"), "0123456789abcdef".repeat(BIG / 16));
  await removeImages([IMAGE]);
  dir = path.join(work, "out");
  const built = await bootsmith(["build", "inspect-fixture.yaml", "--var", `REPO_URL=${repo.baseurl}`, "--out", dir, "--progress", "plain"], {
    env: buildEnv(work),
    cwd: work,
  });
  expect(built.exitCode, built.stderr).toBe(0);
  const json = await bootsmith(["inspect", dir, "--json"]);
  expect(json.exitCode, json.stderr).toBe(0);
  report = JSON.parse(json.stdout) as SizeReport;
}, 900_000);

afterAll(async () => {
  await removeImages([IMAGE]);
  rmSync(work, { recursive: true, force: true });
});

/** What rpm itself says of each RPM file in the repository: name-version-release.arch → installed size. */
async function rpmFileSizes(): Promise<Map<string, number>> {
  const files = repo.packages.map((p) => p.file);
  const { stdout } = await execa("rpm", ["-qp", "--nosignature", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\t%{SIZE}\\n", ...files]);
  return new Map(stdout.split("\n").map((l) => [l.split("\t")[0]!, Number(l.split("\t")[1])]));
}

describe("bootsmith inspect", () => {
  it("--json: each package's installed size from the image's rpm database, as rpm reports the RPM file", async () => {
    const expected = await rpmFileSizes();
    const p = report.packages!;
    expect(p.database).toBe("rpm");
    expect(p.packages.map((x) => x.name).sort()).toEqual(["fixture-base", "fixture-dracut", "fixture-hello", "fixture-kernel", "fixture-libgreet"]);
    for (const pkg of p.packages) expect(pkg.bytes, pkg.name).toBe(expected.get(`${pkg.name}-${pkg.version}.${pkg.arch}`));
    expect(p.bytes).toBe(p.packages.reduce((s, x) => s + x.bytes, 0));
    expect(p.packages.map((x) => x.bytes)).toEqual([...p.packages.map((x) => x.bytes)].sort((a, b) => b - a));
  });

  it("--json: the largest rootfs directories include the big file's, with its exact size; the initramfs is listed too", () => {
    expect(report.rootfs!.largest).toContainEqual({ path: "/opt/big", bytes: BIG, files: 1 });
    expect(report.rootfs!.largest).toContainEqual({ path: "/opt", bytes: BIG, files: 1 });
    expect(report.initramfs!.largest.map((d) => d.path)).toContain("/usr/lib/dracut");
    expect(report.artifacts.map((a) => a.file)).toEqual(expect.arrayContaining(["vmlinuz", "initramfs.img", "rootfs.squashfs"]));
  });

  it("reads an rpm database kept under /usr/lib/sysimage/rpm behind a /var/lib/rpm symlink (SUSE's layout)", async () => {
    const root = path.join(work, "suse-root");
    mkdirSync(path.join(root, "usr/lib/sysimage"), { recursive: true });
    mkdirSync(path.join(root, "var/lib"), { recursive: true });
    const rootfs = path.join(dir, "rootfs.squashfs");
    await execa("unsquashfs", ["-q", "-n", "-no-xattrs", "-d", path.join(work, "x"), rootfs, "var/lib/rpm"]);
    await execa("mv", [path.join(work, "x/var/lib/rpm"), path.join(root, "usr/lib/sysimage/rpm")]);
    symlinkSync("../../usr/lib/sysimage/rpm", path.join(root, "var/lib/rpm"));
    const suse = path.join(work, "suse.squashfs");
    await execa("mksquashfs", [root, suse, "-quiet", "-no-progress"]);
    const sizes = await readPackageSizes(suse, await listRootfs(suse));
    expect(sizes).toEqual({ database: "rpm", packages: report.packages!.packages });
  });

  it("text: the packages, largest first, and the largest directories", async () => {
    const text = await bootsmith(["inspect", dir]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain("(rpm database), largest:");
    expect(text.stdout).toMatch(/300\.0 KiB\s+\d+\.\d%\s+\/opt\/big\n/);
    expect(text.stdout.indexOf(report.packages!.packages[0]!.name)).toBeLessThan(text.stdout.indexOf(report.packages!.packages.at(-1)!.name));
  });

  it("not an image: exit 2 naming the directory", async () => {
    const missing = await bootsmith(["inspect", path.join(work, "nope")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("nope: no such directory");
  });

  describe("--html in a real browser", () => {
    let browser: Browser;
    const html = () => path.join(work, "report.html");
    beforeAll(async () => {
      const result = await bootsmith(["inspect", dir, "--html", html()]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain(`wrote ${html()}`);
      browser = await launchBrowser();
    }, 120_000);
    afterAll(async () => browser?.close());

    it("is one self-contained file: no request leaves it", () => {
      const page = readFileSync(html(), "utf8");
      expect(page).not.toMatch(/<script|<link|src=|@import|url\(/i);
    });

    it("draws the treemap, the package bars and the initramfs map with the right labels and areas; screenshot", async () => {
      const page = await browser.context.newPage();
      const requests: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file://")) requests.push(r.url());
      });
      await page.goto(`file://${html()}`);
      expect(await page.title()).toBe("inspect-fixture:1 · size report");

      // The big file's directory: a top-level box (the /opt → /opt/big chain drawn as one),
      // labelled with its name and size, whose share of the map is its share of the bytes.
      const svg = page.locator("#rootfs-treemap");
      const big = svg.locator('g.tm-node[data-path="/opt/big"]');
      await expect.poll(() => big.count()).toBe(1);
      expect(await big.locator("text").allTextContents()).toEqual(["opt/big", "300.0 KiB"]);
      const mapBox = (await svg.boundingBox())!;
      const bigBox = (await big.locator("rect").boundingBox())!;
      const share = (bigBox.width * bigBox.height) / (mapBox.width * mapBox.height);
      expect(share).toBeCloseTo(BIG / report.rootfs!.bytes, 2);

      // Package bars: one per package, largest first, labelled by name, lengths ordered by size.
      const bars = page.locator("#packages g.pkg");
      // The function runs in the page, so the attribute name goes in as its argument.
      const attribute = (locator: typeof bars, name: string) =>
        locator.evaluateAll((elements: Attributed[], n: string) => elements.map((e) => e.getAttribute(n)), name);
      expect(await attribute(bars, "data-package")).toEqual(report.packages!.packages.map((p) => p.name));
      expect(await bars.locator("text.pkg-name").allTextContents()).toEqual(report.packages!.packages.map((p) => p.name));
      const widths = (await attribute(bars.locator("rect"), "width")).map(Number);
      expect(widths).toEqual([...widths].sort((a, b) => b - a));

      expect(await page.locator("#initramfs-treemap g.tm-node").count()).toBeGreaterThan(0);
      expect(await page.locator("#card-packages .value").textContent()).toBe(String(report.packages!.packages.length));

      const shot = path.join(work, "report.png");
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.INSPECT_SCREENSHOT) copyFileSync(shot, process.env.INSPECT_SCREENSHOT);
      // A PNG of the whole page: 1280 px wide, taller than the viewport.
      const png = readFileSync(shot);
      expect(png.readUInt32BE(16)).toBe(1280);
      expect(png.readUInt32BE(20)).toBeGreaterThan(900);
      expect(requests).toEqual([]);
      await page.close();
    });
  });
});
