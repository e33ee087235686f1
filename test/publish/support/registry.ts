// Debian's docker-registry on a free 127.0.0.1 port, storing into a temp directory, for the
// publish tests; stopped (and awaited) by stop().
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { silentReporter } from "../../../src/exec/events.js";
import { run } from "../../../src/exec/run.js";
import { freePort } from "./ceph.js";

export interface TestRegistry {
  /** host:port */
  readonly address: string;
  stop(): Promise<void>;
}

export async function startRegistry(work: string): Promise<TestRegistry> {
  const address = `127.0.0.1:${await freePort()}`;
  const config = join(work, "registry.yml");
  await writeFile(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, "registry")}\nhttp:\n  addr: ${address}\nlog:\n  level: warn\n`,
  );
  const stop = new AbortController();
  const exited = run({ file: "docker-registry", args: ["serve", config] }, { step: "test", reporter: silentReporter, signal: stop.signal }).catch(
    (e: unknown) => e,
  );
  // Polling the API is the registry's own readiness signal.
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${address}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i >= 100) throw new Error(`docker-registry did not answer on ${address} within 10 s`);
    await delay(100);
  }
  return {
    address,
    stop: async () => {
      stop.abort();
      await exited;
    },
  };
}
