// Where an image can be published. Plain types: the recipe schema mirrors them (zod) and the CLI
// builds them from flags. The `type` field selects the publisher in ./index.ts.

/** Object key layouts in a bucket. */
export type S3Layout =
  /** `<prefix><name>/<tag>/{vmlinuz,initramfs.img,rootfs.squashfs,manifest.json}`: self-contained per tag. */
  | "bootsmith"
  /**
   * OpenCHAMI image-builder's: `efi-images/<prefix>vmlinuz-KVER`, `efi-images/<prefix>initramfs-KVER.img`,
   * `<prefix><name>-<tag>` (squashfs) and `<prefix><name>-<tag>.manifest.json`. Kernel and
   * initramfs are named by kernel version only, so give each image its own prefix (two images
   * with the same kernel would otherwise replace each other's initramfs).
   */
  | "image-builder";

export const S3_LAYOUTS: readonly S3Layout[] = ["bootsmith", "image-builder"];

export interface S3Target {
  readonly type: "s3";
  /** Upload endpoint, e.g. http://127.0.0.1:7480 (Ceph RGW, MinIO). Unset: AWS. */
  readonly endpoint?: string;
  readonly bucket: string;
  /** Key prefix, used verbatim (include the trailing "/" for a folder). */
  readonly prefix?: string;
  /** Default us-east-1 (custom endpoints ignore it but SigV4 needs one). */
  readonly region?: string;
  /** Base URL nodes fetch from (anonymous http); default `<endpoint>/<bucket>`. */
  readonly publicBase?: string;
  readonly layout?: S3Layout;
  /** PEM file with the CA that signed an https endpoint's certificate. */
  readonly caFile?: string;
  /** Default true with a custom endpoint (Ceph, MinIO), false on AWS. */
  readonly forcePathStyle?: boolean;
}

export interface LocalTarget {
  readonly type: "local";
  /** Root directory; the image lands in `<dir>/<name>/<tag>/`. */
  readonly dir: string;
  /** Base URL under which `dir` is served (e.g. by `bootsmith serve`); default file:// URLs. */
  readonly publicBase?: string;
}

export interface RegistryTarget {
  readonly type: "registry";
  /** Repository without tag, e.g. 127.0.0.1:5000/bootsmith/debian-live. */
  readonly repository: string;
  /** Default true. */
  readonly tlsVerify?: boolean;
  /** containers-auth.json; default REGISTRY_AUTH_FILE or buildah's own default. */
  readonly authFile?: string;
}

export type PublishTarget = S3Target | LocalTarget | RegistryTarget;
export type PublishTargetType = PublishTarget["type"];
