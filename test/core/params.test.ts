import { describe, expect, it } from "vitest";
import { joinParams, liveRootUrl, ParamsTemplateError, splitParams, renderParams, validateParamsTemplate } from "../../src/core/params.js";
import type { PublishedImage } from "../../src/core/published-image.js";

const image: PublishedImage = {
  name: "compute",
  tag: "v1",
  target: "s3",
  urls: { kernel: "http://s3/boot/v1/vmlinuz", initrd: "http://s3/boot/v1/initramfs.img", rootfs: "http://s3/boot/v1/rootfs.squashfs" },
};

describe("renderParams", () => {
  it("fills every placeholder, with or without spaces inside the braces, and appends site params", () => {
    const out = renderParams(
      "nomodeset ro ip=dhcp console=ttyS0,115200 root=live:{{ rootfs.url }} k={{kernel.url}} i={{initrd.url }} img={{ name }}:{{ tag }}",
      image,
      "  rd.live.overlay.overlayfs=1   quiet ",
    );
    expect(out).toBe(
      "nomodeset ro ip=dhcp console=ttyS0,115200 root=live:http://s3/boot/v1/rootfs.squashfs k=http://s3/boot/v1/vmlinuz i=http://s3/boot/v1/initramfs.img img=compute:v1 rd.live.overlay.overlayfs=1 quiet",
    );
  });

  it("rejects an unknown placeholder and lists the valid ones", () => {
    expect(() => renderParams("root=live:{{ rootfs.uri }}", image)).toThrow(ParamsTemplateError);
    const problems = validateParamsTemplate("root=live:{{ rootfs.uri }}");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("{{ rootfs.uri }}");
    for (const p of ["{{ rootfs.url }}", "{{ kernel.url }}", "{{ initrd.url }}", "{{ name }}", "{{ tag }}"]) expect(problems[0]).toContain(p);
  });

  it("rejects unbalanced braces and newlines, accepts plain params", () => {
    expect(validateParamsTemplate("root=live:{{ rootfs.url")).toHaveLength(1);
    expect(validateParamsTemplate("a\nb")).toHaveLength(1);
    expect(validateParamsTemplate("ro quiet")).toEqual([]);
  });

  it("fails when the image lacks the URL a placeholder needs", () => {
    const noRootfs: PublishedImage = { ...image, urls: { kernel: image.urls.kernel } };
    expect(() => renderParams("root=live:{{ rootfs.url }}", noRootfs)).toThrow(/has no rootfs URL/);
  });

  it("finds the live root URL", () => {
    expect(liveRootUrl("ro root=live:http://h/r.squashfs quiet")).toBe("http://h/r.squashfs");
    expect(liveRootUrl("ro root=/dev/sda1")).toBeUndefined();
    expect(liveRootUrl('note="root=live:http://h/old" root=live:http://h/r.squashfs')).toBe("http://h/r.squashfs");
  });

  it("splits and joins a command line as the kernel parses it: a quoted value keeps its spaces", () => {
    expect(splitParams(' ro  motd="hello  world" x=1 ')).toEqual(["ro", 'motd="hello  world"', "x=1"]);
    expect(joinParams('ro motd="a  b"', "  quiet ")).toBe('ro motd="a  b" quiet');
  });
});
