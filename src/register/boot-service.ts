// Client for OpenCHAMI boot-service (v0.2, BSS's successor): `BootConfiguration` resources at
// `/bootconfigurations`. Shape taken from OpenCHAMI/boot-service
// apis/boot.openchami.io/v1/bootconfiguration_types.go and its Fabrica-generated handlers:
// create is POST {metadata:{name}, spec}, replace is PUT /bootconfigurations/{uid} with the same
// body, list is GET returning an array of {apiVersion, kind, metadata:{name, uid, …}, spec,
// status}; errors are {error, code} JSON. Resources are addressed by uid, so "create or
// replace by name" lists and matches metadata.name.
import type { HttpClient, HttpClientOptions, HttpResponse } from "./http.js";
import { RegistrationError } from "./errors.js";
import { failure, makeClient, serviceErrorContext, unavailable, type ServiceErrorContext } from "./bss.js";

export interface BootConfigurationSpec {
  hosts?: string[];
  macs?: string[];
  nids?: number[];
  groups?: string[];
  kernel: string;
  initrd?: string;
  params?: string;
  priority?: number;
}

export interface BootConfiguration {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid?: string; labels?: Record<string, string>; [k: string]: unknown };
  spec: BootConfigurationSpec;
  status?: Record<string, unknown>;
}

function parse<T>(res: HttpResponse, ctx: ServiceErrorContext): T {
  try {
    return JSON.parse(res.body) as T;
  } catch (error) {
    throw new RegistrationError("rejected", `${ctx.service}: ${res.url} returned invalid JSON`, { cause: error });
  }
}

export class BootServiceClient {
  readonly http: HttpClient;
  readonly ctx: ServiceErrorContext;

  constructor(url: string, options: HttpClientOptions & { tokenSource?: string; tokenHint?: string } = {}) {
    this.http = makeClient(url, options, "boot-service");
    this.ctx = serviceErrorContext("boot-service", this.http.baseUrl, options);
  }

  private async send(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<HttpResponse> {
    try {
      return await this.http.request({ method, path, body });
    } catch (error) {
      throw unavailable(error, this.ctx);
    }
  }

  async list(): Promise<BootConfiguration[]> {
    const res = await this.send("GET", "/bootconfigurations");
    if (res.status !== 200) throw failure(res, "GET", this.ctx);
    const body = parse<unknown>(res, this.ctx);
    // Fabrica answers a bare array; accept {items: [...]} too in case a version wraps it.
    const items = Array.isArray(body)
      ? body
      : body && typeof body === "object" && Array.isArray((body as { items?: unknown }).items)
        ? (body as { items: unknown[] }).items
        : undefined;
    if (!items) throw new RegistrationError("rejected", `${this.ctx.service}: GET ${res.url} did not return a list of BootConfigurations`);
    return items as BootConfiguration[];
  }

  /** The configuration named `name`, if any (names are not unique server-side: more than one is an error). */
  async findByName(name: string): Promise<BootConfiguration | undefined> {
    const found = (await this.list()).filter((c) => c.metadata?.name === name);
    if (found.length > 1) {
      throw new RegistrationError(
        "state",
        `${this.ctx.service}: ${found.length} BootConfigurations are named "${name}" (uids ${found.map((c) => c.metadata.uid ?? "?").join(", ")}); delete the extra ones first`,
      );
    }
    return found[0];
  }

  async create(name: string, spec: BootConfigurationSpec): Promise<BootConfiguration> {
    const res = await this.send("POST", "/bootconfigurations", { metadata: { name }, spec });
    if (res.status !== 201 && res.status !== 200) throw failure(res, "POST", this.ctx);
    return parse<BootConfiguration>(res, this.ctx);
  }

  async replace(uid: string, name: string, spec: BootConfigurationSpec): Promise<BootConfiguration> {
    const res = await this.send("PUT", `/bootconfigurations/${encodeURIComponent(uid)}`, { metadata: { name }, spec });
    if (res.status !== 200) throw failure(res, "PUT", this.ctx);
    return parse<BootConfiguration>(res, this.ctx);
  }

  async delete(uid: string): Promise<void> {
    const res = await this.send("DELETE", `/bootconfigurations/${encodeURIComponent(uid)}`);
    if (res.status !== 200 && res.status !== 204) throw failure(res, "DELETE", this.ctx);
  }
}
