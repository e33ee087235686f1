// bootsmith build of a dnf layer with the default installer on a parent image: `buildah run …
// dnf` inside the image. The parent is Debian with Debian's dnf and rpm (mmdebstrap from the
// host's apt sources; no EL mirror is reachable in the tests); the child installs from the
// fixture RPM repository the test builds, served over HTTP on the loopback, which buildah run
// --isolation chroot shares with the host. Real buildah, dnf, mksquashfs; nothing is mocked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { buildFixtureRepo, type FixtureRepo } from "../support/rpm-repo.js";
import { bootsmith, REPO_ROOT } from "../support/cli.js";
import { buildEnv, readManifest, removeImages, squashfsListing } from "../support/fixture-build.js";
import { startStaticServer, type StaticServer } from "../../src/serve/static-server.js";
import { sharedParent } from "../support/shared-parents.js";
import { commitWithHostLinks, fingerprint, readInImage, RECORD_SEEN, writeHostTargets } from "../support/host-links.js";

const RECIPES = path.join(REPO_ROOT, "test/fixtures/build");
let work: string;
let repo: FixtureRepo;
let server: StaticServer;
let env: Record<string, string>;
/** Paths the repository server answered, in order. */
const requests: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "bootsmith-dnf-in-image-"));
  repo = await buildFixtureRepo(path.join(work, "repo"));
  // Served under the release the recipe names: the child's baseurl ends in $releasever.
  const served = path.join(work, "served");
  mkdirSync(served);
  cpSync(repo.dir, path.join(served, "1"), { recursive: true });
  server = await startStaticServer({ root: served, onRequest: (r) => requests.push(r.path) });
  env = buildEnv(work);
}, 300_000);

afterAll(async () => {
  await server?.close();
  await removeImages(["fixture-dnf-in-image:1", "dnf-debian-hostile:1", "dnf-in-image-hostile:1"]);
  rmSync(work, { recursive: true, force: true });
});

describe("bootsmith build (dnf inside a parent image, the default installer on a parent)", () => {
  it("runs the image's dnf against the recipe's repository; the package is in the squashfs, the manifest and the SBOMs", { timeout: 600_000 }, async () => {
    const { result: parent } = await sharedParent(path.join(RECIPES, "fixture-rpm-tools-debian.yaml"));
    expect(parent.exitCode, parent.stderr).toBe(0);
    const out = path.join(work, "out-child");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-dnf-in-image.yaml"), "--var", `REPO_URL=${server.url}`, "--out", out, "--progress", "plain"],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);

    const log = readFileSync(path.join(out, "build.log"), "utf8");
    // The host's cache is mounted for the image's dnf, which keeps its downloads there.
    expect(log).toMatch(
      /run --isolation chroot --volume \S+\/cache\/dnf-in-image:\/var\/cache\/bootsmith-dnf bootsmith-fixture-dnf-in-image-\S+ -- dnf --releasever=1 --setopt=cachedir=\/var\/cache\/bootsmith-dnf --setopt=keepcache=True -y .* install fixture-libgreet/,
    );
    expect(log).not.toContain("--installroot");

    const manifest = readManifest(out);
    expect(manifest.packageManager).toBe("dnf");
    expect(manifest.base).toMatchObject({ kind: "recipe", name: "fixture-rpm-tools-debian" });
    expect(manifest.packages).toEqual([{ name: "fixture-libgreet", version: "1.0", release: "1.fx", arch: "noarch", license: "GPLv2+" }]);
    const cdx = JSON.parse(readFileSync(path.join(out, "sbom.cdx.json"), "utf8")) as { components: { name: string; type: string; purl?: string }[] };
    const spdx = JSON.parse(readFileSync(path.join(out, "sbom.spdx.json"), "utf8")) as { packages: { name: string }[] };
    // The packages (with a package URL): the layer's own; the parent's files: entry is listed as a file.
    expect(cdx.components.filter((c) => c.purl !== undefined).map((c) => c.name)).toEqual(["fixture-libgreet"]);
    expect(cdx.components.filter((c) => c.type === "file").map((c) => c.name)).toEqual(["/etc/rpm/macros.dbpath"]);
    expect(spdx.packages.map((p) => p.name)).toContain("fixture-libgreet");

    // The package's file and its entry in the image's rpm database are in the squashfs.
    const squashfs = path.join(out, "rootfs.squashfs");
    const listing = await squashfsListing(squashfs);
    expect(listing).toContain("/usr/share/fixture/greeting");
    expect(listing).toContain("/var/lib/rpm/rpmdb.sqlite");
    const unsquashed = path.join(work, "unsquashed");
    await execa("unsquashfs", ["-q", "-d", unsquashed, squashfs, "var/lib/rpm"]);
    const { stdout: qa } = await execa("rpm", [`--root=${unsquashed}`, "--dbpath=/var/lib/rpm", "-qa"], { env: { HOME: unsquashed } });
    expect(qa.split("\n")).toContain("fixture-libgreet-1.0-1.fx.noarch");
    // dnf's cache and logs inside the image are gone, and so is the host cache's mount point.
    expect(listing.some((l) => l.startsWith("/var/cache/dnf") || l.startsWith("/var/log/dnf") || l.startsWith("/var/cache/bootsmith-dnf"))).toBe(false);
  });

  it("keeps what the image's dnf downloaded in the host's cache: a rebuild of the layer downloads no package", { timeout: 600_000 }, async () => {
    // The first test built the layer once with this cache; the recipe's own command downloads
    // the kernel and dracut with the image's default cache, so only fixture-libgreet is bootsmith's.
    const libgreet = () => requests.filter((p) => p.endsWith(".rpm") && path.basename(p).startsWith("fixture-libgreet-")).length;
    expect(libgreet()).toBe(1);
    const cached = readdirSync(path.join(env.BOOTSMITH_CACHE_DIR!, "dnf-in-image"), { recursive: true, encoding: "utf8" });
    expect(cached.some((f) => path.basename(f).startsWith("fixture-libgreet-") && f.endsWith(".rpm"))).toBe(true);
    // Another output directory: built again (the parent, up to date, is not).
    const out = path.join(work, "out-child-again");
    const result = await bootsmith(
      ["build", path.join(RECIPES, "fixture-dnf-in-image.yaml"), "--var", `REPO_URL=${server.url}`, "--out", out, "--progress", "plain"],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(libgreet()).toBe(1);
    expect(readManifest(out).packages.map((p) => p.name)).toEqual(["fixture-libgreet"]);
  });

  it(
    "on a parent whose etc/resolv.conf and etc/hosts link to host files, dnf in the image leaves them untouched and unread",
    { timeout: 300_000 },
    async () => {
      // Uses the parent the test above built.
      const targets = writeHostTargets(work);
      const before = fingerprint([targets.resolv, targets.hosts]);
      await commitWithHostLinks("localhost/bootsmith/fixture-rpm-tools-debian:1", "localhost/bootsmith/dnf-debian-hostile:1", targets);
      const recipe = path.join(work, "dnf-in-image-hostile.yaml");
      writeFileSync(
        recipe,
        [
          "apiVersion: bootsmith/v1",
          "name: dnf-in-image-hostile",
          'tags: ["1"]',
          "from:",
          "  image: localhost/bootsmith/dnf-debian-hostile:1",
          "packages:",
          "  manager: dnf",
          '  release: "1"',
          "  repos:",
          "    - name: fixture",
          `      baseurl: ${server.url}/$releasever`,
          "  install: [fixture-libgreet]",
          "commands:",
          `  - script: ${RECORD_SEEN}`,
          "boot: false",
        ].join("\n") + "\n",
      );
      const out = path.join(work, "out-hostile");
      const result = await bootsmith(["build", recipe, "--out", out, "--no-publish", "--progress", "plain"], { env });
      expect(fingerprint([targets.resolv, targets.hosts])).toEqual(before);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readFileSync(path.join(out, "build.log"), "utf8")).toMatch(/run --isolation chroot --volume \S+ bootsmith-dnf-in-image-hostile-\S+ -- dnf /);
      const seen = await readInImage("localhost/bootsmith/dnf-in-image-hostile:1", "tmp/seen");
      for (const marker of targets.markers) expect(seen).not.toContain(marker);
    },
  );
});
