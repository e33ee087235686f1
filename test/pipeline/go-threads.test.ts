import { describe, expect, it } from "vitest";
import { goThreadsPerBuild, shareCoresWithGoPrograms } from "../../src/pipeline/go-threads.js";

describe("goThreadsPerBuild", () => {
  it("leaves one build alone and gives several builds their share of the cores, at least one", () => {
    expect(goThreadsPerBuild(1, 2)).toBeUndefined();
    expect(goThreadsPerBuild(2, 2)).toBe(1);
    expect(goThreadsPerBuild(4, 64)).toBe(16);
    expect(goThreadsPerBuild(3, 8)).toBe(2);
    expect(goThreadsPerBuild(8, 2)).toBe(1);
  });
});

describe("shareCoresWithGoPrograms", () => {
  it("sets GOMAXPROCS for a run of several builds and puts the environment back after", () => {
    const env: NodeJS.ProcessEnv = { PATH: "/usr/bin" };
    const restore = shareCoresWithGoPrograms(2, 8, env);
    expect(env.GOMAXPROCS).toBe("4");
    restore();
    expect(env).toEqual({ PATH: "/usr/bin" });
  });

  it("keeps a GOMAXPROCS the caller set, and sets nothing for one build", () => {
    const env: NodeJS.ProcessEnv = { GOMAXPROCS: "6" };
    shareCoresWithGoPrograms(2, 8, env)();
    expect(env.GOMAXPROCS).toBe("6");
    const single: NodeJS.ProcessEnv = {};
    shareCoresWithGoPrograms(1, 8, single);
    expect(single).toEqual({});
  });
});
