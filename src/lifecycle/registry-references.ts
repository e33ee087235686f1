// Whether a boot service's kernel, initrd or params string names a tag of a registry repository,
// for gc. The string is read as image references, HOST[:PORT]/PATH[:TAG][@DIGEST] (a docker://
// or other scheme in front, a `key=` before it), and each is compared exactly: the same path,
// then the tag (`img:1` is not `img:10`), or the digest the tag points at. What cannot be matched
// for sure counts as maybe in use, with the reason: the same path and tag under another host
// spelling (127.0.0.1:5000 for localhost:5000: gc cannot tell they are one registry), or the
// repository named in a way that is no single tag or digest (a blob URL).
import type { ReferenceMatch, StoredTag } from "./store.js";

interface Reference {
  /** Lowercased HOST[:PORT]; undefined when the reference names no host. */
  readonly host: string | undefined;
  readonly tag?: string;
  readonly digest?: string;
  readonly text: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+:[0-9a-f]{32,}$/;
/** Schemes and transports in front of a reference: docker://, http://, oci:, registry:, live: (dracut's root=live:URL). */
const PREFIX = /^(?:[a-z][a-z0-9+.-]*:\/\/|(?:live|registry|oci|docker):)/i;

/** `repository` is HOST[:PORT]/PATH, as gc's registry target names it. */
export function matchRegistryReference(text: string, repository: string, tag: StoredTag): ReferenceMatch | undefined {
  const slash = repository.indexOf("/");
  const targetHost = repository.slice(0, slash).toLowerCase();
  const targetPath = repository.slice(slash + 1);
  let maybe: ReferenceMatch | undefined;
  for (const found of referencesTo(text, targetPath)) {
    if ("unreadable" in found) {
      maybe ??= { sure: false, why: `${found.unreadable} names ${targetPath} in a way gc cannot read as one tag or digest` };
      continue;
    }
    if (!names(found, tag)) continue;
    if (found.host === targetHost) return { sure: true };
    maybe ??= {
      sure: false,
      why:
        found.host === undefined
          ? `${found.text} names no registry host`
          : `${found.text} names host ${found.host}, not ${targetHost}: gc cannot tell whether that is the same registry`,
    };
  }
  return maybe;
}

/** Whether a reference to the repository names this tag: by digest (of the tag, or of an image its list names), else by tag (none: latest). */
function names(ref: Reference, tag: StoredTag): boolean {
  if (ref.digest !== undefined) {
    const digests = [tag.image?.digest, ...(tag.image?.platforms ?? []).map((p) => p.digest)];
    if (digests.includes(ref.digest)) return true;
  }
  return (ref.tag ?? (ref.digest === undefined ? "latest" : undefined)) === tag.tag;
}

/** The references in `text` to repository path `path`, and the mentions of it that are none. */
function referencesTo(text: string, path: string): (Reference | { unreadable: string })[] {
  const out: (Reference | { unreadable: string })[] = [];
  for (const word of text.split(/[\s"',;]+/)) {
    for (let token of word.split("=")) {
      while (PREFIX.test(token)) token = token.replace(PREFIX, "");
      if (!token.includes(path)) continue;
      const found = readReference(token, path);
      if (found) out.push(found);
    }
  }
  return out;
}

function readReference(token: string, path: string): Reference | { unreadable: string } | undefined {
  // Without a host: PATH[:TAG][@DIGEST] at the start.
  const hostless = token.startsWith(path) ? suffix(token.slice(path.length)) : undefined;
  if (hostless) return { host: undefined, ...hostless, text: token };
  const slash = token.indexOf("/");
  if (slash < 0) return undefined;
  const host = token.slice(0, slash).toLowerCase();
  const rest = token.slice(slash + 1);
  if (rest.startsWith(path)) {
    const tail = suffix(rest.slice(path.length));
    if (tail) return { host, ...tail, text: token };
    // PATH/more is another repository (a nested one); PATH2 (img vs img2) another name.
    return undefined;
  }
  // The registry API: /v2/PATH/manifests/TAG-or-DIGEST is one image; other /v2/PATH/ URLs (blobs) are of no one tag.
  if (rest.startsWith(`v2/${path}/`)) {
    const ref = rest.slice(`v2/${path}/manifests/`.length).replace(/[?#].*$/, "");
    if (rest.startsWith(`v2/${path}/manifests/`)) {
      if (DIGEST.test(ref)) return { host, digest: ref, text: token };
      if (TAG.test(ref)) return { host, tag: ref, text: token };
    }
    return { unreadable: token };
  }
  return undefined;
}

/** ":TAG", "@DIGEST", ":TAG@DIGEST" or "" after the path; undefined when something else follows. */
function suffix(after: string): { tag?: string; digest?: string } | undefined {
  const m = /^(?::([^@/]+))?(?:@(.+))?$/.exec(after);
  if (!m) return undefined;
  const [, tag, digest] = m;
  if (tag !== undefined && !TAG.test(tag)) return undefined;
  if (digest !== undefined && !DIGEST.test(digest)) return undefined;
  return { ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}
