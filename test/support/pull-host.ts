// A pull host's image trust, as a site writes it: a policy.json that rejects everything but
// `repository` signed by one public key, and a registries.d that reads that repository's
// signatures from a lookaside directory. Tests pull with `skopeo ...pullHostArgs copy ...`.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/** Write the two files under `dir`; returns skopeo's global flags that use them. */
export async function pullHostArgs(dir: string, repository: string, publicKeyFile: string, lookaside: string): Promise<string[]> {
  await mkdir(path.join(dir, "registries.d"), { recursive: true });
  const policy = {
    default: [{ type: "reject" }],
    transports: { docker: { [repository]: [{ type: "signedBy", keyType: "GPGKeys", keyPath: publicKeyFile }] } },
  };
  await writeFile(path.join(dir, "policy.json"), JSON.stringify(policy));
  await writeFile(path.join(dir, "registries.d", "site.yaml"), `docker:\n  ${repository}:\n    lookaside: file://${lookaside}\n`);
  return ["--policy", path.join(dir, "policy.json"), "--registries.d", path.join(dir, "registries.d")];
}
