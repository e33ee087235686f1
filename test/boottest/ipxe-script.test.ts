import { describe, expect, it } from "vitest";
import { imageName, renderIpxeScript } from "../../src/boottest/ipxe-script.js";
import { bootTestParams, DEFAULT_PARAMS_TEMPLATE, fillParamsTemplate, TEST_PARAMS } from "../../src/boottest/params.js";

const urls = {
  kernel: "http://10.0.2.2:8080/vmlinuz",
  initrd: "http://10.0.2.2:8080/initramfs.img",
  rootfs: "http://10.0.2.2:8080/rootfs.squashfs",
};

describe("renderIpxeScript", () => {
  it("renders the BSS script shape", () => {
    const script = renderIpxeScript({ kernelUrl: urls.kernel, initrdUrl: urls.initrd, params: "console=ttyS0  root=live:http://10.0.2.2:8080/rootfs.squashfs " });
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
  });
});
