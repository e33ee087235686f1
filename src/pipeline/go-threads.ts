// Several builds at once share the cores, but each Go program they run (buildah, skopeo) sizes
// itself for all of them: GOMAXPROCS defaults to the core count, and Go's garbage collector puts
// every processor it has that is idle in its own view to work marking. With two builds on two
// cores, each buildah then competes for the core the other build is using. Measured with eight
// fixture builds, --jobs 2 on 2 cores: GOMAXPROCS=1 took the makespan from 21.6–22.0 s to
// 19.6–20.1 s and the CPU from 39–40 s to 37 s (docs/benchmarks.md, 2026-12-03). So a run of
// several builds at once gives each Go program its share of the cores; a GOMAXPROCS the caller
// set is theirs and stays.

/** GOMAXPROCS for the programs of `concurrent` builds at once on `cores`; undefined for one build. */
export function goThreadsPerBuild(concurrent: number, cores: number): number | undefined {
  return concurrent > 1 ? Math.max(1, Math.floor(cores / concurrent)) : undefined;
}

/**
 * Set GOMAXPROCS in `env` (the environment the build's programs inherit) for `concurrent`
 * builds at once, unless it is set already. Returns what puts `env` back as it was.
 */
export function shareCoresWithGoPrograms(concurrent: number, cores: number, env: NodeJS.ProcessEnv = process.env): () => void {
  const threads = goThreadsPerBuild(concurrent, cores);
  if (threads === undefined || env.GOMAXPROCS !== undefined) return () => {};
  env.GOMAXPROCS = String(threads);
  return () => {
    delete env.GOMAXPROCS;
  };
}
