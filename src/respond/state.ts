/**
 * The response state: incidents with their workflow, decisions, the allow-list, and an append-only audit log.
 * One interface (`StateStore`) with a file-backed implementation for the CLI; the server's database store
 * implements the same interface.
 *
 * File layout under the state directory: `incidents.json`, `decisions.json`, `allowlist.json` (rewritten
 * atomically: temp file + rename) and `audit.jsonl` (only ever appended). Each audit entry carries the SHA-256
 * of the previous one, so an edited or deleted line breaks the chain and `verifyAudit` says where. A lock file
 * keeps two commands from writing the same state at once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dropLockFile, takeLockFile } from '../core/lockfile.js';
import type { Incident, IncidentStatus } from '../detect/incidents.js';
import type { ActorRef } from '../detect/types.js';
import { auditEntry } from '../store/state/codec.js';
import type { AllowEntry } from './policy.js';
import type { Decision } from './types.js';

export interface IncidentNote {
  ts: number;
  by: string;
  text: string;
}

/** An incident as kept in the state: what detection said, plus the workflow. */
export interface IncidentRecord extends Incident {
  status: IncidentStatus;
  assignee: string | null;
  notes: IncidentNote[];
  /** When the state first saw it, and last changed it (wall clock, ms epoch). */
  createdTs: number;
  updatedTs: number;
  /** When it entered each status it went through (the latest time for each). */
  statusTs: Partial<Record<IncidentStatus, number>>;
  /** Ids of later detections folded into this open incident (live segments; `Responder` `mergeOpen`). */
  merged?: string[];
}

export interface AuditEntry {
  seq: number;
  ts: number;
  /** Who did it: a person's name, `policy`, `analyze`. */
  by: string;
  action: string;
  /** The incident or decision id (or allow-list key) it is about. */
  target: string;
  data?: Record<string, unknown>;
  /** SHA-256 of the previous entry's line ('' for the first). */
  prev: string;
}

export interface StateStore {
  readonly location: string;
  incidents(): Promise<IncidentRecord[]>;
  incident(id: string): Promise<IncidentRecord | undefined>;
  putIncident(r: IncidentRecord): Promise<void>;
  decisions(): Promise<Decision[]>;
  /**
   * What the policy weighs for one incident: its own decisions and those on any of `actors` (escalation).
   * Optional: without it the Responder reads every decision (fine for a file state; a long-running server's
   * state holds tens of thousands).
   */
  decisionsAbout?(incidentId: string, actors: readonly ActorRef[]): Promise<Decision[]>;
  /**
   * Optional: open incidents (not resolved, not a false positive) naming any of `actors`, oldest first (else
   * the Responder filters every incident). Used to fold a live segment's incident into an open one.
   */
  openIncidentsWith?(actors: readonly ActorRef[]): Promise<IncidentRecord[]>;
  /** Optional: active or proposed decisions whose TTL ended at `now` or before (else read from all). */
  decisionsDue?(now: number): Promise<Decision[]>;
  putDecision(d: Decision): Promise<void>;
  allowlist(): Promise<AllowEntry[]>;
  addAllow(e: AllowEntry): Promise<void>;
  /** Appends to the audit log (never rewritten); returns the entry as stored. */
  audit(e: Omit<AuditEntry, 'seq' | 'prev'>): Promise<AuditEntry>;
  auditLog(target?: string): Promise<AuditEntry[]>;
  /** Writes what changed; the store stays usable. */
  commit(): Promise<void>;
  close(): Promise<void>;
}

const FILES = { incidents: 'incidents.json', decisions: 'decisions.json', allow: 'allowlist.json' };
const AUDIT = 'audit.jsonl';
const LOCK = '.lock';

export class StateError extends Error {}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function readJson<T>(path: string, what: string): T[] {
  if (!existsSync(path)) return [];
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StateError(`${path}: cannot read the ${what}: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new StateError(`${path}: expected a JSON array of ${what}`);
  return v as T[];
}

/** The state in a directory. Open with `FileStateStore.open(dir)`; `close()` releases the lock. */
export class FileStateStore implements StateStore {
  private readonly inc = new Map<string, IncidentRecord>();
  private readonly dec = new Map<string, Decision>();
  private readonly allow: AllowEntry[] = [];
  private dirty = { incidents: false, decisions: false, allow: false };
  private lastHash = '';
  private seq = 0;
  private closed = false;
  /** Appends run one after another, in seq order. */
  private appending: Promise<void> = Promise.resolve();

  private constructor(readonly location: string) {}

  static async open(dir: string): Promise<FileStateStore> {
    const root = resolve(dir);
    await mkdir(root, { recursive: true });
    const s = new FileStateStore(root);
    s.lock();
    try {
      for (const r of readJson<IncidentRecord>(join(root, FILES.incidents), 'incidents')) s.inc.set(r.id, r);
      for (const d of readJson<Decision>(join(root, FILES.decisions), 'decisions')) s.dec.set(d.id, d);
      s.allow.push(...readJson<AllowEntry>(join(root, FILES.allow), 'allow-list entries'));
      const log = await s.readAudit();
      if (log.length > 0) {
        s.seq = log[log.length - 1]!.entry.seq;
        s.lastHash = sha(log[log.length - 1]!.line);
      }
    } catch (e) {
      s.unlock();
      throw e;
    }
    return s;
  }

  private lock(): void {
    const path = join(this.location, LOCK);
    takeLockFile(
      path,
      (pid) =>
        new StateError(
          `${this.location} is in use by process ${pid}; wait for it, or remove ${path} if it is gone`,
        ),
    );
  }

  private unlock(): void {
    dropLockFile(join(this.location, LOCK));
  }

  private async readAudit(): Promise<{ line: string; entry: AuditEntry }[]> {
    const path = join(this.location, AUDIT);
    if (!existsSync(path)) return [];
    const text = await readFile(path, 'utf8');
    const out: { line: string; entry: AuditEntry }[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        out.push({ line, entry: JSON.parse(line) as AuditEntry });
      } catch {
        throw new StateError(`${path}: line ${out.length + 1} is not JSON; the audit log was edited`);
      }
    }
    return out;
  }

  /** Checks the audit chain: null when intact, else the first broken entry. */
  async verifyAudit(): Promise<string | null> {
    let prev = '';
    for (const { line, entry } of await this.readAudit()) {
      if (entry.prev !== prev) return `audit entry ${entry.seq} does not follow the one before it`;
      prev = sha(line);
    }
    return null;
  }

  private check(): void {
    if (this.closed) throw new StateError('the state store is closed');
  }

  async incidents(): Promise<IncidentRecord[]> {
    return [...this.inc.values()].sort((a, b) => a.detectedTs - b.detectedTs || (a.id < b.id ? -1 : 1));
  }
  async incident(id: string): Promise<IncidentRecord | undefined> {
    return this.inc.get(id);
  }
  async putIncident(r: IncidentRecord): Promise<void> {
    this.check();
    this.inc.set(r.id, r);
    this.dirty.incidents = true;
  }
  async decisions(): Promise<Decision[]> {
    return [...this.dec.values()].sort((a, b) => a.createdTs - b.createdTs || (a.id < b.id ? -1 : 1));
  }
  async putDecision(d: Decision): Promise<void> {
    this.check();
    this.dec.set(d.id, d);
    this.dirty.decisions = true;
  }
  async allowlist(): Promise<AllowEntry[]> {
    return [...this.allow];
  }
  async addAllow(e: AllowEntry): Promise<void> {
    this.check();
    if (this.allow.some((x) => x.kind === e.kind && x.value === e.value)) return;
    this.allow.push(e);
    this.dirty.allow = true;
  }

  async audit(e: Omit<AuditEntry, 'seq' | 'prev'>): Promise<AuditEntry> {
    this.check();
    // The canonical line (keys seq, ts, by, action, target, data?, prev), as the database stores write it.
    const entry = auditEntry(this.seq + 1, e, this.lastHash);
    const line = JSON.stringify(entry);
    // Taken before the first await: concurrent calls each get the next seq and the hash of the one before.
    this.seq = entry.seq;
    this.lastHash = sha(line);
    const write = this.appending.then(() =>
      appendFile(join(this.location, AUDIT), `${line}\n`, { mode: 0o600 }),
    );
    this.appending = write.catch(() => {});
    await write;
    return entry;
  }

  async auditLog(target?: string): Promise<AuditEntry[]> {
    const all = (await this.readAudit()).map((x) => x.entry);
    return target === undefined ? all : all.filter((e) => e.target === target);
  }

  async commit(): Promise<void> {
    this.check();
    const write = async (name: string, value: unknown) => {
      const path = join(this.location, name);
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(value, null, 1)}\n`, { mode: 0o600 });
      await rename(tmp, path);
    };
    if (this.dirty.incidents) await write(FILES.incidents, await this.incidents());
    if (this.dirty.decisions) await write(FILES.decisions, await this.decisions());
    if (this.dirty.allow) await write(FILES.allow, this.allow);
    this.dirty = { incidents: false, decisions: false, allow: false };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.commit();
    this.closed = true;
    this.unlock();
  }
}
