// `bootsmith register` and `bootsmith rollback` as a user runs them (the command modules, their
// errors reported by cli/main.ts's exitCodeFor, output captured), against the contract BSS and a
// static artifact server.
import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { registerCommand, targetFrom } from "../../src/cli/register.js";
import { rollbackCommand } from "../../src/cli/rollback.js";
import { publishCommand } from "../../src/cli/publish.js";
import { exitCodeFor } from "../../src/cli/main.js";
import { loadRegisterSource } from "../../src/register/source.js";
import { Readable } from "node:stream";
import type { PublishedImage } from "../../src/core/published-image.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { startArtifactServer, type ArtifactServer } from "./artifact-server.js";
import { makeFakeImage } from "../publish/support/artifacts.js";

const MAC = "52:54:00:ab:cd:01";
let bss: BssServer;
let artifacts: ArtifactServer;
let tmp: string;
let published: string;
let image: PublishedImage;

/** Run a command as main.ts does, stdout/stderr captured (the CLI writes through process.stdout/stderr). */
async function cli(cmd: typeof registerCommand, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => ((out += String(chunk)), true);
  process.stderr.write = (chunk: string | Uint8Array) => ((err += String(chunk)), true);
  try {
    const code = await cmd.run(args).catch(exitCodeFor);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bootsmith-cli-"));
  artifacts = await startArtifactServer({ "/img/vmlinuz": "k", "/img/initramfs.img": "i", "/img/rootfs.squashfs": "r" });
  bss = await startBssServer();
  image = {
    name: "compute",
    tag: "v1",
    target: "s3",
    urls: { kernel: `${artifacts.url}/img/vmlinuz`, initrd: `${artifacts.url}/img/initramfs.img`, rootfs: `${artifacts.url}/img/rootfs.squashfs` },
  };
  published = join(tmp, "published.json");
  await writeFile(published, JSON.stringify({ images: [image, { ...image, tag: "latest" }] }));
});

afterEach(async () => {
  await bss.stop();
  await artifacts.stop();
  await rm(tmp, { recursive: true, force: true });
});

const TEMPLATE = "ro ip=dhcp console=ttyS0,115200 root=live:{{ rootfs.url }}";

describe("bootsmith register / rollback", () => {
  it("dry-run prints the diff and writes nothing; the real run registers; rollback undoes it", async () => {
    const state = join(tmp, "state");
    const base = [published, "--bss", bss.url, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", state];
    const dry = await cli(registerCommand, [...base, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`+ mac ${MAC}: new entry`);
    expect(dry.out).toContain(`      + root=live:${artifacts.url}/img/rootfs.squashfs`);
    expect(dry.out).toMatch(/rootfs ok +http/);
    // The artifact checks are the dry run's output, shown once: not logged to stderr as well (a terminal shows both).
    expect((dry.out + dry.err).match(/rootfs ok +http/g)).toHaveLength(1);
    expect(bss.entries.size).toBe(0);

    const real = await cli(registerCommand, [...base, "--extra-params", "quiet"]);
    expect(real.code).toBe(0);
    expect(real.out).toContain(`registered compute:v1 at ${bss.url}`);
    // The diff a real run prints before writing says what it changes, not what it "would".
    expect(real.err).toContain(`+ mac ${MAC}: new entry`);
    expect(real.err).toContain("changing 1 of 1 entry");
    expect(real.err + real.out).not.toContain("would change");
    expect(bss.entry(`mac:${MAC}`)?.params).toBe(`ro ip=dhcp console=ttyS0,115200 root=live:${artifacts.url}/img/rootfs.squashfs quiet`);

    const list = await cli(rollbackCommand, ["--bss", bss.url, "--state-dir", state, "--list"]);
    expect(list.out).toMatch(/compute:v1 {2}put {2}active {2}1 entry/);

    const back = await cli(rollbackCommand, ["--bss", bss.url, "--state-dir", state]);
    expect(back.code).toBe(0);
    // Shown once, before writing, like register's: not again on stdout (a terminal shows both).
    expect((back.out + back.err).split(`- mac ${MAC}: entry removed`)).toHaveLength(2);
    expect(back.err).toContain(`- mac ${MAC}: entry removed`);
    expect(back.out).toMatch(/^rolled back \(record .*\)\n$/);
    expect(back.out + back.err).not.toContain("would change");
    expect(bss.entries.size).toBe(0);
    expect(bss.violations).toEqual([]);
  });

  it("a --bss URL with user:password (basic auth at a site's proxy) works and the password is never printed", async () => {
    const state = join(tmp, "state");
    const url = new URL(bss.url);
    url.username = "admin";
    url.password = "hunter2-secret";
    const withPassword = url.href;
    const real = await cli(registerCommand, [published, "--bss", withPassword, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", state]);
    expect(real.code, real.err).toBe(0);
    expect(real.out).toContain(`registered compute:v1 at ${bss.url}`);
    const again = await cli(registerCommand, [published, "--bss", withPassword, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", state]);
    expect(again.out).toContain(`nothing to change: ${bss.url}`);
    const back = await cli(rollbackCommand, ["--bss", withPassword, "--state-dir", state]);
    expect(back.code, back.err).toBe(0);
    const none = await cli(rollbackCommand, ["--bss", withPassword, "--state-dir", join(tmp, "empty"), "--list"]);
    expect(none.out).toContain(`no registrations recorded for ${bss.url}`);
    for (const r of [real, again, back, none]) expect(r.out + r.err).not.toContain("hunter2-secret");
    expect(bss.entries.size).toBe(0);
  });

  describe("a BSS behind a proxy that asks for user:password", () => {
    const USER = "bss-admin";
    const PASSWORD = "hunter2-secret";
    let guarded: BssServer;
    let withPassword: string;
    beforeEach(async () => {
      guarded = await startBssServer({ basicAuth: { user: USER, password: PASSWORD } });
      const url = new URL(guarded.url);
      url.username = USER;
      url.password = PASSWORD;
      withPassword = url.href;
    });
    afterEach(() => guarded.stop());

    /** Every file under the state directory, with its bytes and permission bits. */
    async function stateFiles(dir: string): Promise<{ path: string; text: string; mode: number }[]> {
      const out: { path: string; text: string; mode: number }[] = [];
      for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
        const path = join(entry.parentPath, entry.name);
        const mode = (await stat(path)).mode & 0o777;
        out.push({ path, text: entry.isFile() ? await readFile(path, "utf8") : "", mode });
      }
      return out;
    }

    it("the rollback record keeps no password (0600); rollback without it fails naming --bss, with it restores", async () => {
      const state = join(tmp, "state");
      const reg = await cli(registerCommand, [published, "--bss", withPassword, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", state, "--json"]);
      expect(reg.code, reg.err).toBe(0);
      expect(guarded.entries.size).toBe(1);
      const files = await stateFiles(state);
      const records = files.filter((f) => f.path.endsWith(".json"));
      expect(records).toHaveLength(1);
      for (const f of files) {
        expect(f.text, f.path).not.toContain(PASSWORD);
        expect(f.text, f.path).not.toContain(`${USER}:`);
        expect(f.mode, f.path).toBe(f.text === "" ? 0o700 : 0o600);
      }

      const bare = await cli(rollbackCommand, ["--bss", guarded.url, "--state-dir", state]);
      expect(bare.code, bare.err).toBe(1);
      expect(bare.err).toContain("401");
      expect(bare.err).toContain(`--bss ${new URL("http://USER:PASSWORD@" + new URL(guarded.url).host).href}`);
      expect(guarded.entries.size, "nothing was restored").toBe(1);

      const back = await cli(rollbackCommand, ["--bss", withPassword, "--state-dir", state, "--json"]);
      expect(back.code, back.err).toBe(0);
      expect(guarded.entries.size).toBe(0);
      for (const r of [reg, bare, back]) expect(r.out + r.err).not.toContain(PASSWORD);
      for (const f of await stateFiles(state)) expect(f.text, f.path).not.toContain(PASSWORD);
      expect(guarded.violations).toEqual([]);
    });

    // The 401 said only "no token was sent; to authenticate, set one of --token, $BSS_TOKEN …":
    // nothing about the user and password the URL did carry, sent and had refused.
    it("user:password in the URL that the server refuses (401): register and rollback say so, name the user and where they go, never the password", async () => {
      const state = join(tmp, "state");
      const wrong = new URL(withPassword);
      wrong.password = "not-the-password";
      const refused = `the user and password in the URL (user "${USER}", sent as basic auth) were refused: check them and give them again in the URL, ${new URL("http://USER:PASSWORD@" + new URL(guarded.url).host).href} (bootsmith neither prints nor stores the password)`;
      const reg = await cli(registerCommand, [published, "--bss", wrong.href, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", state]);
      expect(reg.code, reg.err).toBe(1);
      expect(reg.err).toContain("answered HTTP 401");
      expect(reg.err).toContain(`\n  ${refused}\n  no token was sent; if the service also wants one, set one of --token`);
      expect(guarded.entries.size).toBe(0);

      const ok = await cli(registerCommand, [published, "--bss", withPassword, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", state]);
      expect(ok.code, ok.err).toBe(0);
      const back = await cli(rollbackCommand, ["--bss", wrong.href, "--state-dir", state]);
      expect(back.code, back.err).toBe(1);
      expect(back.err).toContain(refused);
      expect(guarded.entries.size, "nothing was rolled back").toBe(1);
      for (const r of [reg, ok, back]) expect(r.out + r.err).not.toMatch(/not-the-password|hunter2-secret/);
    });

    it("a record an older bootsmith wrote with the password in it still rolls back, without printing it, and loses it", async () => {
      const state = join(tmp, "state");
      const reg = await cli(registerCommand, [published, "--bss", withPassword, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", state]);
      expect(reg.code, reg.err).toBe(0);
      const [record] = (await stateFiles(state)).filter((f) => f.path.endsWith(".json"));
      if (!record) throw new Error("no record written");
      const old = JSON.parse(record.text) as { target: { url: string; urlCredentials?: boolean } };
      delete old.target.urlCredentials;
      await writeFile(record.path, JSON.stringify({ ...old, target: { ...old.target, url: withPassword } }), { mode: 0o600 });

      const list = await cli(rollbackCommand, ["--bss", guarded.url, "--state-dir", state, "--list", "--json"]);
      expect(list.code, list.err).toBe(0);
      expect(list.out).not.toContain(PASSWORD);
      expect(list.out).toContain(guarded.url);
      const back = await cli(rollbackCommand, ["--bss", guarded.url, "--state-dir", state]);
      expect(back.code, back.err).toBe(0);
      expect(guarded.entries.size).toBe(0);
      for (const r of [list, back]) expect(r.out + r.err).not.toContain(PASSWORD);
      expect(await readFile(record.path, "utf8"), "marking it rolled back rewrote it without the password").not.toContain(PASSWORD);
    });
  });

  it("a MAC written with dashes in upper case is registered (and rolled back) as BSS stores it", async () => {
    const state = join(tmp, "state");
    const dashed = MAC.toUpperCase().replaceAll(":", "-");
    const real = await cli(registerCommand, [published, "--bss", bss.url, "--mac", dashed, "--params-template", TEMPLATE, "--state-dir", state]);
    expect(real.code, real.err).toBe(0);
    expect([...bss.entries.keys()]).toEqual([`mac:${MAC}`]);
    const back = await cli(rollbackCommand, ["--bss", bss.url, "--state-dir", state, "--mac", dashed]);
    expect(back.code, back.err).toBe(0);
    expect(bss.entries.size).toBe(0);
    expect(bss.violations).toEqual([]);
  });

  it("--export writes the ochami payload without contacting any service", async () => {
    const file = join(tmp, "params.yaml");
    const r = await cli(registerCommand, [published, "--tag", "latest", "--mac", MAC, "--nid", "1,2", "--params-template", TEMPLATE, "--export", file]);
    expect(r.code).toBe(0);
    expect(parseYaml(await readFile(file, "utf8"))).toEqual({
      macs: [MAC],
      nids: [1, 2],
      kernel: image.urls.kernel,
      initrd: image.urls.initrd,
      params: `ro ip=dhcp console=ttyS0,115200 root=live:${image.urls.rootfs ?? ""}`,
    });
    expect(bss.requests).toEqual([]);
  });

  it("registers an artifact directory served at --base-url with the build's params template", async () => {
    const dir = join(tmp, "artifacts");
    await mkdir(dir);
    await writeFile(
      join(dir, "manifest.json"),
      JSON.stringify({
        schemaVersion: 1,
        name: "debian",
        tags: ["t1"],
        params: "root=live:{{ rootfs.url }} img={{ name }}-{{ tag }}",
        artifacts: { kernel: { file: "vmlinuz" }, initrd: { file: "initramfs.img" }, rootfs: { file: "rootfs.squashfs" } },
      }),
    );
    const r = await cli(registerCommand, [
      dir,
      "--base-url",
      `${artifacts.url}/img`,
      "--bss",
      bss.url,
      "--host",
      "x1000c0s0b0n0",
      "--state-dir",
      join(tmp, "s"),
    ]);
    expect(r.code).toBe(0);
    expect(bss.entry("host:x1000c0s0b0n0")).toEqual({
      kernel: image.urls.kernel,
      initrd: image.urls.initrd,
      params: `root=live:${image.urls.rootfs ?? ""} img=debian-t1`,
    });
  });

  it("exit 1 with the reason when an artifact is missing or the token is refused; exit 2 for bad input", async () => {
    artifacts.files.delete("/img/initramfs.img");
    const missing = await cli(registerCommand, [published, "--bss", bss.url, "--mac", MAC, "--params-template", TEMPLATE, "--state-dir", join(tmp, "s")]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`initrd ${artifacts.url}/img/initramfs.img: missing (HTTP 404)`);
    expect(missing.err).toMatch(/^bootsmith: /m);
    expect(bss.entries.size).toBe(0);

    const badInput: [string[], RegExp][] = [
      [[published, "--bss", bss.url, "--mac", MAC, "--params-template", "root=live:{{ rootfs.path }}"], /rootfs\.path/],
      [[published, "--bss", bss.url, "--nid", "abc", "--params-template", TEMPLATE], /--nid "abc"/],
      [[published, "--mac", MAC, "--params-template", TEMPLATE], /say where to register/],
      [[published, "--bss", bss.url, "--mac", "zz", "--params-template", TEMPLATE], /macs: "zz" is not a MAC address/],
      [[join(tmp, "nope.json"), "--bss", bss.url, "--mac", MAC], /no such file/],
    ];
    for (const [args, message] of badInput) {
      const r = await cli(registerCommand, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/^bootsmith: /);
    }

    await bss.stop();
    bss = await startBssServer({ token: "t" });
    artifacts.files.set("/img/initramfs.img", "i");
    const denied = await cli(registerCommand, [published, "--bss", bss.url, "--mac", MAC, "--params-template", TEMPLATE, "--token", "wrong"]);
    expect(denied.code).toBe(1);
    expect(denied.err).toContain("HTTP 401");
    expect(denied.err).toContain("the token from --token was not accepted");
    expect(denied.err).not.toContain("wrong");
  });

  it("reads the published image from standard input (bootsmith publish --json | bootsmith register -)", async () => {
    const source = await loadRegisterSource("-", { stdin: Readable.from([Buffer.from(JSON.stringify(image))]) });
    expect(source.image).toEqual(image);
    await expect(loadRegisterSource("-", { stdin: Readable.from([Buffer.from("{")]) })).rejects.toThrow(/standard input: not valid JSON/);
  });

  it("the params template the build recorded travels in publish's record: register FILE and register - need no --params-template", async () => {
    const built = await makeFakeImage({ name: "rec", tags: ["1"], sizes: { kernel: 16, initrd: 16, rootfs: 16 }, dir: await mkdtemp(join(tmp, "built-")) });
    const params = "console=ttyS0 root=live:{{ rootfs.url }}";
    await writeFile(join(built.dir, "manifest.json"), JSON.stringify({ ...built.manifest, params }));
    const record = join(tmp, "record.json");
    const base = "http://boot.example/images";
    const published = await cli(publishCommand, [built.dir, "--to", `dir:${join(tmp, "srv")}`, "--public-base", base, "--record", record]);
    expect(published.code, published.err).toBe(0);
    const file = join(tmp, "params.yaml");
    const r = await cli(registerCommand, [record, "--nid", "1", "--export", file]);
    expect(r.code, r.err).toBe(0);
    expect((parseYaml(await readFile(file, "utf8")) as { params: string }).params).toBe(`console=ttyS0 root=live:${base}/rec/1/rootfs.squashfs`);
    const piped = await loadRegisterSource("-", { stdin: Readable.from([await readFile(record)]) });
    expect(piped.paramsTemplate).toBe(params);
  });

  it("refuses file:// URLs from a local publish without publicBase", async () => {
    const local = join(tmp, "local.json");
    await writeFile(local, JSON.stringify({ ...image, target: "local", urls: { ...image.urls, rootfs: "file:///srv/images/compute/v1/rootfs.squashfs" } }));
    const r = await cli(registerCommand, [local, "--bss", bss.url, "--mac", MAC, "--params-template", TEMPLATE]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/rootfs URL file:\/\/\/srv\/images\/compute\/v1\/rootfs.squashfs is a local file: nodes cannot fetch it/);
    expect(bss.requests).toEqual([]);
  });

  it("--cluster takes the BSS URI from the ochami config", async () => {
    const home = join(tmp, "home");
    await mkdir(join(home, ".config", "ochami"), { recursive: true });
    await writeFile(
      join(home, ".config", "ochami", "config.yaml"),
      "clusters:\n  - name: demo\n    cluster:\n      uri: https://demo.openchami.cluster:8443\n  - name: split\n    cluster:\n      bss:\n        uri: http://localhost:27778/boot/v1\ndefault-cluster: demo\n",
    );
    const env = { HOME: home };
    expect(targetFrom("register", { cluster: "demo" }, env)).toEqual({ type: "bss", url: "https://demo.openchami.cluster:8443/boot/v1" });
    expect(targetFrom("register", { cluster: "split" }, env)).toEqual({ type: "bss", url: "http://localhost:27778/boot/v1" });
    expect(() => targetFrom("register", { cluster: "other" }, env)).toThrow(/ochami cluster "other" is not configured .*known clusters: demo, split/);
  });
});
