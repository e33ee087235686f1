// Client for OpenCHAMI BSS's `/boot/v1/bootparameters` and `/boot/v1/bootscript` (spec:
// test/contracts/bss-swagger.yaml). Also used for boot-service's legacy API, which is the same.
// Reads are per selector (one host, MAC or NID), because that is the granularity at which
// registration records what it replaced.
import { errorDetail, HttpClient, HttpError, type HttpClientOptions, type HttpResponse } from "./http.js";
import { RegistrationError } from "./errors.js";

/** The spec's BootParams definition (the fields bootsmith uses). */
export interface BootParams {
  hosts?: string[];
  macs?: string[];
  nids?: number[];
  params?: string;
  kernel?: string;
  initrd?: string;
  "cloud-init"?: CloudInit;
}

/** The spec's CloudInit (meta-data, user-data, phone-home): set by the site, never by bootsmith. */
export type CloudInit = Record<string, unknown>;

/** An entry as BSS stores it for one selector: the boot fields, and the cloud-init data beside them. */
export interface StoredEntry {
  readonly entry: BootEntry;
  readonly cloudInit?: CloudInit;
}

/** One node selector: the unit BSS stores params for. */
export type SelectorKey =
  { readonly kind: "mac"; readonly value: string } | { readonly kind: "host"; readonly value: string } | { readonly kind: "nid"; readonly value: number };

/** The boot-relevant part of a BootParams entry. */
export interface BootEntry {
  readonly kernel?: string;
  readonly initrd?: string;
  readonly params?: string;
}

export function selectorLabel(key: SelectorKey): string {
  return `${key.kind} ${String(key.value)}`;
}

/** The BootParams selector fields for a set of keys of one kind. */
export function selectorBody(keys: readonly SelectorKey[]): Pick<BootParams, "hosts" | "macs" | "nids"> {
  const body: Pick<BootParams, "hosts" | "macs" | "nids"> = {};
  for (const k of keys) {
    switch (k.kind) {
      case "mac":
        (body.macs ??= []).push(k.value);
        break;
      case "host":
        (body.hosts ??= []).push(k.value);
        break;
      case "nid":
        (body.nids ??= []).push(k.value);
        break;
      default: {
        const never: never = k;
        throw new Error(`unknown selector ${JSON.stringify(never)}`);
      }
    }
  }
  return body;
}

function queryFor(key: SelectorKey): Record<string, string> {
  switch (key.kind) {
    case "mac":
      return { mac: key.value };
    case "host":
      return { name: key.value };
    case "nid":
      return { nid: String(key.value) };
    default: {
      const never: never = key;
      throw new Error(`unknown selector ${JSON.stringify(never)}`);
    }
  }
}

/**
 * PUT bodies that set each selector's entry while keeping its cloud-init: BSS's PUT replaces an
 * entry whole (Store()), so a body without the entry's cloud-init would erase the site's
 * meta-data and user-data. One body per selector kind (the spec asks for one of hosts, MACs or
 * NIDs), per entry and per cloud-init, in the order mac, host, nid.
 */
export function putBodies(writes: readonly { key: SelectorKey; entry: BootEntry; cloudInit?: CloudInit | undefined }[]): BootParams[] {
  const groups = new Map<string, { keys: SelectorKey[]; entry: BootEntry; cloudInit?: CloudInit | undefined }>();
  for (const kind of ["mac", "host", "nid"] as const)
    for (const w of writes.filter((x) => x.key.kind === kind)) {
      const id = JSON.stringify([kind, w.entry.kernel, w.entry.initrd, w.entry.params, w.cloudInit ?? null]);
      const group = groups.get(id) ?? { keys: [], entry: w.entry, cloudInit: w.cloudInit };
      group.keys.push(w.key);
      groups.set(id, group);
    }
  return [...groups.values()].map((g) => ({
    ...selectorBody(g.keys),
    ...(g.entry.kernel !== undefined ? { kernel: g.entry.kernel } : {}),
    ...(g.entry.initrd !== undefined ? { initrd: g.entry.initrd } : {}),
    ...(g.entry.params !== undefined ? { params: g.entry.params } : {}),
    ...(g.cloudInit !== undefined ? { "cloud-init": g.cloudInit } : {}),
  }));
}

/** Empty strings in BSS answers mean "not set". */
export function toEntry(bp: BootParams): BootEntry {
  const e: { kernel?: string; initrd?: string; params?: string } = {};
  if (bp.kernel) e.kernel = bp.kernel;
  if (bp.initrd) e.initrd = bp.initrd;
  if (bp.params !== undefined && bp.params !== "") e.params = bp.params;
  return e;
}

export interface ServiceErrorContext {
  /** "BSS at https://…" for messages. */
  readonly service: string;
  /** How to get a token, for 401s. */
  readonly tokenHint: string;
  /** Where the token in use came from ("none" when unauthenticated). */
  readonly tokenSource: string;
  /** The service's URL when it carried user:password (sent as basic auth), for 401s; never printed with the password. */
  readonly urlWithCredentials?: URL;
}

/** The context's fields for a client of `url` (the URL as given, user:password included). */
export function serviceErrorContext(
  service: string,
  url: URL,
  options: { readonly token?: string; readonly tokenSource?: string; readonly tokenHint?: string },
): ServiceErrorContext {
  return {
    service: `${service} at ${url.origin}`,
    tokenHint: options.tokenHint ?? "pass --token or set BSS_TOKEN",
    tokenSource: options.tokenSource ?? (options.token ? "the given token" : "none"),
    ...(url.username !== "" || url.password !== "" ? { urlWithCredentials: url } : {}),
  };
}

/** Turn a non-2xx answer into a RegistrationError with the service's own explanation. */
export function failure(res: HttpResponse, method: string, ctx: ServiceErrorContext): RegistrationError {
  const detail = errorDetail(res.body);
  const what = `${ctx.service}: ${method} ${res.url} answered HTTP ${res.status}${detail ? `: ${detail}` : ""}`;
  if (res.status === 401 || res.status === 403) {
    const token = ctx.tokenSource === "none" ? "no token was sent" : `the token from ${ctx.tokenSource} was not accepted (expired?)`;
    const lines = [
      ctx.urlWithCredentials && ctx.tokenSource === "none"
        ? `${token}; if the service also wants one, ${ctx.tokenHint}`
        : `${token}; to authenticate, ${ctx.tokenHint}`,
    ];
    // The user:password in the URL went as basic auth (a site's proxy): say they were refused
    // first, naming the user and where they go, never the password.
    if (ctx.urlWithCredentials) lines.unshift(credentialsRefused(ctx.urlWithCredentials));
    return new RegistrationError("unauthorized", `${what}\n  ${lines.join("\n  ")}`, { status: res.status, detail });
  }
  return new RegistrationError("rejected", what, { status: res.status, detail });
}

function credentialsRefused(url: URL): string {
  const example = new URL(url.origin + url.pathname);
  example.username = "USER";
  example.password = "PASSWORD";
  const user = url.username === "" ? "an empty user name" : `user "${decodeURIComponent(url.username)}"`;
  return `the user and password in the URL (${user}, sent as basic auth) were refused: check them and give them again in the URL, ${example.href} (bootsmith neither prints nor stores the password)`;
}

/** Transport errors and persistent 5xx from HttpClient become "unavailable". */
export function unavailable(error: unknown, ctx: ServiceErrorContext): RegistrationError {
  if (error instanceof HttpError) {
    return new RegistrationError("unavailable", `${ctx.service} is unavailable: ${error.message}`, {
      cause: error,
      status: error.status,
      detail: error.detail,
    });
  }
  return new RegistrationError("unavailable", `${ctx.service}: ${(error as Error).message}`, { cause: error });
}

/** An HttpClient, with bad URLs and unreadable CA files reported as invalid input. */
export function makeClient(url: string, options: HttpClientOptions, service: string): HttpClient {
  try {
    return new HttpClient(url, options);
  } catch (error) {
    throw new RegistrationError("invalid", `${service} target: ${(error as Error).message}`, { cause: error });
  }
}

/** boot-service's /boot/v1 answers `{"boot-parameters": [...] | null}` where BSS answers the list itself. */
function isBootServiceEnvelope(body: unknown): boolean {
  return typeof body === "object" && body !== null && !Array.isArray(body) && "boot-parameters" in body;
}

/**
 * A GET answered in OpenCHAMI boot-service's own /boot/v1 shape. The message is register's
 * (refused, nothing written); `answered` and `bootService` let another command give its own
 * advice (gc reads the same service through its BootConfigurations).
 */
export class BootServiceLegacyError extends RegistrationError {
  constructor(
    /** "BSS at …: GET … answered in boot-service's shape …: this is OpenCHAMI boot-service's /boot/v1". */
    readonly answered: string,
    /** The service's base URL (its /boot/v1 and any user:password removed): what --boot-service takes. */
    readonly bootService: string,
  ) {
    super(
      "rejected",
      `${answered}, whose PUT only updates a BootConfiguration it already holds (404 for a new node) and replaces that configuration's node list with the request's. Nothing was written; register through its BootConfiguration API: --boot-service ${bootService} --name NAME, without --legacy (in a recipe: register: type: boot-service without legacy: true)`,
    );
  }
}

/**
 * boot-service's /boot/v1 only looks like BSS: its PUT answers 404 for a node without a
 * BootConfiguration and, for one with, replaces that configuration's node list with the
 * request's (dropping the other nodes it boots); it takes NIDs as strings and DELETE by query.
 * Registering through it would fail half-way or retarget other nodes: refuse before writing.
 */
function bootServiceLegacy(shownUrl: string, base: URL, ctx: ServiceErrorContext): BootServiceLegacyError {
  const service = new URL(base.href.replace(/\/boot\/v1\/?$/, ""));
  service.username = "";
  service.password = "";
  return new BootServiceLegacyError(
    `${ctx.service}: GET ${shownUrl} answered in boot-service's shape ({"boot-parameters": …}), not BSS's list: this is OpenCHAMI boot-service's /boot/v1`,
    service.href.replace(/\/$/, ""),
  );
}

export class BssClient {
  readonly http: HttpClient;
  readonly ctx: ServiceErrorContext;
  /** Path prefix for BSS routes: empty when the URL already ends in /boot/v1 (ochami's bss uri). */
  private readonly prefix: string;

  constructor(url: string, options: HttpClientOptions & { tokenSource?: string; tokenHint?: string } = {}) {
    this.http = makeClient(url, options, "BSS");
    this.prefix = /\/boot\/v1\/?$/.test(this.http.baseUrl.pathname) ? "" : "/boot/v1";
    this.ctx = serviceErrorContext("BSS", this.http.baseUrl, options);
  }

  private async send(
    method: "GET" | "PUT" | "PATCH" | "POST" | "DELETE",
    path: string,
    body?: BootParams,
    query?: Record<string, string>,
  ): Promise<HttpResponse> {
    try {
      return await this.http.request({ method, path: this.prefix + path, body, query });
    } catch (error) {
      throw unavailable(error, this.ctx);
    }
  }

  /** The params stored for one selector, or undefined when BSS has none (404). */
  async get(key: SelectorKey): Promise<BootEntry | undefined> {
    return (await this.read(key))?.entry;
  }

  /** The entry stored for one selector with its cloud-init (which a PUT must carry to keep), or undefined (404). */
  async read(key: SelectorKey): Promise<StoredEntry | undefined> {
    const first = (await this.query(queryFor(key)))[0];
    if (!first) return undefined;
    const cloudInit = first["cloud-init"];
    return { entry: toEntry(first), ...(cloudInit && typeof cloudInit === "object" && Object.keys(cloudInit).length > 0 ? { cloudInit } : {}) };
  }

  /** Every entry BSS holds (GET without a selector), e.g. to see which images nodes boot. */
  async list(): Promise<BootParams[]> {
    return this.query();
  }

  /** GET /bootparameters; BSS answers 404 (or null) when nothing matches: an empty list. */
  private async query(query?: Record<string, string>): Promise<BootParams[]> {
    const res = await this.send("GET", "/bootparameters", undefined, query);
    if (res.status === 404) return [];
    if (res.status !== 200) throw failure(res, "GET", this.ctx);
    let list: unknown;
    try {
      list = JSON.parse(res.body);
    } catch (error) {
      throw new RegistrationError("rejected", `${this.ctx.service}: GET ${res.url} returned invalid JSON`, { cause: error });
    }
    if (list === null) return [];
    if (isBootServiceEnvelope(list)) throw bootServiceLegacy(res.url, this.http.baseUrl, this.ctx);
    if (!Array.isArray(list))
      throw new RegistrationError("rejected", `${this.ctx.service}: GET ${res.url} returned ${typeof list}, expected a list of BootParams`);
    return list as BootParams[];
  }

  /** Create or replace (PUT: idempotent). */
  async put(bp: BootParams): Promise<void> {
    const res = await this.send("PUT", "/bootparameters", bp);
    // GET answers 404 for a node without params, so a URL that is not BSS's passes the reads as
    // "no entries yet"; the PUT is where it shows. The spec also lets BSS answer a PUT 404 for a
    // host, MAC or NID it cannot find, so name both causes.
    if (res.status === 404) {
      const error = failure(res, "PUT", this.ctx);
      throw new RegistrationError(
        "rejected",
        `${error.message}\n  BSS's PUT creates or replaces entries, so a 404 means either this URL is not BSS's /boot/v1 API: check the BSS URL (--bss, or url: in the recipe's register:), e.g. https://HOST:8443 or ochami's https://HOST/boot/v1; or BSS cannot find one of the nodes (the spec's 404 for PUT: an unknown host, MAC or NID): check --mac/--host/--nid (macs:/hosts:/nids: in the recipe's register:)`,
        { status: 404, detail: error.detail },
      );
    }
    if (res.status !== 200) throw failure(res, "PUT", this.ctx);
  }

  /** Create; BSS answers 400 when any selector already has params. */
  async post(bp: BootParams): Promise<void> {
    const res = await this.send("POST", "/bootparameters", bp);
    if (res.status !== 201 && res.status !== 200) throw failure(res, "POST", this.ctx);
  }

  /** Update params of existing entries, keeping kernel and initrd; BSS answers 404 when missing. */
  async patch(bp: BootParams): Promise<void> {
    const res = await this.send("PATCH", "/bootparameters", bp);
    if (res.status !== 200) throw failure(res, "PATCH", this.ctx);
  }

  /** Remove the entries the body selects. */
  async delete(bp: BootParams): Promise<void> {
    const res = await this.send("DELETE", "/bootparameters", bp);
    if (res.status !== 200 && res.status !== 204) throw failure(res, "DELETE", this.ctx);
  }

  /** The iPXE script a node with this selector would get. */
  async bootscript(key: SelectorKey): Promise<string> {
    const res = await this.send("GET", "/bootscript", undefined, queryFor(key));
    if (res.status !== 200) throw failure(res, "GET", this.ctx);
    return res.body;
  }
}
