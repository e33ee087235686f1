// Which format a recipe file is written in, from its top-level keys. bootsmith reads its own
// format and the two OpenCHAMI formats sites already have:
//   image-builder (OpenCHAMI/image-builder, Python, v0.1.x): `options:` plus top-level
//     repos/packages/package_groups/remove_packages/copyfiles/cmds (src/image_config.py).
//   image-thrillhouse (OpenCHAMI/image-thrillhouse, Go): `meta:` + `layer:` + `publish:`
//     (internal/config/config.go, type Config).
// The top-level key sets do not overlap, so one key decides; anything else is read as native
// and gets the native schema's errors.

export const FOREIGN_FORMATS = ["image-builder", "image-thrillhouse"] as const;
export type ForeignFormat = (typeof FOREIGN_FORMATS)[number];
export type RecipeFormat = "bootsmith" | ForeignFormat;

/** Keys only image-builder has at the top level (image_config.py's getters). */
const IMAGE_BUILDER_KEYS = ["options", "package_groups", "remove_packages", "copyfiles", "cmds"] as const;
/** Keys only image-thrillhouse has at the top level (config.Config). */
const THRILLHOUSE_KEYS = ["meta", "layer"] as const;

export interface Detection {
  readonly format: RecipeFormat;
  /** The top-level key that decided, for messages. */
  readonly key?: string;
}

export function detectFormat(data: unknown): Detection {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return { format: "bootsmith" };
  const keys = Object.keys(data);
  // An explicit apiVersion is a native recipe, even one with a stray foreign key: the native
  // schema then reports that key as unknown, which is the more useful message.
  if (keys.includes("apiVersion")) return { format: "bootsmith", key: "apiVersion" };
  const thrillhouse = THRILLHOUSE_KEYS.find((k) => keys.includes(k));
  if (thrillhouse) return { format: "image-thrillhouse", key: thrillhouse };
  const imageBuilder = IMAGE_BUILDER_KEYS.find((k) => keys.includes(k));
  if (imageBuilder) return { format: "image-builder", key: imageBuilder };
  return { format: "bootsmith" };
}
