// Registration records: what each registration replaced, so `bootsmith rollback` can put it
// back (and delete entries that did not exist before). One JSON file per registration under
// <state-dir>/<target>/, written before anything is changed on the boot service; a rollback
// marks the record instead of deleting it, so rolling back twice walks further back in history.
// A record never holds a secret: a URL's user:password (a site's authenticating proxy) is dropped
// on every write, and rollback asks for it again the way register got it (see rollback()).
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { BootEntry, SelectorKey } from "./bss.js";
import type { BootConfigurationSpec } from "./boot-service.js";
import { redactUrl } from "./http.js";

export interface BssRecordEntry {
  readonly selector: SelectorKey;
  /** null: the selector had no params before (rollback deletes it). */
  readonly before: BootEntry | null;
  readonly after: BootEntry;
}

export interface BootConfigurationRecord {
  readonly name: string;
  /** null: no configuration of that name existed (rollback deletes it). */
  readonly before: { readonly uid: string; readonly spec: BootConfigurationSpec } | null;
  readonly after: BootConfigurationSpec;
}

export interface RegistrationRecord {
  readonly schemaVersion: 1;
  readonly id: string;
  readonly createdAt: string;
  readonly target: {
    readonly type: "bss" | "boot-service";
    /** Without user:password; records written before that rule may still carry it (rollback uses it, never prints it). */
    readonly url: string;
    readonly name?: string;
    readonly legacy?: boolean;
    /** The URL register used carried user:password, which is not stored: rollback must be given it again. */
    readonly urlCredentials?: true;
  };
  readonly image: { readonly name: string; readonly tag: string; readonly target: string };
  readonly mode: "put" | "patch";
  /** BSS (and boot-service legacy) registrations. */
  readonly entries?: readonly BssRecordEntry[];
  /** boot-service BootConfiguration registrations. */
  readonly bootConfiguration?: BootConfigurationRecord;
  readonly rolledBackAt?: string;
}

export interface StoredRecord {
  readonly path: string;
  readonly record: RegistrationRecord;
}

/** `$XDG_STATE_HOME/bootsmith/registrations`, else `~/.local/state/bootsmith/registrations`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME !== "" ? env.XDG_STATE_HOME : join(env.HOME && env.HOME !== "" ? env.HOME : homedir(), ".local", "state");
  return join(base, "bootsmith", "registrations");
}

/** A directory name for a target URL: host_port plus path, safe on any filesystem. */
export function targetSlug(url: string, name?: string): string {
  const u = new URL(url);
  const raw = `${u.hostname}_${u.port || (u.protocol === "https:" ? "443" : "80")}${u.pathname === "/" ? "" : u.pathname}${name ? `__${name}` : ""}`;
  return raw.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/_+$/, "");
}

let counter = 0;

/** Sortable id: time, then a per-process counter (two registrations in one millisecond stay ordered). */
export function newRecordId(now: Date = new Date()): string {
  counter = (counter + 1) % 1000;
  return `${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d+)Z$/, "$1Z")}-${process.pid}-${String(counter).padStart(3, "0")}`;
}

/** user:password of a URL, when it has one. */
export function urlCredentials(url: string): { username: string; password: string } | undefined {
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "" ? { username: u.username, password: u.password } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Write a record as only its owner can read it (0600), through a fresh temporary file (a stale
 * one left by a crash could have other permissions), with any credential in its URL dropped.
 */
async function writeRecordFile(path: string, record: RegistrationRecord): Promise<void> {
  const stored: RegistrationRecord =
    urlCredentials(record.target.url) === undefined
      ? record
      : { ...record, target: { ...record.target, url: redactUrl(record.target.url), urlCredentials: true } };
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  await writeFile(tmp, JSON.stringify(stored, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  await rename(tmp, path);
}

export async function saveRecord(stateDir: string, record: RegistrationRecord): Promise<string> {
  const dir = join(stateDir, targetSlug(record.target.url, record.target.name));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${record.id}.json`);
  await writeRecordFile(path, record);
  return path;
}

export async function readRecord(path: string): Promise<RegistrationRecord> {
  const parsed = JSON.parse(await readFile(path, "utf8")) as RegistrationRecord;
  if (parsed.schemaVersion !== 1) throw new Error(`${path}: unknown record schemaVersion ${String(parsed.schemaVersion)}`);
  return parsed;
}

/** Records for a target, newest first. */
export async function listRecords(stateDir: string, url: string, name?: string): Promise<StoredRecord[]> {
  const dir = join(stateDir, targetSlug(url, name));
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const out: StoredRecord[] = [];
  for (const f of files
    .filter((f) => f.endsWith(".json"))
    .sort()
    .reverse()) {
    const path = join(dir, f);
    out.push({ path, record: await readRecord(path) });
  }
  return out;
}

export async function markRolledBack(stored: StoredRecord, now: Date = new Date()): Promise<void> {
  await writeRecordFile(stored.path, { ...stored.record, rolledBackAt: now.toISOString() });
}
