// A small JSON-over-HTTP(S) client for the boot services. node:http rather than fetch because
// fetch on Node 20 cannot take a custom CA without an extra dependency, and sites run BSS behind
// their own CA. Retries with exponential backoff on 5xx and connection errors (bounded); every
// other answer is returned to the caller, which knows what a 404 means for its route.
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { BootsmithError, EXIT } from "../core/errors.js";

export interface HttpClientOptions {
  /** Bearer token for `Authorization`; never logged or put in error messages. */
  readonly token?: string;
  /** PEM file of the CA that signed the server's certificate (added to Node's default CAs). */
  readonly caFile?: string;
  /** Per-attempt timeout (connect + response). Default 30 s, like ochami's. */
  readonly timeoutMs?: number;
  /** Attempts after the first on 5xx / connection errors. Default 4. */
  readonly retries?: number;
  /** First backoff delay; doubled per attempt. Default 500 ms. */
  readonly backoffMs?: number;
  /** Called before each retry (for progress output). */
  readonly onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

export interface HttpRequest {
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path relative to the client's base URL, e.g. `/boot/v1/bootparameters`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Serialized as JSON. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Resolve on the status line and drop the body (probing a possibly huge artifact with GET). */
  readonly discardBody?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The request URL, redacted for messages (see redactUrl). */
  readonly url: string;
}

/** A request that could not be answered usefully: transport failure, persistent 5xx, or an error status the caller rejects. */
export class HttpError extends BootsmithError {
  constructor(
    message: string,
    readonly method: string,
    readonly url: string,
    readonly status: number | undefined,
    /** RFC 7807 `detail` (or the service's `error` field), when the body had one. */
    readonly detail: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, EXIT.failed, options);
    this.name = "HttpError";
  }
}

const RETRYABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEOUT",
  "UND_ERR_SOCKET",
]);

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
]);

/** Query parameters that carry credentials (S3 presigned URLs, token-in-URL services). */
const SECRET_PARAM = /signature|token|credential|secret|password|key/i;

/** A URL for messages and logs: credential-bearing query values replaced, user:password dropped. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  url.username = "";
  url.password = "";
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAM.test(name)) url.searchParams.set(name, "REDACTED");
  return url.href;
}

/** Extract a human message from an error body: problem+json `detail`/`title`, or boot-service's `{error}`. */
export function errorDetail(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const o = parsed as Record<string, unknown>;
      for (const key of ["detail", "error", "message", "title"]) {
        const v = o[key];
        if (typeof v === "string" && v.trim() !== "") return v.trim();
      }
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  // A proxy in front of the service (nginx, haproxy) answers a 502/503 with an HTML page: its
  // title says it; else its text without the markup. Either way on one line, as messages are.
  const html = /^\s*<(!doctype|html|head|body)\b/i.test(body);
  const title = html ? /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1] : undefined;
  const raw = title?.trim() ? title : html ? body.replace(/<[^>]*>/g, " ") : body;
  const text = raw.replace(/\s+/g, " ").trim();
  return text === "" ? undefined : text.slice(0, 300);
}

export class HttpClient {
  readonly baseUrl: URL;
  private readonly ca: string | undefined;

  constructor(
    baseUrl: string,
    private readonly options: HttpClientOptions = {},
  ) {
    try {
      this.baseUrl = new URL(baseUrl);
    } catch (error) {
      throw new HttpError(`not a URL: ${JSON.stringify(baseUrl)}`, "-", baseUrl, undefined, undefined, { cause: error });
    }
    if (this.baseUrl.protocol !== "http:" && this.baseUrl.protocol !== "https:") {
      throw new HttpError(`unsupported URL scheme ${this.baseUrl.protocol} in ${baseUrl} (use http:// or https://)`, "-", baseUrl, undefined, undefined);
    }
    if (options.caFile !== undefined) {
      try {
        this.ca = readFileSync(options.caFile, "utf8");
      } catch (error) {
        throw new HttpError(`cannot read CA file ${options.caFile}: ${(error as Error).message}`, "-", baseUrl, undefined, undefined, { cause: error });
      }
    }
  }

  /** Resolve `path` against the base URL, keeping the base's own path prefix. */
  urlFor(path: string, query?: Readonly<Record<string, string>>): URL {
    const base = this.baseUrl.href.endsWith("/") ? this.baseUrl.href.slice(0, -1) : this.baseUrl.href;
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    return url;
  }

  /**
   * Send a request, retrying on 5xx and connection errors. Returns the final response whatever
   * its status below 500; throws HttpError when every attempt failed.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = this.urlFor(req.path, req.query);
    const shown = redactUrl(url.href);
    const retries = this.options.retries ?? 4;
    const backoff = this.options.backoffMs ?? 500;
    // A POST that reached the server may have been applied; only retry it when it surely was not.
    const idempotent = req.method !== "POST";
    let lastError: HttpError | undefined;
    let attempts = 0;
    let retryAfterMs = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      attempts = attempt + 1;
      if (attempt > 0 && lastError) {
        // A 503's Retry-After (seconds, capped at 30 s) wins over a shorter backoff.
        const delayMs = Math.max(backoff * 2 ** (attempt - 1), retryAfterMs);
        this.options.onRetry?.({ attempt, delayMs, reason: lastError.message });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      try {
        const res = await this.once(req, url);
        if (res.status < 500) return res;
        const detail = errorDetail(res.body);
        const retryAfter = Number(res.headers["retry-after"]);
        retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) * 1000 : 0;
        lastError = new HttpError(`${req.method} ${shown}: HTTP ${res.status}${detail ? `: ${detail}` : ""}`, req.method, shown, res.status, detail);
        if (!idempotent && res.status !== 502 && res.status !== 503 && res.status !== 504) break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        const hint = TLS_CODES.has(code) ? ` (the server's certificate is not trusted: pass the site CA with --ca-file / caFile)` : "";
        lastError = new HttpError(`${req.method} ${shown}: ${(error as Error).message}${hint}`, req.method, shown, undefined, undefined, { cause: error });
        const retryable = RETRYABLE_CODES.has(code) || (error as Error).message === "socket hang up" || code === "ERR_REQUEST_TIMEOUT";
        if (!retryable || (!idempotent && code !== "ECONNREFUSED")) break;
      }
    }
    const err = lastError ?? new HttpError(`${req.method} ${shown}: no attempt made`, req.method, shown, undefined, undefined);
    throw new HttpError(`${err.message} (gave up after ${attempts} attempt${attempts === 1 ? "" : "s"})`, err.method, err.url, err.status, err.detail, {
      cause: err.cause ?? err,
    });
  }

  private once(req: HttpRequest, url: URL): Promise<HttpResponse> {
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { Accept: "application/json, application/problem+json, text/plain", ...req.headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const mod = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const request = mod.request(url, { method: req.method, headers, ...(this.ca !== undefined ? { ca: this.ca } : {}), agent: false }, (res) => {
        if (req.discardBody) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "", url: redactUrl(url.href) });
          res.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), url: redactUrl(url.href) }),
        );
      });
      request.setTimeout(timeoutMs, () => {
        const error = new Error(`no answer within ${timeoutMs} ms`) as NodeJS.ErrnoException;
        error.code = "ERR_REQUEST_TIMEOUT";
        request.destroy(error);
      });
      request.on("error", reject);
      request.end(body);
    });
  }
}
