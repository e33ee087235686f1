// A contract test server for OpenCHAMI BSS (and boot-service v0.2), because the real services are
// Go programs that cannot be built here. It follows test/contracts/bss-swagger.yaml (routes under
// /boot/v1) and the semantics of OpenCHAMI/bss cmd/boot-script-service/default_api.go:
//   GET    /boot/v1/bootparameters   all, or ?mac=/name=/nid= (comma lists) or a body; 404 when none
//   POST   /boot/v1/bootparameters   201; 400 "Already exists" when any host/MAC/NID has params
//   PUT    /boot/v1/bootparameters   200; replaces, creates when missing
//   PATCH  /boot/v1/bootparameters   200; 404 when any selector has no params; keeps kernel/initrd
//   DELETE /boot/v1/bootparameters   200; selects by body; 404 when none existed
//   GET    /boot/v1/bootscript       the iPXE script BSS generates (unauthenticated: nodes have no token)
// Errors are RFC 7807 problem+json. With `token` set, bootparameters require that bearer token;
// with `basicAuth`, that user and password (a site's proxy in front of BSS).
// With `bootConfigurations`, it also serves boot-service's /bootconfigurations resources.
//
// Every request body and response body is checked against the spec (ajv, definitions from the
// vendored swagger): mismatches are collected in `violations`, which tests assert empty. Bodies
// the spec rejects are answered 400 like the Go server's JSON decoder would.
//
// Fault injection: failNext(n, status) answers the next n requests with a 5xx problem;
// hangNext(n) accepts and never answers; closeNext(n) destroys the socket without answering
// (each optionally only for requests a predicate matches).
//
// For an end-to-end boot (see test/boot/ipxe.test.ts, which runs real iPXE against it):
//   const bss = await startBssServer();
//   await register({ image, params, selectors: { macs: [MAC] } }, { type: "bss", url: bss.url },
//                  { checkArtifacts: false /* guest URLs (10.0.2.2) are not the host's */ , stateDir });
//   qemu … -netdev user,id=n0,bootfile=${bss.bootscriptUrl(MAC, `http://10.0.2.2:${bss.port}`)}
//          -device virtio-net-pci,netdev=n0,mac=${MAC} -boot n
//   …
//   await bss.stop();
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

export const BSS_SWAGGER_PATH = fileURLToPath(new URL("../contracts/bss-swagger.yaml", import.meta.url));

interface SwaggerOperation {
  parameters?: { in: string; schema?: unknown }[];
  responses?: Record<string, { schema?: unknown }>;
}
interface Swagger {
  definitions: Record<string, unknown>;
  paths: Record<string, Record<string, SwaggerOperation>>;
}

const MAC = /^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/;
const INT32_MAX = 2_147_483_647;

/** Swagger 2.0 `#/definitions/X` refs, re-pointed at the definitions document registered with ajv. */
function rewriteRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (schema && typeof schema === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema))
      out[k] = k === "$ref" && typeof v === "string" ? v.replace(/^#\/definitions\//, "bss-definitions#/definitions/") : rewriteRefs(v);
    return out;
  }
  return schema;
}

/** Validators for the spec's request and response bodies, looked up by path, method and status. */
export class BssContract {
  readonly spec: Swagger;
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction | null>();

  constructor(file: string = BSS_SWAGGER_PATH) {
    this.spec = parseYaml(readFileSync(file, "utf8")) as Swagger;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: "bss-definitions", definitions: rewriteRefs(this.spec.definitions) });
  }

  /** A validator for a named definition (e.g. "BootParams"). */
  definition(name: string): ValidateFunction {
    return this.compile(`def:${name}`, { $ref: `bss-definitions#/definitions/${name}` }) as ValidateFunction;
  }

  private compile(key: string, schema: unknown): ValidateFunction | null {
    if (!this.cache.has(key)) this.cache.set(key, schema === undefined ? null : this.ajv.compile(rewriteRefs(schema) as object));
    return this.cache.get(key) ?? null;
  }

  /** Errors of a request body against the operation's `in: body` schema (empty when valid or none). */
  checkRequest(path: string, method: string, body: unknown): string[] {
    const op = this.spec.paths[path]?.[method.toLowerCase()];
    const schema = op?.parameters?.find((p) => p.in === "body")?.schema;
    const v = this.compile(`req:${path}:${method}`, schema);
    if (!v || v(body)) return [];
    return (v.errors ?? []).map((e) => `${method} ${path} request${e.instancePath}: ${e.message ?? "invalid"}`);
  }

  /** Errors of a response body against the spec (status's schema, else `default`). */
  checkResponse(path: string, method: string, status: number, body: unknown): string[] {
    const op = this.spec.paths[path]?.[method.toLowerCase()];
    if (!op) return [`${method} ${path}: not in the spec`];
    const response = op.responses?.[String(status)] ?? op.responses?.default;
    if (!response) return [`${method} ${path}: status ${status} is not a documented response`];
    const v = this.compile(`res:${path}:${method}:${status}`, response.schema);
    if (!v || v(body)) return [];
    return (v.errors ?? []).map((e) => `${method} ${path} ${status} response${e.instancePath}: ${e.message ?? "invalid"}`);
  }
}

export interface BootEntryData {
  kernel?: string;
  initrd?: string;
  params?: string;
  /** Set by sites (ochami, cloud-init tooling), not by bootsmith; a PUT replaces it like the rest (BSS Store()). */
  "cloud-init"?: Record<string, unknown>;
}

export interface BootConfigurationData {
  apiVersion: string;
  kind: "BootConfiguration";
  metadata: { name: string; uid: string; createdAt: string; updatedAt: string };
  spec: { hosts?: string[]; macs?: string[]; nids?: number[]; groups?: string[]; kernel: string; initrd?: string; params?: string; priority?: number };
  status: Record<string, unknown>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly authorized: boolean;
}

type Fault = { kind: "status"; status: number; headers?: Record<string, string> } | { kind: "hang" } | { kind: "close" };

/** Which requests a fault applies to (default: any). */
export type FaultMatch = (req: { method: string; path: string; body: unknown }) => boolean;

export interface BssServerOptions {
  /** Require `Authorization: Bearer <token>` on bootparameters and bootconfigurations. */
  readonly token?: string;
  /** Require `Authorization: Basic` with this user and password instead (a site's authenticating proxy). */
  readonly basicAuth?: { readonly user: string; readonly password: string };
  /** Also serve boot-service's /bootconfigurations (v0.2). */
  readonly bootConfigurations?: boolean;
  /** Serve /boot/v1 (default true; boot-service with enable_legacy_api false answers 404 there). */
  readonly legacyApi?: boolean;
  /** Serve HTTPS with this PEM key and certificate (e.g. signed by a test CA). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

type Key = `mac:${string}` | `host:${string}` | `nid:${number}`;

interface Selection {
  keys: Key[];
  invalid: string[];
}

function selectionOf(bp: { macs?: unknown; hosts?: unknown; nids?: unknown }): Selection {
  const keys: Key[] = [];
  const invalid: string[] = [];
  for (const m of Array.isArray(bp.macs) ? (bp.macs as unknown[]) : []) {
    if (typeof m !== "string" || !MAC.test(m)) invalid.push(`invalid MAC address ${JSON.stringify(m)}`);
    else keys.push(`mac:${m.toLowerCase()}`);
  }
  for (const h of Array.isArray(bp.hosts) ? (bp.hosts as unknown[]) : []) if (typeof h === "string" && h !== "") keys.push(`host:${h}`);
  for (const n of Array.isArray(bp.nids) ? (bp.nids as unknown[]) : []) {
    if (typeof n !== "number") continue;
    // BootParams.nids is []int32 in BSS: encoding/json refuses the whole body.
    if (n > INT32_MAX || n < -INT32_MAX - 1) invalid.push(`json: cannot unmarshal number ${n} into Go struct field BootParams.nids of type int32`);
    else keys.push(`nid:${n}`);
  }
  return { keys, invalid };
}

function bodyForKey(key: Key, e: BootEntryData): Record<string, unknown> {
  const [kind, ...rest] = key.split(":");
  const value = rest.join(":");
  const sel = kind === "mac" ? { macs: [value] } : kind === "host" ? { hosts: [value] } : { nids: [Number(value)] };
  return { ...sel, kernel: e.kernel ?? "", initrd: e.initrd ?? "", params: e.params ?? "", ...(e["cloud-init"] ? { "cloud-init": e["cloud-init"] } : {}) };
}

export class BssServer {
  /** BSS entries by selector: "mac:aa:bb:…", "host:x1000…", "nid:7". */
  readonly entries = new Map<Key, BootEntryData>();
  readonly bootConfigurations = new Map<string, BootConfigurationData>();
  readonly requests: RecordedRequest[] = [];
  /** Contract mismatches seen in requests or responses. Tests assert this stays empty. */
  readonly violations: string[] = [];
  readonly contract = new BssContract();
  private readonly faults: { fault: Fault; match?: FaultMatch }[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  /** Base URL, e.g. http://127.0.0.1:40123 (QEMU guests reach it as http://10.0.2.2:<port>). */
  url = "";
  port = 0;

  constructor(private readonly options: BssServerOptions = {}) {}

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const tls = this.options.tls;
    const server: Server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `${tls ? "https" : "http"}://127.0.0.1:${this.port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answer the next `count` (matching) requests with `status` and a problem+json body. */
  failNext(count: number, status = 500, match?: FaultMatch, headers?: Record<string, string>): void {
    for (let i = 0; i < count; i++) this.faults.push({ fault: { kind: "status", status, headers }, match });
  }
  /** Accept the next `count` (matching) requests and never answer. */
  hangNext(count: number, match?: FaultMatch): void {
    for (let i = 0; i < count; i++) this.faults.push({ fault: { kind: "hang" }, match });
  }
  /** Drop the connection of the next `count` (matching) requests without an answer. */
  closeNext(count: number, match?: FaultMatch): void {
    for (let i = 0; i < count; i++) this.faults.push({ fault: { kind: "close" }, match });
  }

  /** Seed params without going through HTTP (e.g. "what a site had before bootsmith"). */
  seed(selectors: { macs?: string[]; hosts?: string[]; nids?: number[] }, entry: BootEntryData): void {
    for (const k of selectionOf(selectors).keys) this.entries.set(k, { ...entry });
  }

  entry(selector: `mac:${string}` | `host:${string}` | `nid:${number}`): BootEntryData | undefined {
    return this.entries.get(selector.toLowerCase().startsWith("mac:") ? (selector.toLowerCase() as Key) : selector);
  }

  /** The URL a node fetches its script from; for a QEMU user-net guest pass host `http://10.0.2.2:${port}`. */
  bootscriptUrl(mac: string, host = this.url): string {
    return `${host}/boot/v1/bootscript?mac=${encodeURIComponent(mac)}`;
  }

  private authorized(header: string | undefined): boolean {
    const { token, basicAuth } = this.options;
    if (token !== undefined && header !== `Bearer ${token}`) return false;
    if (basicAuth !== undefined && header !== `Basic ${Buffer.from(`${basicAuth.user}:${basicAuth.password}`).toString("base64")}`) return false;
    return true;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://x");
    const query = Object.fromEntries(url.searchParams.entries());
    const authorized = this.authorized(req.headers.authorization);
    let body: unknown = undefined;
    let badJson: string | undefined;
    if (raw.trim() !== "") {
      try {
        body = JSON.parse(raw);
      } catch (error) {
        badJson = (error as Error).message;
      }
    }
    this.requests.push({ method: req.method ?? "GET", path: url.pathname, query, body, authorized });

    const method = req.method ?? "GET";
    const at = this.faults.findIndex((f) => !f.match || f.match({ method, path: url.pathname, body }));
    const fault = at >= 0 ? this.faults.splice(at, 1)[0]?.fault : undefined;
    if (fault?.kind === "hang") return; // never answer; stop() destroys the socket
    if (fault?.kind === "close") {
      req.socket.destroy();
      return;
    }
    const ctx = new Exchange(this, req.method ?? "GET", url.pathname, res);
    if (fault?.kind === "status") {
      for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v);
      return ctx.problem(fault.status, `injected fault: HTTP ${fault.status}`);
    }
    if (badJson !== undefined) return ctx.problem(400, `Bad Request: ${badJson}`);

    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path.startsWith("/boot/v1/")) {
      if (this.options.legacyApi === false) return ctx.json(404, { error: "Not Found", code: 404 }, false);
      if (path === "/boot/v1/bootscript" && ctx.method === "GET") return this.bootscript(ctx, query, req.headers.host ?? "127.0.0.1");
      if (path === "/boot/v1/service/status" && ctx.method === "GET") return ctx.json(200, { "bss-status": "running" }, false);
      if (path === "/boot/v1/bootparameters") {
        if (!authorized)
          return ctx.problem(401, `Unauthorized: ${this.options.basicAuth ? "a valid user and password are" : "a valid bearer token is"} required`);
        return this.bootparameters(ctx, query, body);
      }
      return ctx.problem(404, `no route ${ctx.method} ${path}`);
    }
    // boot-service serves its own script at the root, whatever enable_legacy_api says.
    if (this.options.bootConfigurations && path === "/bootscript" && ctx.method === "GET") {
      const q = { ...query, ...(query.host ? { name: query.host } : {}) };
      return this.bootscript(ctx, q, req.headers.host ?? "127.0.0.1", "/bootscript");
    }
    if (this.options.bootConfigurations && (path === "/bootconfigurations" || path.startsWith("/bootconfigurations/"))) {
      if (!authorized) return ctx.json(401, { error: "unauthorized: a valid bearer token is required", code: 401 }, false);
      return this.bootConfigurationRoute(ctx, path, body);
    }
    return ctx.json(404, { error: `no route ${ctx.method} ${path}`, code: 404 }, false);
  }

  private bootparameters(ctx: Exchange, query: Record<string, string>, body: unknown): void {
    if (body !== undefined) {
      const errors = this.contract.checkRequest(ctx.specPath, ctx.method, body);
      if (errors.length > 0) {
        this.violations.push(...errors);
        return ctx.problem(400, `Bad Request: ${errors.join("; ")}`);
      }
    }
    const bp = (body ?? {}) as {
      macs?: unknown;
      hosts?: unknown;
      nids?: unknown;
      kernel?: string;
      initrd?: string;
      params?: string;
      "cloud-init"?: Record<string, unknown>;
    };
    switch (ctx.method) {
      case "GET": {
        const fromQuery: { macs: string[]; hosts: string[]; nids: number[] } = { macs: [], hosts: [], nids: [] };
        if (query.mac) fromQuery.macs.push(...query.mac.split(","));
        if (query.name) fromQuery.hosts.push(...query.name.split(","));
        if (query.nid) {
          for (const n of query.nid.split(",")) {
            if (!/^\d+$/.test(n)) return ctx.problem(400, `Bad Request - Invalid nid '${n}'`);
            fromQuery.nids.push(Number(n));
          }
        }
        const sel = selectionOf({
          macs: [...(Array.isArray(bp.macs) ? bp.macs : []), ...fromQuery.macs],
          hosts: [...(Array.isArray(bp.hosts) ? bp.hosts : []), ...fromQuery.hosts],
          nids: [...(Array.isArray(bp.nids) ? bp.nids : []), ...fromQuery.nids],
        });
        if (sel.keys.length === 0 && sel.invalid.length === 0)
          return ctx.json(
            200,
            [...this.entries].map(([k, e]) => bodyForKey(k, e)),
          );
        const found = sel.keys.filter((k) => this.entries.has(k)).map((k) => bodyForKey(k, this.entries.get(k) as BootEntryData));
        if (found.length === 0) return ctx.problem(404, "Cannot find boot parameters for requested Hosts, MACs or NIDs");
        return ctx.json(200, found);
      }
      case "POST":
      case "PUT": {
        const sel = selectionOf(bp);
        if (sel.invalid.length > 0) return ctx.problem(400, `Bad Request: ${sel.invalid.join("; ")}`);
        if (sel.keys.length === 0) return ctx.problem(400, "Bad Request: no hosts, macs or nids given");
        if (ctx.method === "POST") {
          const existing = sel.keys.filter((k) => this.entries.has(k));
          if (existing.length > 0) return ctx.problem(400, `Bad Request: Already exists: ${existing.join(", ")}`);
        }
        // BSS Store(): the entry is replaced whole, cloud-init included (absent: none).
        for (const k of sel.keys)
          this.entries.set(k, { kernel: bp.kernel, initrd: bp.initrd, params: bp.params, ...(bp["cloud-init"] ? { "cloud-init": bp["cloud-init"] } : {}) });
        ctx.res.setHeader("BSS-Referral-Token", randomUUID());
        return ctx.empty(ctx.method === "POST" ? 201 : 200);
      }
      case "PATCH": {
        const sel = selectionOf(bp);
        if (sel.invalid.length > 0) return ctx.problem(400, `Bad Request: ${sel.invalid.join("; ")}`);
        const missing = sel.keys.filter((k) => !this.entries.has(k));
        if (sel.keys.length === 0 || missing.length > 0) return ctx.problem(404, `Not Found: no boot parameters for ${missing.join(", ") || "the request"}`);
        for (const k of sel.keys) {
          const cur = this.entries.get(k) as BootEntryData;
          this.entries.set(k, { ...cur, kernel: bp.kernel || cur.kernel, initrd: bp.initrd || cur.initrd, params: bp.params ?? cur.params });
        }
        return ctx.empty(200);
      }
      case "DELETE": {
        const sel = selectionOf(bp);
        if (sel.invalid.length > 0) return ctx.problem(400, sel.invalid.join("; "));
        const existing = sel.keys.filter((k) => this.entries.has(k));
        if (existing.length === 0) return ctx.problem(404, "Does Not Exist - Cannot find specified host, MAC, or NID");
        for (const k of existing) this.entries.delete(k);
        return ctx.empty(200);
      }
      default:
        return ctx.problem(405, `method ${ctx.method} not allowed`);
    }
  }

  /** The script BSS generates (cmd/boot-script-service buildBootScript; testdata/TestBuildBootScript). */
  private bootscript(ctx: Exchange, query: Record<string, string>, hostHeader: string, route = "/boot/v1/bootscript"): void {
    const key: Key | undefined = query.mac
      ? `mac:${query.mac.toLowerCase()}`
      : query.name
        ? `host:${query.name}`
        : query.nid
          ? `nid:${Number(query.nid)}`
          : undefined;
    if (!key) return ctx.problem(400, "Need a mac=, name=, or nid= parameter");
    let entry = this.entries.get(key);
    if (!entry && this.options.bootConfigurations) entry = this.matchBootConfiguration(key);
    if (!entry?.kernel) return ctx.problem(404, `Does Not Exist - no boot parameters with a kernel for ${key}`);
    const extra: string[] = [];
    if (key.startsWith("host:")) extra.push(`xname=${key.slice(5)}`);
    if (key.startsWith("nid:")) extra.push(`nid=${key.slice(4)}`);
    extra.push(`bss_referral_token=${randomUUID()}`);
    const retry = new URLSearchParams(query);
    retry.set("retry", String(Number(query.retry ?? "0") + 1));
    const lines = [
      "#!ipxe",
      `kernel --name kernel ${entry.kernel} initrd=initrd ${[entry.params ?? "", ...extra].filter(Boolean).join(" ")} || goto boot_retry`,
      ...(entry.initrd ? [`initrd --name initrd ${entry.initrd} || goto boot_retry`] : []),
      "boot || goto boot_retry",
      ":boot_retry",
      "sleep 30",
      `chain ${this.url.startsWith("https") ? "https" : "http"}://${hostHeader}${route}?${retry.toString()}`,
      "",
    ];
    ctx.text(200, lines.join("\n"));
  }

  private matchBootConfiguration(key: Key): BootEntryData | undefined {
    const [kind, ...rest] = key.split(":");
    const value = rest.join(":");
    const matches = [...this.bootConfigurations.values()].filter(
      (c) =>
        (kind === "mac" && (c.spec.macs ?? []).some((m) => m.toLowerCase() === value)) ||
        (kind === "host" && (c.spec.hosts ?? []).includes(value)) ||
        (kind === "nid" && (c.spec.nids ?? []).includes(Number(value))),
    );
    matches.sort((a, b) => (b.spec.priority ?? 0) - (a.spec.priority ?? 0));
    const best = matches[0];
    return best ? { kernel: best.spec.kernel, initrd: best.spec.initrd, params: best.spec.params } : undefined;
  }

  /** boot-service (Fabrica-generated handlers): errors are {error, code}. */
  private bootConfigurationRoute(ctx: Exchange, path: string, body: unknown): void {
    const uid = path === "/bootconfigurations" ? undefined : decodeURIComponent(path.slice("/bootconfigurations/".length));
    const err = (status: number, error: string) => ctx.json(status, { error, code: status }, false);
    const validate = (b: unknown): string | undefined => {
      const o = (b ?? {}) as { metadata?: { name?: unknown }; spec?: Record<string, unknown> };
      const spec = o.spec;
      if (!o.metadata || typeof o.metadata.name !== "string" || o.metadata.name === "") return "validation failed: metadata.name is required";
      if (!spec || typeof spec !== "object") return "validation failed: spec is required";
      if (typeof spec.kernel !== "string" || spec.kernel === "") return "validation failed: kernel field is required";
      for (const m of Array.isArray(spec.macs) ? spec.macs : [])
        if (typeof m !== "string" || !MAC.test(m)) return `validation failed: invalid MAC address format: ${String(m)}`;
      const p = spec.priority;
      if (p !== undefined && (typeof p !== "number" || p < 0 || p > 100)) return "validation failed: priority must be between 0 and 100";
      const count = ["hosts", "macs", "nids", "groups"].reduce((n, f) => n + (Array.isArray(spec[f]) ? (spec[f] as unknown[]).length : 0), 0);
      if (count === 0) return "validation failed: at least one targeting method (hosts, macs, nids, or groups) must be specified";
      return undefined;
    };
    const now = new Date().toISOString();
    if (uid === undefined) {
      if (ctx.method === "GET") return ctx.json(200, [...this.bootConfigurations.values()], false);
      if (ctx.method === "POST") {
        const problem = validate(body);
        if (problem) return err(400, problem);
        const b = body as { metadata: { name: string }; spec: BootConfigurationData["spec"] };
        const created: BootConfigurationData = {
          apiVersion: "boot.openchami.io/v1",
          kind: "BootConfiguration",
          metadata: { name: b.metadata.name, uid: `bootconfiguration-${randomUUID().slice(0, 8)}`, createdAt: now, updatedAt: now },
          spec: b.spec,
          status: {},
        };
        this.bootConfigurations.set(created.metadata.uid, created);
        return ctx.json(201, created, false);
      }
      return err(405, "method not allowed");
    }
    const existing = this.bootConfigurations.get(uid);
    if (!existing) return err(404, `BootConfiguration not found: ${uid}`);
    switch (ctx.method) {
      case "GET":
        return ctx.json(200, existing, false);
      case "PUT": {
        const problem = validate({ metadata: { name: existing.metadata.name }, ...(body as object) });
        if (problem) return err(400, problem);
        const b = body as { metadata?: { name?: string }; spec: BootConfigurationData["spec"] };
        const updated: BootConfigurationData = {
          ...existing,
          metadata: { ...existing.metadata, name: b.metadata?.name || existing.metadata.name, updatedAt: now },
          spec: b.spec,
        };
        this.bootConfigurations.set(uid, updated);
        return ctx.json(200, updated, false);
      }
      case "DELETE":
        this.bootConfigurations.delete(uid);
        return ctx.json(200, { message: "deleted", uid }, false);
      default:
        return err(405, "method not allowed");
    }
  }
}

/** One request/response, with the response checked against the spec on the way out. */
class Exchange {
  /** The spec's path for this route (same as the request path for /boot/v1 routes). */
  readonly specPath: string;
  constructor(
    private readonly server: BssServer,
    readonly method: string,
    path: string,
    readonly res: ServerResponse,
  ) {
    this.specPath = path.replace(/\/+$/, "");
  }

  private check(status: number, body: unknown): void {
    if (!this.specPath.startsWith("/boot/v1/")) return;
    this.server.violations.push(...this.server.contract.checkResponse(this.specPath, this.method, status, body));
  }

  json(status: number, body: unknown, checked = true): void {
    if (checked) this.check(status, body);
    this.res.writeHead(status, { "Content-Type": "application/json; charset=UTF-8" }).end(JSON.stringify(body));
  }

  problem(status: number, detail: string): void {
    const body = { type: "about:blank", title: STATUS_TITLES[status] ?? "Error", detail, status };
    // Injected faults and auth failures are not per-route documented; only check documented statuses.
    if (status !== 401 && status < 500) this.check(status, body);
    this.res.writeHead(status, { "Content-Type": "application/problem+json" }).end(JSON.stringify(body));
  }

  empty(status: number): void {
    this.check(status, undefined);
    this.res.writeHead(status).end();
  }

  text(status: number, body: string): void {
    this.check(status, body);
    this.res.writeHead(status, { "Content-Type": "text/plain; charset=UTF-8" }).end(body);
  }
}

const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Start a contract BSS on 127.0.0.1:<ephemeral>. The caller stops it (`await server.stop()`). */
export async function startBssServer(options: BssServerOptions = {}): Promise<BssServer> {
  return new BssServer(options).start();
}
