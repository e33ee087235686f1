import { defineConfig } from "vitest/config";
import { WaitingFilesLastSequencer } from "./test/support/sequencer.js";

// Two projects:
// - unit: no root, no external tools beyond node, bash and git (npm run test:unit; the GitLab
//   unit-tests job). Pure logic, the CLI's argument handling, in-process HTTP servers.
// - integration: the rest, driving real buildah, dnf, mmdebstrap, dracut, QEMU, a registry and
//   Ceph. Slow, and sharing host state (containers storage, loop mounts, ports).
// Files run one at a time in both (fileParallelism is inherited).
const UNIT = [
  "test/boottest/console-watch.test.ts",
  "test/boottest/ipxe-script.test.ts",
  "test/boottest/report.test.ts",
  "test/boottest/boot-test-records.test.ts",
  "test/boottest/timeline.test.ts",
  "test/core/junit.test.ts",
  "test/builder/dracut-diagnosis.test.ts",
  "test/builder/openscap.test.ts",
  "test/builder/accounts.test.ts",
  "test/builder/file-owners.test.ts",
  "test/builder/kernel-modules.test.ts",
  "test/builder/options.test.ts",
  "test/builder/execute.test.ts",
  "test/builder/output-dir.test.ts",
  "test/builder/output-lock.test.ts",
  "test/builder/package-cache.test.ts",
  "test/builder/version-cache.test.ts",
  "test/builder/storage.test.ts",
  "test/ci/**/*.test.ts",
  "test/cli/args.test.ts",
  "test/cli/cache.test.ts",
  "test/cli/gc.test.ts",
  "test/cli/main.test.ts",
  "test/cli/register.test.ts",
  "test/core/**/*.test.ts",
  "test/docs/**/*.test.ts",
  "test/exec/**/*.test.ts",
  "test/lint/**/*.test.ts",
  "test/lifecycle/diff-render.test.ts",
  "test/lifecycle/image-diff.test.ts",
  "test/lifecycle/import-tags.test.ts",
  "test/lifecycle/layer-listing.test.ts",
  "test/lifecycle/size-tree.test.ts",
  "test/lifecycle/store-s3.test.ts",
  "test/lifecycle/treemap.test.ts",
  "test/pipeline/beside-steps.test.ts",
  "test/pipeline/go-threads.test.ts",
  "test/pipeline/cache.test.ts",
  "test/pipeline/execute-plan.test.ts",
  "test/pipeline/refresh.test.ts",
  "test/pipeline/gitlab.test.ts",
  "test/pipeline/graph.test.ts",
  "test/pipeline/junit.test.ts",
  "test/pipeline/lockfile.test.ts",
  "test/pipeline/parallel.test.ts",
  // test/pkg/apt-content-key.test.ts runs the real apt-get and gpg: integration
  "test/pkg/apt.test.ts",
  "test/pkg/rpm.test.ts",
  "test/pkg/zypper.test.ts",
  "test/plan/**/*.test.ts",
  "test/publish/artifacts.test.ts",
  "test/publish/local.test.ts",
  "test/publish/s3-client.test.ts",
  "test/publish/s3-payload.test.ts",
  "test/publish/target-spec.test.ts",
  "test/recipe/compat/detect.test.ts",
  "test/recipe/compat/errors.test.ts",
  "test/recipe/compat/plan-equivalence.test.ts",
  "test/recipe/initramfs-modules.test.ts",
  "test/recipe/inputs.test.ts",
  "test/recipe/invalid-recipes.test.ts",
  "test/recipe/load.test.ts",
  "test/recipe/number-vars.test.ts",
  "test/recipe/unused-vars.test.ts",
  "test/recipe/repo-metadata.test.ts",
  "test/recipe/schema-docs.test.ts",
  "test/recipe/secrets.test.ts",
  "test/register/bss-server.test.ts",
  "test/register/targets.test.ts",
  "test/register/auth.test.ts",
  "test/register/pool.test.ts",
  "test/register/preflight.test.ts",
  "test/register/register.test.ts",
  "test/reliability/malformed-corpus.test.ts",
  "test/serve/**/*.test.ts",
  "test/support/prerequisites.test.ts",
  "test/support/wait-for-file.test.ts",
  "test/support/self-contained.test.ts",
];

export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    sequence: { sequencer: WaitingFilesLastSequencer },
    reporters: ["default"],
    projects: [
      // Unit files share one process, one after another (singleFork, no isolation): they restore
      // what they stub and pass in any file order (checked with --sequence.shuffle.files), so a
      // fresh module graph per file would only add ~50 s of imports to the ~45 s the tests take.
      { extends: true, test: { name: "unit", include: UNIT, poolOptions: { forks: { singleFork: true, isolate: false } } } },
      {
        extends: true,
        test: { name: "integration", include: ["test/**/*.test.ts"], exclude: [...UNIT, "node_modules/**"], globalSetup: ["test/support/global-setup.ts"] },
      },
    ],
  },
});
