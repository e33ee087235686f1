// Registration, the last stage: read what the boot service has now, show the diff, check every
// artifact URL answers, record what is being replaced, write, and read back. Rollback replays a
// record in reverse. Plan/apply in one place so dry-run and the real run can never disagree:
// both compute the same `changes`; only the real run writes.
import { resolveToken } from "./auth.js";
import { BssClient, putBodies, selectorBody, selectorLabel, type BootEntry, type SelectorKey } from "./bss.js";
import { BootServiceClient, type BootConfiguration, type BootConfigurationSpec } from "./boot-service.js";
import { isChange, renderDiff, sameEntry, type EntryChange } from "./diff.js";
import { RegistrationError } from "./errors.js";
import { bootConfigurationSpec } from "./export.js";
import { redactUrl, type HttpClientOptions } from "./http.js";
import { artifactProblems, artifactUrls, checkArtifacts, type ArtifactCheck } from "./preflight.js";
import {
  defaultStateDir,
  listRecords,
  markRolledBack,
  newRecordId,
  saveRecord,
  urlCredentials,
  type BssRecordEntry,
  type RegistrationRecord,
  type StoredRecord,
} from "./state.js";
import {
  normalizeSelectors,
  validateSelectors,
  type BootServiceTarget,
  type BootTarget,
  type BssTarget,
  type RegistrationInput,
  type Selectors,
} from "./targets.js";
import { renderParams, splitParams } from "../core/params.js";
import { mapLimit } from "./pool.js";
import type { PublishedImage } from "../core/published-image.js";
import { PublicKeyError } from "../sign/verify-signature.js";
import { verifyPublished } from "../verify/published.js";

/** Per-node GETs in flight at once (reads before the diff, read-back after writing). */
const REQUEST_CONCURRENCY = 8;

export interface ConnectionOptions {
  /** Bearer token (--token); otherwise found per auth.ts. */
  readonly token?: string;
  /** ochami cluster whose `<CLUSTER>_ACCESS_TOKEN` to use. */
  readonly cluster?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Override ochami config file locations (tests). */
  readonly ochamiConfigPaths?: readonly string[];
  /** Timeouts and retry policy for the boot service (tests make them short). */
  readonly http?: Pick<HttpClientOptions, "timeoutMs" | "retries" | "backoffMs" | "onRetry">;
  /** Progress lines (never contain tokens). */
  readonly log?: (line: string) => void;
}

export interface RegisterOptions extends ConnectionOptions {
  /** "put" (default): set kernel, initrd and params idempotently. "patch": change params only, entries must exist. */
  readonly mode?: "put" | "patch";
  /** Compute and return the diff (and artifact checks) without writing anything. */
  readonly dryRun?: boolean;
  /** Where registration records go (default ~/.local/state/bootsmith/registrations). */
  readonly stateDir?: string;
  /** HEAD the artifact URLs before writing (default true). */
  readonly checkArtifacts?: boolean;
  /**
   * Public key file: before anything else, the published set must verify from the URLs nodes
   * will use (signed SHA256SUMS, sha256 and size of every file as served), or nothing is written.
   */
  readonly verifyKey?: string;
}

export interface RegisterResult {
  readonly target: BootTarget;
  readonly changes: readonly EntryChange[];
  /** renderDiff(changes, options.dryRun ? "dry-run" : "real"). */
  readonly diff: string;
  readonly artifacts: readonly ArtifactCheck[];
  /** Problems that would make (or made) a real run refuse; empty when all artifacts answered. */
  readonly artifactProblems: readonly string[];
  /** True when the boot service was changed. */
  readonly written: boolean;
  readonly dryRun: boolean;
  /** The record that `rollback` uses, when something was written. */
  readonly stateFile?: string;
}

export interface RollbackOptions extends ConnectionOptions {
  readonly stateDir?: string;
  readonly dryRun?: boolean;
  /** Restore even when an entry changed since the registration being rolled back. */
  readonly force?: boolean;
  /** Restore only these selectors (BSS); default: every entry of the newest registration. */
  readonly selectors?: Selectors;
}

export interface RollbackResult {
  readonly target: BootTarget;
  readonly record: string;
  readonly changes: readonly EntryChange[];
  readonly diff: string;
  readonly written: boolean;
}

function connect(
  target: BootTarget,
  options: ConnectionOptions,
  /** Said first on a 401 (how to give back credentials a record does not keep). */
  credentialsHint?: string,
): { url: string; clientOptions: HttpClientOptions & { tokenSource: string; tokenHint: string } } {
  const auth = resolveToken(target.url, {
    token: options.token,
    tokenEnv: target.tokenEnv,
    cluster: options.cluster,
    env: options.env,
    configPaths: options.ochamiConfigPaths,
  });
  // A URL may carry user:password for a site's proxy (node sends it as basic auth): never printed.
  options.log?.(`${target.type} ${redactUrl(target.url)}: ${auth.source === "none" ? "no token" : `token from ${auth.source}`}`);
  return {
    url: target.url,
    clientOptions: {
      ...options.http,
      token: auth.token,
      caFile: target.caFile,
      tokenSource: auth.source,
      tokenHint: credentialsHint ? `${credentialsHint}; or ${auth.hint}` : auth.hint,
    },
  };
}

function usesBssApi(target: BootTarget): target is BssTarget | (BootServiceTarget & { legacy: true }) {
  return target.type === "bss" || target.legacy === true;
}

/** The selector keys of a registration, in a stable order: MACs, hosts, NIDs. */
export function selectorKeys(selectors: Selectors): SelectorKey[] {
  const s = normalizeSelectors(selectors);
  return [
    ...s.macs.map((value) => ({ kind: "mac" as const, value })),
    ...s.hosts.map((value) => ({ kind: "host" as const, value })),
    ...s.nids.map((value) => ({ kind: "nid" as const, value })),
  ];
}

function validateInput(input: RegistrationInput, target: BootTarget, mode: "put" | "patch"): void {
  const problems = validateSelectors(input.selectors);
  if (target.type === "boot-service" && !target.legacy) {
    // boot-service can target groups alone.
    if (problems.length === 1 && problems[0]?.startsWith("no nodes selected") && (target.groups?.length ?? 0) > 0) problems.length = 0;
    if (target.name.trim() === "") problems.push("boot-service target: name must not be empty");
    if (target.priority !== undefined && (!Number.isInteger(target.priority) || target.priority < 0 || target.priority > 100))
      problems.push(`boot-service target: priority ${target.priority} must be an integer 0–100`);
  }
  if (input.params.trim() === "") problems.push("params are empty: the recipe (or --params-template) must give a kernel command line");
  for (const [role, url] of Object.entries(input.image.urls)) {
    if (url?.startsWith("file:"))
      problems.push(
        `${role} URL ${url} is a local file: nodes cannot fetch it. Publish with a publicBase (an http URL where the directory is served) or register the directory with --base-url`,
      );
  }
  for (const word of splitParams(input.params)) {
    if (word.startsWith("root=live:file:")) problems.push(`params: ${word} is a local file URL nodes cannot fetch`);
  }
  if (mode === "put" && !input.image.urls.kernel) problems.push(`image ${input.image.name}:${input.image.tag} has no kernel URL: a boot entry needs one`);
  if (problems.length > 0) throw new RegistrationError("invalid", `cannot register ${input.image.name}:${input.image.tag}:\n  ${problems.join("\n  ")}`);
}

function dedupe<T extends { url: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(x.url) ? false : (seen.add(x.url), true)));
}

async function preflight(entries: BootEntry[], target: BootTarget, options: RegisterOptions): Promise<{ checks: ArtifactCheck[]; problems: string[] }> {
  if (options.checkArtifacts === false) return { checks: [], problems: [] };
  const urls = dedupe(entries.flatMap((e) => artifactUrls(e)));
  const checks = await checkArtifacts(urls, {
    caFile: target.caFile,
    timeoutMs: options.http?.timeoutMs,
    retries: options.http?.retries,
    backoffMs: options.http?.backoffMs,
  });
  // A dry run returns the checks as its result, which the caller prints (as it does the diff): logged too, a terminal would show them twice.
  if (!options.dryRun) for (const c of checks) options.log?.(`  ${c.role.padEnd(6)} ${c.status.padEnd(11)} ${redactUrl(c.url)} (${c.detail})`);
  return { checks, problems: artifactProblems(checks) };
}

/** register --verify-key: the set as served must verify, or nothing is contacted or written. */
async function requireVerified(image: PublishedImage, keyFile: string, options: RegisterOptions): Promise<void> {
  let report;
  try {
    report = await verifyPublished(image, keyFile);
  } catch (error) {
    if (error instanceof PublicKeyError) throw new RegistrationError("invalid", `--verify-key: ${error.message}`, { cause: error });
    throw new RegistrationError(
      "verify-failed",
      `refusing to register ${image.name}:${image.tag}: the published set could not be verified (${(error as Error).message}); nothing was written`,
      { cause: error },
    );
  }
  const failed = report.files.filter((f) => !f.ok);
  if (failed.length > 0) {
    throw new RegistrationError(
      "verify-failed",
      `refusing to register ${image.name}:${image.tag}: the published set does not verify (nothing was written):\n  ${failed.map((f) => `${f.file}: ${f.reason}${f.location ? ` (${redactUrl(f.location)})` : ""}`).join("\n  ")}`,
    );
  }
  options.log?.(`verified ${image.name}:${image.tag} as served: ${report.files.length} files, signed by ${report.signedBy}`);
}

function refuse(problems: string[]): RegistrationError {
  return new RegistrationError(
    "artifact-missing",
    `refusing to register: ${problems.length} artifact URL${problems.length === 1 ? " does" : "s do"} not answer (nothing was written):\n  ${problems.join("\n  ")}\nPublish the image first, or fix the URLs in the params template.`,
  );
}

/**
 * Register an image with a boot service: the API the build pipeline calls after publishing.
 * Throws RegistrationError (kind says why); returns what changed.
 */
export async function register(input: RegistrationInput, target: BootTarget, options: RegisterOptions = {}): Promise<RegisterResult> {
  const mode = options.mode ?? "put";
  validateInput(input, target, mode);
  if (options.verifyKey !== undefined) await requireVerified(input.image, options.verifyKey, options);
  return usesBssApi(target) ? registerBss(input, target, mode, options) : registerBootConfiguration(input, target, mode, options);
}

/** Render the params template from a published image and register (the recipe-driven path). */
export async function registerPublished(
  image: PublishedImage,
  paramsTemplate: string,
  selectors: Selectors,
  target: BootTarget,
  options: RegisterOptions & { extraParams?: string } = {},
): Promise<RegisterResult> {
  let params: string;
  try {
    params = renderParams(paramsTemplate, image, options.extraParams);
  } catch (error) {
    throw new RegistrationError("invalid", (error as Error).message, { cause: error });
  }
  return register({ image, params, selectors }, target, options);
}

async function registerBss(input: RegistrationInput, target: BootTarget, mode: "put" | "patch", options: RegisterOptions): Promise<RegisterResult> {
  const { url, clientOptions } = connect(target, options);
  const client = new BssClient(url, clientOptions);
  const keys = selectorKeys(input.selectors);
  const desired: BootEntry = { kernel: input.image.urls.kernel, initrd: input.image.urls.initrd, params: input.params };

  const stored = await mapLimit(keys, REQUEST_CONCURRENCY, (k) => client.read(k));
  const before = stored.map((s) => s?.entry);
  const missing = keys.filter((_, i) => before[i] === undefined);
  if (mode === "patch" && missing.length > 0) {
    throw new RegistrationError(
      "state",
      `--patch changes params of existing entries only, and ${client.ctx.service} has none for ${missing.map(selectorLabel).join(", ")}; register without --patch to create them`,
    );
  }
  const after: BootEntry[] = keys.map((_, i) => (mode === "patch" ? { ...before[i], params: input.params } : desired));
  const changes: EntryChange[] = keys.map((k, i) => ({ label: selectorLabel(k), before: before[i], after: after[i] }));
  const diff = renderDiff(changes, options.dryRun ? "dry-run" : "real");
  if (!options.dryRun) options.log?.(diff);

  // Patch keeps the existing kernel/initrd: only the params' URLs are new.
  const { checks, problems } = await preflight(mode === "patch" ? [{ params: input.params }] : [desired], target, options);
  const base = { target, changes, diff, artifacts: checks, artifactProblems: problems, dryRun: options.dryRun === true };
  if (options.dryRun) return { ...base, written: false };
  if (problems.length > 0) throw refuse(problems);
  const changedIdx = keys.map((_, i) => i).filter((i) => isChange(changes[i] as EntryChange));
  if (changedIdx.length === 0) return { ...base, written: false };

  const entries: BssRecordEntry[] = changedIdx.map((i) => ({ selector: keys[i] as SelectorKey, before: before[i] ?? null, after: after[i] as BootEntry }));
  const record: RegistrationRecord = {
    schemaVersion: 1,
    id: newRecordId(),
    createdAt: new Date().toISOString(),
    target: target.type === "bss" ? { type: "bss", url: target.url } : { type: "boot-service", url: target.url, name: target.name, legacy: true },
    image: { name: input.image.name, tag: input.image.tag, target: input.image.target },
    mode,
    entries,
  };
  const stateFile = await saveRecord(options.stateDir ?? defaultStateDir(options.env), record);
  // A failure part-way (one of several PUTs refused, the service gone) is undone at once, as
  // `bootsmith rollback` would: no node is left pointing at the new image while others are not.
  const undo = async (): Promise<EntryChange[]> => {
    options.log?.(`undoing the entries written before the failure (record ${stateFile})`);
    const undone = await rollbackBss(target, { path: stateFile, record }, [], client, { ...options, dryRun: false, force: false });
    return undone.changes.filter(isChange);
  };

  await afterRecord(
    stateFile,
    async () => {
      if (mode === "patch") {
        // One request per selector kind: the spec asks for "one of hosts, MACs, or NIDs" per body.
        for (const kind of ["mac", "host", "nid"] as const) {
          const group = entries.filter((e) => e.selector.kind === kind).map((e) => e.selector);
          if (group.length > 0) await client.patch({ ...selectorBody(group), params: input.params });
        }
      } else {
        const cloudInit = new Map(keys.map((k, i) => [selectorLabel(k), stored[i]?.cloudInit]));
        const writes = entries.map((e) => ({ key: e.selector, entry: definedFields(desired), cloudInit: cloudInit.get(selectorLabel(e.selector)) }));
        for (const body of putBodies(writes)) await client.put(body);
      }
      await verify(
        client,
        entries.map((e) => ({ key: e.selector, expected: e.after })),
      );
    },
    undo,
  );
  return { ...base, written: true, stateFile };
}

/**
 * Run the writes that follow a saved record. If they fail, `undo` (when given) restores what
 * was written and the error says what it undid; without one, or when the undo fails too, the
 * error says that the record can undo what was written (rollback skips entries that still hold
 * their old params).
 */
async function afterRecord(stateFile: string, write: () => Promise<void>, undo?: () => Promise<EntryChange[]>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof RegistrationError)) throw error;
    const manual = `\`bootsmith rollback\` restores the previous params (record ${stateFile})`;
    let outcome = `Part of the registration may have been written; ${manual}.`;
    if (undo) {
      try {
        outcome = undoneText(await undo(), stateFile);
      } catch (undoError) {
        outcome = `Part of the registration may have been written, and undoing it failed: ${(undoError as Error).message}\n  ${manual}.`;
      }
    }
    throw new RegistrationError(error.kind, `${error.message}\n  ${outcome}`, { cause: error, status: error.status, detail: error.detail });
  }
}

/** What an automatic undo did, for the error of the registration it undid. */
function undoneText(undone: readonly EntryChange[], stateFile: string): string {
  if (undone.length === 0) return `Nothing had been written; no boot parameters were changed (record ${stateFile} is marked rolled back).`;
  const what = undone.map((c) => `${c.label} ${c.after === undefined ? "removed (it had no entry)" : "restored to its previous params"}`);
  return `Undone, so no node is left half-registered: ${what.join(", ")} (record ${stateFile} is marked rolled back).`;
}

function definedFields(e: BootEntry): BootEntry {
  const out: { kernel?: string; initrd?: string; params?: string } = {};
  if (e.kernel !== undefined) out.kernel = e.kernel;
  if (e.initrd !== undefined) out.initrd = e.initrd;
  if (e.params !== undefined) out.params = e.params;
  return out;
}

/** Read back what was written: a service that answers 200 and stores something else is a failure. */
async function verify(client: BssClient, expected: { key: SelectorKey; expected: BootEntry | undefined }[]): Promise<void> {
  const got = await mapLimit(expected, REQUEST_CONCURRENCY, (e) => client.get(e.key));
  const wrong = expected.flatMap((e, i) => (sameEntry(got[i], e.expected) ? [] : [`${selectorLabel(e.key)}: reads back ${JSON.stringify(got[i] ?? null)}`]));
  if (wrong.length > 0)
    throw new RegistrationError("state", `${client.ctx.service} accepted the request but does not return what was written:\n  ${wrong.join("\n  ")}`);
}

function specEntry(spec: BootConfigurationSpec | undefined): BootEntry | undefined {
  if (!spec) return undefined;
  return definedFields({ kernel: spec.kernel || undefined, initrd: spec.initrd || undefined, params: spec.params || undefined });
}

function targetingChanges(before: BootConfigurationSpec | undefined, after: BootConfigurationSpec): string[] {
  const out: string[] = [];
  for (const field of ["macs", "hosts", "nids", "groups", "priority"] as const) {
    const a = JSON.stringify(before?.[field] ?? null);
    const b = JSON.stringify(after[field] ?? null);
    if (a !== b) out.push(`${field}: ${a} → ${b}`);
  }
  return out;
}

async function registerBootConfiguration(
  input: RegistrationInput,
  target: BootServiceTarget,
  mode: "put" | "patch",
  options: RegisterOptions,
): Promise<RegisterResult> {
  const { url, clientOptions } = connect(target, options);
  const client = new BootServiceClient(url, clientOptions);
  const existing = await client.findByName(target.name);
  if (mode === "patch" && !existing) {
    throw new RegistrationError(
      "state",
      `--patch changes params of an existing BootConfiguration only, and ${client.ctx.service} has none named "${target.name}"; register without --patch to create it`,
    );
  }
  const spec: BootConfigurationSpec = mode === "patch" && existing ? { ...existing.spec, params: input.params } : bootConfigurationSpec(input, target);
  const change: EntryChange = {
    label: `bootconfiguration ${target.name}`,
    before: specEntry(existing?.spec),
    after: specEntry(spec),
    otherChanges: existing ? targetingChanges(existing.spec, spec) : targetingChanges(undefined, spec),
  };
  const changes = [change];
  const diff = renderDiff(changes, options.dryRun ? "dry-run" : "real");
  if (!options.dryRun) options.log?.(diff);
  const { checks, problems } = await preflight([mode === "patch" ? { params: input.params } : (specEntry(spec) ?? {})], target, options);
  const base = { target, changes, diff, artifacts: checks, artifactProblems: problems, dryRun: options.dryRun === true };
  if (options.dryRun) return { ...base, written: false };
  if (problems.length > 0) throw refuse(problems);
  if (!isChange(change)) return { ...base, written: false };

  const stateFile = await saveRecord(options.stateDir ?? defaultStateDir(options.env), {
    schemaVersion: 1,
    id: newRecordId(),
    createdAt: new Date().toISOString(),
    target: { type: "boot-service", url: target.url, name: target.name },
    image: { name: input.image.name, tag: input.image.tag, target: input.image.target },
    mode,
    bootConfiguration: { name: target.name, before: existing ? { uid: uidOf(existing, client), spec: existing.spec } : null, after: spec },
  });
  await afterRecord(stateFile, async () => {
    const saved = existing ? await client.replace(uidOf(existing, client), target.name, spec) : await client.create(target.name, spec);
    if (JSON.stringify(specEntry(saved.spec)) !== JSON.stringify(specEntry(spec))) {
      throw new RegistrationError(
        "state",
        `${client.ctx.service} accepted BootConfiguration "${target.name}" but returned a different spec: ${JSON.stringify(saved.spec)}`,
      );
    }
  });
  return { ...base, written: true, stateFile };
}

function uidOf(c: BootConfiguration, client: BootServiceClient): string {
  const uid = c.metadata.uid;
  if (!uid) throw new RegistrationError("rejected", `${client.ctx.service}: BootConfiguration "${c.metadata.name}" has no metadata.uid`);
  return uid;
}

/** The newest registration of `target` not yet rolled back (optionally one that touched `selectors`). */
async function latestRecord(target: BootTarget, stateDir: string, keys: SelectorKey[]): Promise<StoredRecord> {
  const name = target.type === "boot-service" ? target.name : undefined;
  const records = (await listRecords(stateDir, target.url, name)).filter((r) => !r.record.rolledBackAt);
  const wanted = new Set(keys.map(selectorLabel));
  const found = records.find((r) => wanted.size === 0 || (r.record.entries ?? []).some((e) => wanted.has(selectorLabel(e.selector))));
  if (!found) {
    const what = wanted.size > 0 ? ` for ${[...wanted].join(", ")}` : "";
    throw new RegistrationError(
      "state",
      `no registration to roll back${what} at ${redactUrl(target.url)} in ${stateDir} (records are written by \`bootsmith register\`; use --state-dir if it used another)`,
    );
  }
  return found;
}

/**
 * Rollback gets credentials the way register did: the token sources, or user:password in the URL
 * it is given. A record keeps no password, so a registration made with one in its URL needs it
 * again (the 401 says so). A record written before that rule may still hold it: it is used for
 * the same origin (never sent to another scheme or host) when the given URL has none.
 */
function rollbackConnection(target: BootTarget, record: RegistrationRecord): { target: BootTarget; credentialsHint?: string } {
  if (urlCredentials(target.url) !== undefined) return { target };
  const recorded = urlCredentials(record.target.url);
  if (recorded !== undefined && new URL(record.target.url).origin === new URL(target.url).origin) {
    const url = new URL(target.url);
    url.username = recorded.username;
    url.password = recorded.password;
    return { target: { ...target, url: url.href } };
  }
  if (!record.target.urlCredentials) return { target };
  const example = new URL(redactUrl(target.url));
  example.username = "USER";
  example.password = "PASSWORD";
  const option = target.type === "bss" ? "--bss" : "--boot-service";
  return {
    target,
    credentialsHint: `registration ${record.id} was made with user:password in the URL, which bootsmith does not store: give them again, ${option} ${example.href}`,
  };
}

/** Restore what the newest registration of `target` replaced (deleting entries it created). */
export async function rollback(target: BootTarget, options: RollbackOptions = {}): Promise<RollbackResult> {
  const stateDir = options.stateDir ?? defaultStateDir(options.env);
  const keys = options.selectors ? selectorKeys(options.selectors) : [];
  const stored = await latestRecord(target, stateDir, keys);
  const connection = rollbackConnection(target, stored.record);
  const { url, clientOptions } = connect(connection.target, options, connection.credentialsHint);
  options.log?.(`rolling back registration ${stored.record.id} of ${stored.record.image.name}:${stored.record.image.tag} (${stored.path})`);
  if (stored.record.bootConfiguration) return rollbackBootConfiguration(target, stored, new BootServiceClient(url, clientOptions), options);
  return rollbackBss(target, stored, keys, new BssClient(url, clientOptions), options);
}

async function rollbackBss(
  target: BootTarget,
  stored: StoredRecord,
  keys: SelectorKey[],
  client: BssClient,
  options: RollbackOptions,
): Promise<RollbackResult> {
  const wanted = new Set(keys.map(selectorLabel));
  const all = stored.record.entries ?? [];
  const entries = wanted.size === 0 ? all : all.filter((e) => wanted.has(selectorLabel(e.selector)));
  const held = await mapLimit(entries, REQUEST_CONCURRENCY, (e) => client.read(e.selector));
  const current = held.map((h) => h?.entry);
  // An entry that still holds its old params (a registration that failed part-way) needs nothing.
  const drifted = entries.filter((e, i) => !sameEntry(current[i], e.after) && !sameEntry(current[i], e.before ?? undefined));
  if (drifted.length > 0 && !options.force) {
    throw new RegistrationError(
      "state",
      `not rolling back: ${drifted.map((e) => selectorLabel(e.selector)).join(", ")} changed since registration ${stored.record.id} (someone else registered since?). Inspect with \`bootsmith register --dry-run\`, or pass --force to restore anyway.`,
    );
  }
  const changes: EntryChange[] = entries.map((e, i) => ({ label: selectorLabel(e.selector), before: current[i], after: e.before ?? undefined }));
  const diff = renderDiff(changes, options.dryRun ? "dry-run" : "real");
  if (!options.dryRun) options.log?.(diff);
  if (options.dryRun) return { target, record: stored.path, changes, diff, written: false };

  // Entries that had params: put the old ones back (with the cloud-init each has now), grouped by identical values and selector kind.
  const pending = entries.flatMap((e, i) => (sameEntry(current[i], e.before ?? undefined) ? [] : [{ ...e, cloudInit: held[i]?.cloudInit }]));
  const restores = pending.flatMap((e) => (e.before ? [{ key: e.selector, entry: definedFields(e.before), cloudInit: e.cloudInit }] : []));
  for (const body of putBodies(restores)) await client.put(body);
  for (const kind of ["mac", "host", "nid"] as const) {
    const gone = pending.filter((e) => !e.before && e.selector.kind === kind).map((e) => e.selector);
    if (gone.length > 0) await client.delete(selectorBody(gone));
  }
  await verify(
    client,
    entries.map((e) => ({ key: e.selector, expected: e.before ?? undefined })),
  );

  if (entries.length === all.length) await markRolledBack(stored);
  else {
    // Partial rollback: keep the record for the entries not restored yet.
    const restored = new Set(entries.map((e) => selectorLabel(e.selector)));
    const rest: RegistrationRecord = { ...stored.record, entries: all.filter((e) => !restored.has(selectorLabel(e.selector))) };
    await saveRecord(stateDirOf(stored.path), rest);
  }
  return { target, record: stored.path, changes, diff, written: true };
}

/** saveRecord takes the state root; records live one level (the target slug) below it. */
function stateDirOf(recordPath: string): string {
  return recordPath.split("/").slice(0, -2).join("/");
}

async function rollbackBootConfiguration(
  target: BootTarget,
  stored: StoredRecord,
  client: BootServiceClient,
  options: RollbackOptions,
): Promise<RollbackResult> {
  const rec = stored.record.bootConfiguration;
  if (!rec) throw new RegistrationError("state", `${stored.path}: not a boot-service record`);
  const current = await client.findByName(rec.name);
  if (JSON.stringify(specEntry(current?.spec)) !== JSON.stringify(specEntry(rec.after)) && !options.force) {
    throw new RegistrationError(
      "state",
      `not rolling back: BootConfiguration "${rec.name}" changed since registration ${stored.record.id}; pass --force to restore anyway.`,
    );
  }
  const change: EntryChange = {
    label: `bootconfiguration ${rec.name}`,
    before: specEntry(current?.spec),
    after: specEntry(rec.before?.spec),
    otherChanges: rec.before ? targetingChanges(current?.spec, rec.before.spec) : [],
  };
  const diff = renderDiff([change], options.dryRun ? "dry-run" : "real");
  if (!options.dryRun) options.log?.(diff);
  if (options.dryRun) return { target, record: stored.path, changes: [change], diff, written: false };
  if (!rec.before) {
    if (current) await client.delete(uidOf(current, client));
  } else if (current) {
    await client.replace(uidOf(current, client), rec.name, rec.before.spec);
  } else {
    await client.create(rec.name, rec.before.spec);
  }
  await markRolledBack(stored);
  return { target, record: stored.path, changes: [change], diff, written: true };
}

/** What one boot-parameter entry points nodes at, for `bootsmith gc`'s "still in use" check. */
export interface BootReference {
  /** Which nodes: "BSS mac 52:54:00:00:00:01", "boot-service compute-prod". */
  readonly who: string;
  /** kernel, initrd and params strings (URLs inside). */
  readonly strings: readonly string[];
}

/** Every entry a BSS or boot-service holds, read-only. */
export async function bootReferences(
  service: Pick<BssTarget, "url" | "tokenEnv" | "caFile"> & { readonly type: BootTarget["type"] },
  options: ConnectionOptions = {},
): Promise<BootReference[]> {
  const { url, clientOptions } = connect(service as BootTarget, options);
  const strings = (x: { kernel?: string; initrd?: string; params?: string }) =>
    [x.kernel, x.initrd, x.params].filter((v): v is string => typeof v === "string");
  if (service.type === "bss") {
    const entries = await new BssClient(url, clientOptions).list();
    return entries.map((e) => {
      const keys = [...(e.macs ?? []).map((m) => `mac ${m}`), ...(e.hosts ?? []).map((h) => `host ${h}`), ...(e.nids ?? []).map((n) => `nid ${n}`)];
      return { who: `BSS ${keys.join(", ") || "(no selector)"}`, strings: strings(e) };
    });
  }
  const configs = await new BootServiceClient(url, clientOptions).list();
  return configs.map((c) => ({ who: `boot-service ${c.metadata?.name ?? c.metadata?.uid ?? "?"}`, strings: strings(c.spec ?? {}) }));
}
