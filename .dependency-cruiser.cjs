// The layering of src/, enforced by `npm run lint` (depcruise). Each folder may import only the
// folders below it; the stages sit side by side and may not import each other, except where a
// line below allows it. README.md's "Layout" section draws the same picture.
//
//   cli → pipeline, lifecycle → stages (builder publish register boottest serve verify) → sign
//       → plan → pkg → steps → recipe → exec → core
// lifecycle (diff, bundles, promote, gc) works on built and published images with the stages'
// readers and clients, beside pipeline (which builds them); neither imports the other.
//
// test/lint/layers.test.ts plants an upward import and a cycle in a copy of src/ and checks
// that these rules reject both.

/** Bottom first: a folder may import itself and every folder listed before it. */
const LAYERS = [
  ["core"],
  ["exec"],
  ["recipe"],
  ["steps"],
  ["pkg"],
  ["plan"],
  ["sign"],
  ["builder", "publish", "register", "boottest", "serve", "verify"],
  ["pipeline", "lifecycle"],
  ["cli"],
];

/**
 * Imports between stages that are allowed: boot-test reads the builder's initramfs and serves
 * files; register --verify-key checks the published set with verify's set check; verify reads
 * s3:// sets with publish's S3 client (one place that configures endpoints, CAs, credentials).
 */
const SIDEWAYS = { boottest: ["builder", "serve"], register: ["verify"], verify: ["publish"] };

const below = (layerIndex) => LAYERS.slice(0, layerIndex).flat();

const layerRules = LAYERS.flatMap((layer, i) =>
  layer.map((folder) => {
    const allowed = [folder, ...below(i), ...(SIDEWAYS[folder] ?? [])];
    return {
      name: `layer-${folder}`,
      comment: `src/${folder}/ may import only ${allowed.filter((f) => f !== folder).join(", ") || "nothing else in src/"} (see .dependency-cruiser.cjs)`,
      severity: "error",
      from: { path: `^src/${folder}/` },
      to: { path: "^src/", pathNot: `^src/(${allowed.join("|")})/` },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "no-circular",
      comment: "Modules that import each other (directly or around a loop) cannot be understood or tested alone.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unknown-folder",
      comment: "Every module lives in one of the layers above; a new folder needs its place in LAYERS.",
      severity: "error",
      from: { path: "^src/", pathNot: `^src/(${LAYERS.flat().join("|")})/` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
