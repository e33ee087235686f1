// Debian's docker-registry on 127.0.0.1 (a free port, storage under the caller's directory), for
// tests that push and pull real images.
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

/** `deletes`: the registry API's DELETE by digest enabled (what `bootsmith gc` needs). */
export async function startRegistry(dir: string, options: { readonly deletes?: boolean } = {}): Promise<TestRegistry> {
  const address = `127.0.0.1:${await freePort()}`;
  const config = join(dir, "registry.yml");
  await writeFile(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "registry")}\n${options.deletes ? "  delete:\n    enabled: true\n" : ""}http:\n  addr: ${address}\nlog:\n  level: warn\n`,
  );
  const stopper = new AbortController();
  const exited = run({ file: "docker-registry", args: ["serve", config] }, { step: "registry", reporter: silentReporter, signal: stopper.signal }).catch(
    (e: unknown) => e,
  );
  const stop = async () => {
    stopper.abort();
    await exited;
  };
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://${address}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i >= 100) {
      await stop();
      throw new Error(`docker-registry did not answer on ${address} within 10 s`);
    }
    await delay(100);
  }
  return { address, stop };
}

/** The tags the registry lists for `repository` (HOST:PORT/PATH); none when it does not know the repository. */
export async function registryTags(repository: string): Promise<string[]> {
  const slash = repository.indexOf("/");
  const response = await fetch(`http://${repository.slice(0, slash)}/v2/${repository.slice(slash + 1)}/tags/list`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`tags/list of ${repository}: HTTP ${response.status}`);
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}
