import { describe, expect, it } from "vitest";
import { appendInitrd, imageName, renderIpxeScript, rewriteLoopbackUrls, scriptParams, scriptUrls } from "../../src/boottest/ipxe-script.js";
import { bootTestParams, DEFAULT_PARAMS_TEMPLATE, fillParamsTemplate, TEST_PARAMS } from "../../src/boottest/params.js";

const urls = {
  kernel: "http://10.0.2.2:8080/vmlinuz",
  initrd: "http://10.0.2.2:8080/initramfs.img",
  rootfs: "http://10.0.2.2:8080/rootfs.squashfs",
};

describe("renderIpxeScript", () => {
  it("renders the BSS script shape", () => {
    const script = renderIpxeScript({
      kernelUrl: urls.kernel,
      initrdUrl: urls.initrd,
      params: "console=ttyS0  root=live:http://10.0.2.2:8080/rootfs.squashfs ",
    });
    expect(script).toBe(
      [
        "#!ipxe",
        "kernel http://10.0.2.2:8080/vmlinuz initrd=initramfs.img console=ttyS0 root=live:http://10.0.2.2:8080/rootfs.squashfs",
        "initrd http://10.0.2.2:8080/initramfs.img",
        "boot",
        "",
      ].join("\n"),
    );
  });

  it("names the initrd after its URL's last segment, as iPXE does", () => {
    expect(imageName("http://h/images/debian/initrd-6.1.img?x=1")).toBe("initrd-6.1.img");
  });

  it("refuses params with a newline (iPXE command injection) and non-http URLs", () => {
    expect(() => renderIpxeScript({ kernelUrl: urls.kernel, initrdUrl: urls.initrd, params: "quiet\nshell" })).toThrow(/one line/);
    expect(() => renderIpxeScript({ kernelUrl: "tftp://x/vmlinuz", initrdUrl: urls.initrd, params: "" })).toThrow(/kernel URL/);
    expect(() => renderIpxeScript({ kernelUrl: urls.kernel, initrdUrl: "http://x/a b", params: "" })).toThrow(/initrd URL/);
  });
});

describe("boot-test params", () => {
  it("fills the URL placeholders with or without spaces", () => {
    expect(fillParamsTemplate("root=live:{{ rootfs.url }} k={{kernel.url}} i={{  initrd.url }}", urls)).toBe(
      "root=live:http://10.0.2.2:8080/rootfs.squashfs k=http://10.0.2.2:8080/vmlinuz i=http://10.0.2.2:8080/initramfs.img",
    );
  });

  it("refuses unknown placeholders instead of passing them to the kernel", () => {
    expect(() => fillParamsTemplate("root=live:{{ rootfs.uri }}", urls)).toThrow(/unknown placeholder \{\{ rootfs\.uri \}\}/);
    expect(fillParamsTemplate("img={{ name }}", urls, { name: "debian" })).toBe("img=debian");
  });

  it("builds the default test line with the fast-failure knobs", () => {
    expect(bootTestParams(DEFAULT_PARAMS_TEMPLATE, urls)).toBe(
      `console=ttyS0 ip=dhcp rd.neednet=1 root=live:http://10.0.2.2:8080/rootfs.squashfs rd.live.overlay.overlayfs=1 ${TEST_PARAMS}`,
    );
  });

  it("adds a serial console only when the template has none", () => {
    expect(bootTestParams("console=ttyS0,115200 root=live:{{ rootfs.url }}", urls)).not.toMatch(/console=ttyS0 /);
    expect(bootTestParams("console=tty0 root=live:{{ rootfs.url }}", urls)).toMatch(/^console=tty0 root=live:\S+ console=ttyS0 rd\.shell=0/);
    // arm64's PL011 serial console counts as one: no ttyS0 is added
    expect(bootTestParams("console=ttyAMA0 root=live:{{ rootfs.url }}", urls)).toMatch(/^console=ttyAMA0 root=live:\S+ rd\.shell=0/);
  });
});

describe("a fetched (BSS) boot script", () => {
  // The shape test/support/bss-server.ts (and OpenCHAMI BSS) generates.
  const bss = [
    "#!ipxe",
    "kernel --name kernel http://127.0.0.1:8080/vmlinuz initrd=initrd console=ttyS0 root=live:http://127.0.0.1:8080/rootfs.squashfs bss_referral_token=x || goto boot_retry",
    "initrd --name initrd http://127.0.0.1:8080/initramfs.img || goto boot_retry",
    "boot || goto boot_retry",
    ":boot_retry",
    "sleep 30",
    "chain http://localhost:27778/boot/v1/bootscript?mac=52%3A54%3A00%3A12%3A34%3A56&retry=1",
    "",
  ].join("\n");

  it("points loopback URLs at the guest's name for the host and lists each rewrite", () => {
    const { script, rewritten } = rewriteLoopbackUrls(bss, "10.0.2.2");
    expect(script).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(script).toContain(
      "kernel --name kernel http://10.0.2.2:8080/vmlinuz initrd=initrd console=ttyS0 root=live:http://10.0.2.2:8080/rootfs.squashfs bss_referral_token=x || goto boot_retry",
    );
    expect(script).toContain("chain http://10.0.2.2:27778/boot/v1/bootscript?mac=");
    expect(rewritten).toEqual([
      "http://127.0.0.1:8080/vmlinuz",
      "http://127.0.0.1:8080/rootfs.squashfs",
      "http://127.0.0.1:8080/initramfs.img",
      "http://localhost:27778/boot/v1/bootscript?mac=52%3A54%3A00%3A12%3A34%3A56&retry=1",
    ]);
    // Nothing else changes.
    expect(rewriteLoopbackUrls("#!ipxe\nkernel http://10.1.2.3/vmlinuz\nboot\n", "10.0.2.2")).toEqual({
      script: "#!ipxe\nkernel http://10.1.2.3/vmlinuz\nboot\n",
      rewritten: [],
    });
  });

  it("adds an initrd after the last initrd line, or before boot", () => {
    const added = appendInitrd(bss, "http://10.0.2.2:9/h.cpio").split("\n");
    expect(added[2]).toMatch(/^initrd --name initrd /);
    expect(added[3]).toBe("initrd http://10.0.2.2:9/h.cpio");
    expect(appendInitrd("#!ipxe\nkernel http://x/k\nboot\n", "http://x/h")).toBe("#!ipxe\nkernel http://x/k\ninitrd http://x/h\nboot\n");
    expect(() => appendInitrd("#!ipxe\nchain http://x/y\n", "http://x/h")).toThrow(/neither an initrd nor a boot line/);
  });

  it("reads the kernel, initrd and live-root URLs and the kernel params", () => {
    expect(scriptUrls(bss)).toEqual({
      kernel: "http://127.0.0.1:8080/vmlinuz",
      initrds: ["http://127.0.0.1:8080/initramfs.img"],
      rootfs: "http://127.0.0.1:8080/rootfs.squashfs",
    });
    expect(scriptParams(bss)).toBe("initrd=initrd console=ttyS0 root=live:http://127.0.0.1:8080/rootfs.squashfs bss_referral_token=x");
    expect(
      renderIpxeScript({ kernelUrl: urls.kernel, initrdUrl: urls.initrd, extraInitrdUrls: ["http://10.0.2.2:8080/h.cpio"], params: "" })
        .split("\n")
        .slice(2, 4),
    ).toEqual(["initrd http://10.0.2.2:8080/initramfs.img", "initrd http://10.0.2.2:8080/h.cpio"]);
  });
});
