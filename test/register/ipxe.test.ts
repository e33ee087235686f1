// The contract server's boot script, run by real iPXE (QEMU's virtio-net option ROM, TCG):
// proof that the script BSS-style registration produces is one iPXE executes — the kernel line,
// the initrd line and `boot`. The "kernel" is an iPXE script that chains to /booted, so no Linux
// kernel is needed: seeing /booted requested means iPXE parsed every line and ran `boot`.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { register } from "../../src/register/register.js";
import { run } from "../../src/exec/run.js";
import { silentReporter } from "../../src/exec/events.js";
import { startBssServer, type BssServer } from "../support/bss-server.js";
import { startArtifactServer, type ArtifactServer } from "./artifact-server.js";
import { missingPrerequisites } from "../support/prerequisites.js";

const QEMU = "/usr/bin/qemu-system-x86_64";
const ROM = "/usr/lib/ipxe/qemu/efi-virtio.rom";
const MAC = "52:54:00:12:34:56";
const skip = missingPrerequisites("ipxe.test", [
  { need: `${QEMU} and ${ROM}`, present: existsSync(QEMU) && existsSync(ROM), install: "apt-get install qemu-system-x86 ipxe-qemu (scripts/setup.sh does)" },
]);

let bss: BssServer | undefined;
let artifacts: ArtifactServer | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await bss?.stop();
  await artifacts?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("iPXE runs the served boot script", () => {
  it.skipIf(skip)(
    "fetches kernel and initrd from the registered URLs and boots",
    async () => {
      artifacts = await startArtifactServer({ "/img/initramfs.img": "initrd bytes" });
      const guestArtifacts = `http://10.0.2.2:${new URL(artifacts.url).port}`; // the host's 127.0.0.1 as a user-net guest sees it
      artifacts.files.set("/img/vmlinuz", `#!ipxe\nchain ${guestArtifacts}/booted\n`);
      bss = await startBssServer();
      await register(
        {
          image: { name: "ipxe", tag: "t", target: "local", urls: { kernel: `${guestArtifacts}/img/vmlinuz`, initrd: `${guestArtifacts}/img/initramfs.img` } },
          params: "console=ttyS0 ip=dhcp",
          selectors: { macs: [MAC] },
        },
        { type: "bss", url: bss.url },
        // The guest's URLs (10.0.2.2) are not the host's view: the HEAD check is the e2e's business.
        { checkArtifacts: false, env: {}, ochamiConfigPaths: [], stateDir: (tmp = await mkdtemp(join(tmpdir(), "bootsmith-ipxe-"))) },
      );

      const abort = new AbortController();
      const booted = artifacts.waitFor("/booted").then(() => abort.abort());
      const qemu = run(
        {
          file: QEMU,
          args: [
            "-machine",
            "accel=tcg",
            "-m",
            "128",
            "-display",
            "none",
            "-vga",
            "none",
            "-no-reboot",
            "-serial",
            "none",
            "-monitor",
            "none",
            "-boot",
            "n",
            "-netdev",
            `user,id=n0,bootfile=${bss.bootscriptUrl(MAC, `http://10.0.2.2:${bss.port}`)}`,
            "-device",
            `virtio-net-pci,netdev=n0,mac=${MAC}`,
          ],
          timeoutMs: 50_000,
        },
        { step: "ipxe", reporter: silentReporter, signal: abort.signal },
        { quiet: true },
      ).catch((error: unknown) => {
        if (!abort.signal.aborted) throw error;
      });
      // QEMU runs until iPXE requests /booted (then it is stopped), or fails / times out.
      void booted;
      await qemu;
      const paths = artifacts.requests.map((r) => `${r.method} ${r.path}`);
      expect(paths).toEqual(["GET /img/vmlinuz", "GET /img/initramfs.img", "GET /booted"]);
      expect(bss.requests.filter((r) => r.path === "/boot/v1/bootscript").map((r) => r.query)).toEqual([{ mac: MAC }]);
    },
    60_000,
  );
});
