// The image reference a recipe builds on (`from: {image: …}`), as buildah reads it: the grammar
// of distribution's reference package (containers/image uses the same),
// [HOST[:PORT]/]PATH[:TAG][@ALGORITHM:HEX], with buildah's optional docker:// transport.
// Checked when the recipe loads: buildah would otherwise refuse it only when the build starts.

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${HOST}(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

/** An image reference buildah can pull: [docker://][HOST[:PORT]/]PATH[:TAG][@DIGEST]. */
export const IMAGE_REFERENCE = new RegExp(`^(?:docker://)?${NAME}(?::${TAG})?(?:@${DIGEST})?$`);

/** distribution's limit on the name (everything before the tag). */
const MAX_NAME_LENGTH = 255;

/** The form, for messages. */
export const IMAGE_REFERENCE_FORM = "[HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST] with a lowercase PATH, e.g. registry.local/base/rocky:9.5";

/** buildah's other transports: they read archives and directories on the host, not a registry. */
const OTHER_TRANSPORT = /^(containers-storage|docker-archive|docker-daemon|oci|oci-archive|dir|ostree|sif|tarball):/;

/** What is wrong with `ref` as an image reference, or undefined when buildah can pull it. */
export function imageReferenceProblem(ref: string): string | undefined {
  const name = ref
    .replace(/^docker:\/\//, "")
    .replace(/@.*$/, "")
    .replace(/:[\w.-]*$/, "");
  if (IMAGE_REFERENCE.test(ref) && name.length <= MAX_NAME_LENGTH) return undefined;
  const transport = OTHER_TRANSPORT.exec(ref)?.[1];
  if (transport)
    return `${JSON.stringify(ref)} is read through buildah's ${transport}: transport, but from.image is pulled from a registry or found in buildah's storage by its name: load it first (buildah pull ${ref}) and name the image it gets, e.g. localhost/base:1`;
  const why = /\s/.test(ref)
    ? "it holds white space"
    : /[A-Z]/.test(name.slice(name.indexOf("/") + 1))
      ? "its repository path has capital letters; registries take lowercase paths only"
      : name.length > MAX_NAME_LENGTH
        ? `its name is longer than ${MAX_NAME_LENGTH} characters`
        : "";
  return `${JSON.stringify(ref)} is not an image reference${why ? ` (${why})` : ""}: write ${IMAGE_REFERENCE_FORM}`;
}

/** host[:port]/path, lowercase path components: what `docker://` accepts, without a tag or digest (a publish target's repository). */
export const REPOSITORY = /^[A-Za-z0-9.-]+(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;

/**
 * The registry tag a reference names, in one spelling for exact comparison: HOST[:PORT]/PATH:TAG
 * with the host lowercased (host names are case-insensitive), `latest` for no tag, and a name
 * without a host read as distribution reads it (docker.io, library/ for one path component).
 * Undefined for a reference pinned by digest (it names one image, not what a tag points at now)
 * and for what is no image reference.
 */
export function registryTag(ref: string): string | undefined {
  const bare = ref.replace(/^docker:\/\//, "");
  if (!IMAGE_REFERENCE.test(bare) || bare.includes("@")) return undefined;
  const slash = bare.indexOf("/");
  const first = slash < 0 ? "" : bare.slice(0, slash);
  // distribution: the first component is a host when it has a dot or a port, or is localhost.
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  const rest = hasHost ? bare.slice(slash + 1) : bare;
  const colon = rest.lastIndexOf(":");
  const [path, tag] = colon >= 0 ? [rest.slice(0, colon), rest.slice(colon + 1)] : [rest, "latest"];
  const host = hasHost ? first.toLowerCase() : "docker.io";
  return `${host}/${!hasHost && !path.includes("/") ? `library/${path}` : path}:${tag}`;
}
