// An image in an OCI registry, as diff and export name it: `registry:HOST[:PORT]/REPO:TAG` (the
// form `--to registry:…` and gc's TARGET use, with a tag or digest added) or skopeo's
// `docker://HOST[:PORT]/REPO:TAG`; `@sha256:…` instead of `:TAG` pins a digest.
import { REPOSITORY } from "../core/image-ref.js";
import { LifecycleInputError } from "./errors.js";
import { OCI_TAG as TAG } from "../core/oci-tag.js";

export interface RegistryImageRef {
  /** HOST[:PORT]/PATH */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** How registry images are written on the command line, for help texts and errors. */
export const REGISTRY_REF_FORMS = ["registry:HOST[:PORT]/REPO:TAG", "docker://HOST[:PORT]/REPO:TAG (or @sha256:DIGEST)"] as const;

export function isRegistryRef(spec: string): boolean {
  return spec.startsWith("registry:") || spec.startsWith("docker://");
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseRegistryRef(spec: string): RegistryImageRef {
  const rest = spec.replace(/^registry:/, "").replace(/^docker:\/\//, "");
  const bad = (why: string) =>
    new LifecycleInputError(`${spec}: ${why}; give ${REGISTRY_REF_FORMS.join(" or ")}, e.g. registry:127.0.0.1:5000/bootsmith/compute:9.5`);
  const at = rest.indexOf("@");
  if (at >= 0) {
    const digest = rest.slice(at + 1);
    const repository = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`${JSON.stringify(digest)} is not a sha256:… digest`);
    if (!REPOSITORY.test(repository)) throw bad(`${JSON.stringify(repository)} is not HOST[:PORT]/PATH (lowercase path)`);
    return { repository, digest };
  }
  const colon = rest.lastIndexOf(":");
  const slash = rest.lastIndexOf("/");
  if (colon < slash || colon < 0) throw bad("no tag");
  const repository = rest.slice(0, colon);
  const tag = rest.slice(colon + 1);
  if (!TAG.test(tag)) throw bad(`${JSON.stringify(tag)} is not a valid tag`);
  if (!REPOSITORY.test(repository)) throw bad(`${JSON.stringify(repository)} is not HOST[:PORT]/PATH (lowercase path)`);
  return { repository, tag };
}

/** skopeo's name for it. */
export function dockerReference(ref: RegistryImageRef): string {
  return `docker://${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag!}`}`;
}
