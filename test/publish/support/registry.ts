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

/**
 * `deletes`: the registry API's DELETE by digest enabled (what `bootsmith gc` needs).
 * `htpasswd`: basic auth for this one user, as sites put in front of a registry (the bcrypt hash
 * from perl's crypt(), which is libxcrypt's).
 */
export async function startRegistry(
  dir: string,
  options: { readonly deletes?: boolean; readonly htpasswd?: { readonly user: string; readonly password: string } } = {},
): Promise<TestRegistry> {
  const address = `127.0.0.1:${await freePort()}`;
  const config = join(dir, "registry.yml");
  let auth = "";
  if (options.htpasswd) {
    const ctx = { step: "registry", reporter: silentReporter };
    const script = 'print crypt($ARGV[0], q($2b$05$) . join("", map { (".", "/", "a".."z")[rand 28] } 1..22))';
    const hash = (await run({ file: "perl", args: ["-e", script, options.htpasswd.password] }, ctx)).stdout.trim();
    await writeFile(join(dir, "htpasswd"), `${options.htpasswd.user}:${hash}\n`);
    auth = `auth:\n  htpasswd:\n    realm: bootsmith-test\n    path: ${join(dir, "htpasswd")}\n`;
  }
  await writeFile(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "registry")}\n${options.deletes ? "  delete:\n    enabled: true\n" : ""}http:\n  addr: ${address}\nlog:\n  level: warn\n${auth}`,
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
      (r) => r.ok || (options.htpasswd !== undefined && r.status === 401),
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

/** A containers auth file holding `user:password` for `address` (what `buildah login --authfile FILE` writes). */
export async function writeAuthFile(file: string, address: string, user: string, password: string): Promise<void> {
  await writeFile(file, JSON.stringify({ auths: { [address]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } }));
}

/** The explanation publish/registry-credentials.ts gives when `program` pushed to `repository` with no auth file. */
export function refusedAnonymousPush(repository: string, program: "buildah" | "skopeo"): string[] {
  const host = repository.split("/")[0] ?? repository;
  return [
    `${repository}: the registry refused the push (unauthorized: authentication required)`,
    `no --authfile was given (${program} looked in $REGISTRY_AUTH_FILE or its default auth file): write one with \`buildah login --authfile FILE ${host}\` and pass --authfile FILE`,
  ];
}
