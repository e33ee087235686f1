import { defineConfig } from "vitest/config";

// Integration tests drive real buildah, dnf, mmdebstrap and QEMU: they are slow and share host
// state (containers storage, loop mounts), so files run one at a time.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
