// Never register params that point at something missing: HEAD every artifact URL (kernel,
// initrd, and the rootfs named by `root=live:`) from where bootsmith runs, before writing.
// Only http(s) URLs can be checked; others (tftp paths, s3:// that BSS signs) are reported as
// unchecked rather than silently passed.
import { HttpClient, redactUrl, type HttpClientOptions } from "./http.js";
import { liveRootUrl } from "../core/params.js";

export interface ArtifactCheck {
  readonly role: "kernel" | "initrd" | "rootfs";
  readonly url: string;
  readonly status: "ok" | "missing" | "unreachable" | "unchecked";
  /** HTTP status or error text. */
  readonly detail: string;
}

export function artifactUrls(entry: { kernel?: string; initrd?: string; params?: string }): { role: ArtifactCheck["role"]; url: string }[] {
  const list: { role: ArtifactCheck["role"]; url: string }[] = [];
  if (entry.kernel) list.push({ role: "kernel", url: entry.kernel });
  if (entry.initrd) list.push({ role: "initrd", url: entry.initrd });
  const root = entry.params ? liveRootUrl(entry.params) : undefined;
  if (root) list.push({ role: "rootfs", url: root });
  return list;
}

/** HEAD each URL (in parallel); a 2xx is ok, anything else is missing/unreachable. */
export async function checkArtifacts(
  urls: readonly { role: ArtifactCheck["role"]; url: string }[],
  options: Pick<HttpClientOptions, "caFile" | "timeoutMs" | "retries" | "backoffMs"> = {},
): Promise<ArtifactCheck[]> {
  return Promise.all(
    urls.map(async ({ role, url }): Promise<ArtifactCheck> => {
      if (!/^https?:\/\//i.test(url)) return { role, url, status: "unchecked", detail: "not an http(s) URL" };
      try {
        const client = new HttpClient(url, { ...options, retries: options.retries ?? 2 });
        const head = await client.request({ method: "HEAD", path: "" });
        if (head.status >= 200 && head.status < 300) return { role, url, status: "ok", detail: `HTTP ${head.status}` };
        // Some servers refuse HEAD (405/501), and a URL presigned for GET answers HEAD with 403:
        // ask for the first byte instead before calling the artifact missing.
        if (head.status !== 403 && head.status !== 405 && head.status !== 501) return { role, url, status: "missing", detail: `HTTP ${head.status}` };
        const get = await client.request({ method: "GET", path: "", headers: { Range: "bytes=0-0" }, discardBody: true });
        if (get.status >= 200 && get.status < 300) return { role, url, status: "ok", detail: `HTTP ${get.status} to GET (HEAD: ${head.status})` };
        return { role, url, status: "missing", detail: `HTTP ${head.status} to HEAD, ${get.status} to GET` };
      } catch (error) {
        return { role, url, status: "unreachable", detail: (error as Error).message };
      }
    }),
  );
}

export function artifactProblems(checks: readonly ArtifactCheck[]): string[] {
  return checks.filter((c) => c.status === "missing" || c.status === "unreachable").map((c) => `${c.role} ${redactUrl(c.url)}: ${c.status} (${c.detail})`);
}
