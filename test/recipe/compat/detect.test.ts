// Format detection, and the small parsers the converters rely on.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { detectFormat } from "../../../src/recipe/compat/detect.js";
import { parseDracutCall, releaseFromUrls, shellWords } from "../../../src/recipe/compat/common.js";
import { loadRecipe } from "../../../src/recipe/load.js";
import { convertCommand } from "../../../src/cli/convert.js";
import { UserError } from "../../../src/core/errors.js";

describe("detectFormat", () => {
  it.each([
    ["a native recipe", { apiVersion: "bootsmith/v1", name: "x" }, "bootsmith"],
    ["a native recipe without apiVersion", { name: "x", packages: { manager: "dnf" }, publish: [] }, "bootsmith"],
    ["apiVersion wins over foreign keys (reported as unknown by the native schema)", { apiVersion: "bootsmith/v1", options: {} }, "bootsmith"],
    ["image-builder: options", { options: { layer_type: "base" }, packages: ["vim"] }, "image-builder"],
    ["image-builder without options (its schema then asks for them)", { packages: ["vim"], cmds: [{ cmd: "true" }] }, "image-builder"],
    ["image-thrillhouse: meta + layer", { meta: { name: "x" }, layer: {}, publish: [] }, "image-thrillhouse"],
    ["image-thrillhouse: layer alone", { layer: { manager: { name: "dnf" } } }, "image-thrillhouse"],
    ["not a mapping", ["a"], "bootsmith"],
    ["empty", null, "bootsmith"],
  ])("%s", (_name, data, format) => {
    expect(detectFormat(data).format).toBe(format);
  });
});

describe("loadRecipe reads each format", () => {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "bootsmith-detect-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };

  it("image-builder", () => {
    const r = loadRecipe(write("ib.yaml", "options:\n  layer_type: base\n  pkg_manager: dnf\n  parent: registry.local/base:9\npackages: [vim]\n"), { env: {} });
    expect(r.spec).toMatchObject({ name: "base", tags: ["latest"], from: { image: "registry.local/base:9", tlsVerify: true }, boot: false });
    expect(r.converted?.format).toBe("image-builder");
    expect(r.converted?.notes.map((n) => n.path.join("."))).toContain("options");
  });

  it("image-thrillhouse, whose ${NAME} text is shell, not a bootsmith variable", () => {
    const r = loadRecipe(
      write(
        "th.yaml",
        "meta: {name: t, tags: [a], from: registry.local/base:9}\nlayer:\n  manager: {name: dnf}\n  actions:\n    commands:\n      - script: echo ${HOME}\n",
      ),
      { env: {} },
    );
    expect(r.spec.commands[0]?.run).toEqual(["/bin/sh", "-c", "echo ${HOME}"]);
    expect(r.converted?.format).toBe("image-thrillhouse");
  });

  it("convert --release gives an image-builder config from scratch its dnf release", async () => {
    const file = write(
      "scratch.yaml",
      "options:\n  layer_type: base\n  pkg_manager: dnf\nrepos:\n  - alias: base\n    url: http://mirror.local/$releasever/BaseOS/\npackages: [kernel]\n",
    );
    expect(() => loadRecipe(file, { env: {} })).toThrow(/--release 9/);
    expect(loadRecipe(file, { env: {}, compat: { release: "9" } }).spec.packages?.release).toBe("9");
    const out = path.join(dir, "scratch.bootsmith.yaml");
    const stderr = process.stderr.write;
    process.stderr.write = () => true;
    try {
      expect(await convertCommand.run([file, "-o", out, "--release", "9"])).toBe(0);
      await expect(convertCommand.run([file, "-o", out, "--release", "9"])).rejects.toThrow(/exists; pass --force/);
    } finally {
      process.stderr.write = stderr;
    }
    expect(loadRecipe(out, { env: {} }).spec.packages?.release).toBe("9");
  });

  it("convert refuses a native recipe", async () => {
    const file = write("native.yaml", 'name: t\npackages: {manager: dnf, release: "9", install: [kernel]}\n');
    await expect(convertCommand.run([file])).rejects.toThrow(UserError);
  });
});

describe("shellWords (go-shellwords' defaults)", () => {
  it.each([
    ["systemctl enable chronyd", ["systemctl", "enable", "chronyd"]],
    [`echo "a b" 'c d' e\\ f`, ["echo", "a b", "c d", "e f"]],
    ["echo $HOME `x`", ["echo", "$HOME", "`x`"]],
  ])("%s", (line, words) => {
    expect(shellWords(line)).toEqual({ ok: true, words });
  });

  it("stops at an operator, as image-thrillhouse does", () => {
    expect(shellWords("rpm -qa | sort")).toEqual({ ok: false, operator: "|", before: ["rpm", "-qa"] });
  });
});

describe("parseDracutCall", () => {
  it("reads image-builder's example dracut command", () => {
    expect(
      parseDracutCall('dracut --add "dmsquash-live livenet network-manager" --kver $(basename /lib/modules/*) -N -f --logfile /tmp/dracut.log 2>/dev/null'),
    ).toEqual({
      modules: ["dmsquash-live", "livenet", "network-manager"],
      logfile: "/tmp/dracut.log",
    });
  });

  it("leaves commands that do more than run dracut", () => {
    expect(parseDracutCall("dracut -f && echo done")).toBeUndefined();
    expect(parseDracutCall("rpm -q dracut")).toBeUndefined();
  });
});

describe("releaseFromUrls", () => {
  it.each([
    [["https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os/", "https://dl.fedoraproject.org/pub/epel/9/Everything/x86_64/"], "9"],
    [["http://repos.local/el8/openhpc"], "8"],
    [["https://dl.rockylinux.org/pub/rocky/8.10/BaseOS/x86_64/os"], "8"],
    [["http://mirror.local/$releasever/BaseOS/"], undefined],
    [["http://a/rocky/8/BaseOS/", "http://b/rocky/9/BaseOS/"], undefined],
  ])("%j → %s", (urls, release) => {
    expect(releaseFromUrls(urls)).toBe(release);
  });
});
