/**
 * The response commands (docs/operations.md): `apiwarden incidents list|show|import|transition|assign|note|audit`,
 * `apiwarden decide`, `apiwarden backtest`. State lives in a directory (`--state`, default ./apiwarden-state)
 * through the StateStore interface (src/respond/state.ts).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { INCIDENT_STATUSES, type Incident, type IncidentStatus } from '../detect/incidents.js';
import { ANOMALY_TYPES, SEVERITIES } from '../detect/types.js';
import type { Profile } from '../profiling/profile.js';
import { backtest, decisionsToBacktest, hypotheticalDecision } from '../respond/backtest.js';
import { EXPORT_TARGETS, exportDecisions } from '../respond/export/index.js';
import { decisionEvent, incidentEvent } from '../respond/notify.js';
import { parseDuration } from '../respond/policy.js';
import { DEFAULT_RATE, parseRateText, parseScopeText } from '../respond/scope.js';
import { type FileStateStore, type IncidentRecord, StateError } from '../respond/state.js';
import {
  DECISION_ACTIONS,
  DECISION_STATUSES,
  type Decision,
  type DecisionAction,
  type DecisionScope,
} from '../respond/types.js';
import { Responder, WorkflowError } from '../respond/workflow.js';
import type { PgStateStore } from '../store/state/pg-state.js';
import { loadProfileFile } from './analyze.js';
import { int, iso, terminalSafe } from './human.js';
import { CliError, cliConfig, type Io, readFlagFile } from './parse.js';
import { DEFAULT_STATE, openStateStore, sendNotifications } from './state.js';
import { openStore } from './store.js';

export { DEFAULT_STATE };

export interface StateFlags {
  state?: string;
  config?: string;
  profile?: string;
  by?: string;
  json?: boolean;
}

export interface IncidentsFlags extends StateFlags {
  status?: string;
  type?: string;
  minSeverity?: string;
  note?: string;
  assignee?: string;
  verify?: boolean;
  limit?: number;
}

const who = (f: StateFlags) => f.by ?? process.env.USER ?? 'cli';

const configOf = (f: StateFlags): Promise<Config> => cliConfig(f.config);

/** Opens the state and a responder; always closes the state (and writes the profile if it learned). */
async function withState<T>(
  f: StateFlags,
  fn: (r: Responder, profile: Profile | null, config: Config) => Promise<T>,
): Promise<T> {
  const config = await configOf(f);
  const policy = config.response;
  const profile = f.profile === undefined ? null : await loadProfileFile(f.profile);
  const store = await openStateStore(f.state ?? DEFAULT_STATE);
  try {
    return await fn(new Responder(store, { policy, profile }), profile, config);
  } catch (e) {
    if (e instanceof WorkflowError || e instanceof StateError) throw new CliError(e.message);
    throw e;
  } finally {
    await store.close();
  }
}

function pick<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new CliError(`${flag} must be one of ${allowed.join(', ')}, got '${v}'`, 2);
  return v as T;
}

const cut = (s: string, n: number) => terminalSafe(s.length > n ? `${s.slice(0, n - 1)}…` : s);

function table(rows: string[][], head: string[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

/** Reads incidents.jsonl (apiwarden analyze); a bad line names its number. */
export async function readIncidents(path: string): Promise<Incident[]> {
  const text = await readFlagFile(path, 'incidents', ' (apiwarden analyze writes incidents.jsonl)');
  const out: Incident[] = [];
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new CliError(`${path}:${n}: not JSON: ${(e as Error).message}`);
    }
    const i = v as Partial<Incident>;
    if (
      typeof i.id !== 'string' ||
      !Array.isArray(i.actors) ||
      typeof i.type !== 'string' ||
      typeof i.severity !== 'string' ||
      typeof i.detectedTs !== 'number'
    )
      throw new CliError(`${path}:${n}: not an incident (needs id, type, severity, actors, detectedTs)`);
    out.push(i as Incident);
  }
  return out;
}

export async function runIncidents(args: string[], f: IncidentsFlags, io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const need = (n: number, usage: string) => {
    if (rest.length !== n) throw new CliError(`usage: apiwarden incidents ${usage}`, 2);
  };
  switch (sub ?? 'list') {
    case 'list': {
      const status = pick('--status', f.status, INCIDENT_STATUSES);
      const type = pick('--type', f.type, ANOMALY_TYPES);
      const min = pick('--min-severity', f.minSeverity, SEVERITIES);
      return withState(f, async (r) => {
        const decisions = await r.store.decisions();
        const all = (await r.store.incidents()).filter(
          (i) =>
            (status === undefined || i.status === status) &&
            (type === undefined || i.types.includes(type)) &&
            (min === undefined || SEVERITIES.indexOf(i.severity) >= SEVERITIES.indexOf(min)),
        );
        const shown = all.slice(0, f.limit ?? all.length);
        if (f.json) {
          for (const i of shown) io.stdout.write(`${JSON.stringify(i)}\n`);
          return 0;
        }
        const active = (id: string) =>
          decisions.filter((d) => d.incidentId === id && d.status === 'active').length;
        const proposed = (id: string) =>
          decisions.filter((d) => d.incidentId === id && d.status === 'proposed').length;
        io.stdout.write(
          table(
            shown.map((i) => [
              i.id,
              i.status,
              i.severity,
              i.type,
              int(i.actors.length),
              `${active(i.id)}/${proposed(i.id)}`,
              i.assignee ?? '',
              iso(i.detectedTs),
              cut(i.explanation, 70),
            ]),
            ['id', 'status', 'severity', 'type', 'actors', 'dec a/p', 'assignee', 'detected', 'explanation'],
          ),
        );
        io.stdout.write(`(${int(shown.length)} of ${int(all.length)} incidents)\n`);
        return 0;
      });
    }
    case 'show': {
      need(1, 'show ID');
      return withState(f, async (r) => {
        const i = await r.store.incident(rest[0]!);
        if (i === undefined) throw new CliError(`no incident ${rest[0]} in ${r.store.location}`);
        const decisions = (await r.store.decisions()).filter((d) => d.incidentId === i.id);
        const history = await r.history(i.id);
        if (f.json) {
          io.stdout.write(`${JSON.stringify({ incident: i, decisions, audit: history }, null, 2)}\n`);
          return 0;
        }
        io.stdout.write(showIncident(i, decisions, history));
        return 0;
      });
    }
    case 'import': {
      need(1, 'import INCIDENTS.jsonl [--state DIR] [--config C] [--profile P]');
      const incidents = await readIncidents(rest[0]!);
      return withState(f, async (r, _profile, config) => {
        const res = await r.ingest(incidents, who(f));
        await sendNotifications(
          config,
          [
            ...res.created.map((i) => incidentEvent(i, 'incident.new')),
            ...res.updated.map((i) => incidentEvent(i, 'incident.updated')),
            ...res.decisions.map((d) => decisionEvent(d, 'decision.new')),
          ],
          io,
        );
        const msg = {
          incidents: incidents.length,
          created: res.created.length,
          updated: res.updated.length,
          decisions: res.decisions.length,
          active: res.decisions.filter((d) => d.status === 'active').length,
        };
        if (f.json) io.stdout.write(`${JSON.stringify(msg)}\n`);
        else
          io.stdout.write(
            `${int(msg.incidents)} incidents: ${int(msg.created)} new, ${int(msg.updated)} updated; ${int(msg.decisions)} decisions (${int(msg.active)} applied, ${int(msg.decisions - msg.active)} waiting for approval)\n`,
          );
        return 0;
      });
    }
    case 'transition': {
      need(2, `transition ID STATUS   (STATUS: ${INCIDENT_STATUSES.join(', ')})`);
      const to = pick('STATUS', rest[1], INCIDENT_STATUSES) as IncidentStatus;
      return withState(f, async (r, profile) => {
        const res = await r.transition(rest[0]!, to, {
          by: who(f),
          ...(f.note === undefined ? {} : { note: f.note }),
          ...(f.assignee === undefined ? {} : { assignee: f.assignee }),
        });
        if (res.profileChanged && profile !== null && f.profile !== undefined)
          await writeFile(f.profile, `${JSON.stringify(profile, null, 2)}\n`);
        if (f.json)
          io.stdout.write(
            `${JSON.stringify({ incident: res.record.id, status: to, effects: res.effects })}\n`,
          );
        else
          io.stdout.write(
            `${res.record.id}: ${to}${res.effects.length > 0 ? `; ${res.effects.join('; ')}` : ''}${res.profileChanged ? ` (wrote ${f.profile})` : ''}\n`,
          );
        return 0;
      });
    }
    case 'assign': {
      need(2, 'assign ID NAME');
      return withState(f, async (r) => {
        await r.assign(rest[0]!, rest[1]!, who(f));
        io.stdout.write(`${rest[0]}: assigned to ${terminalSafe(rest[1]!)}\n`);
        return 0;
      });
    }
    case 'note': {
      need(2, 'note ID TEXT');
      return withState(f, async (r) => {
        await r.note(rest[0]!, rest[1]!, who(f));
        io.stdout.write(`${rest[0]}: note added\n`);
        return 0;
      });
    }
    case 'audit': {
      if (rest.length > 1) throw new CliError('usage: apiwarden incidents audit [ID] [--verify]', 2);
      return withState(f, async (r) => {
        if (f.verify) {
          const broken = await (r.store as FileStateStore | PgStateStore).verifyAudit();
          if (broken !== null) throw new CliError(`the audit log is broken: ${broken}`);
          io.stdout.write('the audit log is intact\n');
          return 0;
        }
        const log = rest[0] === undefined ? await r.store.auditLog() : await r.history(rest[0]);
        for (const e of log)
          io.stdout.write(
            f.json
              ? `${JSON.stringify(e)}\n`
              : `${String(e.seq).padStart(5)}  ${iso(e.ts)}  ${cut(e.by, 16).padEnd(16)}  ${e.action.padEnd(20)}  ${e.target}  ${cut(JSON.stringify(e.data ?? {}), 90)}\n`,
          );
        return 0;
      });
    }
    default:
      throw new CliError(
        `unknown incidents command '${sub}'; use list, show, import, transition, assign, note or audit`,
        2,
      );
  }
}

function showIncident(
  i: IncidentRecord,
  decisions: Decision[],
  history: { seq: number; ts: number; by: string; action: string; data?: unknown }[],
): string {
  const lines = [
    `${i.id}  ${i.status}  ${i.severity} ${i.type}${i.types.length > 1 ? ` (${i.types.join(', ')})` : ''}`,
    `  ${terminalSafe(i.explanation)}`,
    ...(i.severityReason === undefined ? [] : [`  severity: ${terminalSafe(i.severityReason)}`]),
    `  score ${i.score}, confidence ${i.confidence}, ${int(i.requests)} requests, events ${iso(i.firstEventTs)} .. ${iso(i.lastEventTs)}, detected ${iso(i.detectedTs)}`,
    `  assignee: ${i.assignee === null ? '-' : terminalSafe(i.assignee)}`,
    `  actors (${int(i.actors.length)}): ${i.actors
      .slice(0, 12)
      .map((a) => `${a.kind}:${cut(a.value, 48)}`)
      .join(', ')}${i.actors.length > 12 ? ', …' : ''}`,
    `  endpoints: ${i.endpoints.map((e) => cut(e, 80)).join(', ') || '-'}`,
    '  evidence:',
    ...i.evidence
      .slice(0, 8)
      .map(
        (e) =>
          `    ${e.feature} = ${cut(String(e.value), 40)}${e.threshold === undefined ? '' : ` (limit ${e.threshold})`}${e.endpoint === undefined ? '' : ` on ${cut(e.endpoint, 60)}`}`,
      ),
    `  decisions (${decisions.length}):`,
    ...decisions.map((d) => `    ${decisionLine(d)}`),
    ...(i.notes.length === 0
      ? []
      : ['  notes:', ...i.notes.map((n) => `    ${iso(n.ts)} ${cut(n.by, 20)}: ${cut(n.text, 200)}`)]),
    '  history:',
    ...history.map(
      (e) => `    ${iso(e.ts)} ${cut(e.by, 16)} ${e.action} ${cut(JSON.stringify(e.data ?? {}), 100)}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

export function decisionLine(d: Decision): string {
  const scope = `${d.scope.kind}:${cut(d.scope.value, 48)}${d.scope.endpoint === undefined ? '' : ` on ${cut(d.scope.endpoint, 60)}`}`;
  const rl = d.rateLimit === undefined ? '' : ` ${d.rateLimit.requests}/${d.rateLimit.perSeconds}s`;
  const until = d.expiresTs === null ? 'no expiry' : `until ${iso(d.expiresTs)}`;
  return `${d.id}  ${d.status.padEnd(8)}  ${d.action}${rl}  ${scope}  ${until}${d.offence > 1 ? `  offence ${d.offence}` : ''}`;
}

export interface DecideFlags extends StateFlags {
  list?: boolean;
  status?: string;
  incident?: string;
  pending?: boolean;
  approve?: string;
  revoke?: string;
  expire?: boolean;
  action?: string;
  scope?: string;
  endpoint?: string;
  ttl?: string;
  rate?: string;
  reason?: string;
}

/** `kind:value` → scope; the value is checked for its kind (src/respond/scope.ts, shared with the server). */
export function parseScope(s: string, endpoint?: string): DecisionScope {
  const r = parseScopeText(s, endpoint);
  if (r.ok) return r.value;
  throw new CliError(`${r.error.part === 'endpoint' ? '--' : '--scope '}${r.error.message}`, 2);
}

export async function runDecide(f: DecideFlags, io: Io): Promise<number> {
  const modes = [f.list, f.incident, f.pending, f.approve, f.revoke, f.expire, f.action].filter(
    (x) => x !== undefined && x !== false,
  ).length;
  if (modes !== 1)
    throw new CliError(
      'give exactly one of --list, --incident ID, --pending, --approve ID, --revoke ID, --expire, --action ACTION --scope KIND:VALUE',
      2,
    );
  return withState(f, async (r, _profile, config) => {
    const tell = (ds: readonly Decision[], kind: 'decision.new' | 'decision.expired' | 'decision.revoked') =>
      sendNotifications(
        config,
        ds.map((d) => decisionEvent(d, kind)),
        io,
      );
    const print = (ds: readonly Decision[], head: string) => {
      if (f.json) for (const d of ds) io.stdout.write(`${JSON.stringify(d)}\n`);
      else {
        io.stdout.write(`${head}\n`);
        for (const d of ds) io.stdout.write(`  ${decisionLine(d)}\n`);
      }
    };
    if (f.list) {
      const status = pick('--status', f.status, DECISION_STATUSES);
      const ds = (await r.store.decisions()).filter((d) => status === undefined || d.status === status);
      print(ds, `${int(ds.length)} decisions`);
      return 0;
    }
    if (f.expire) {
      const ds = await r.expire();
      print(ds, `${int(ds.length)} decisions expired`);
      await tell(ds, 'decision.expired');
      return 0;
    }
    if (f.approve !== undefined) {
      const d = await r.approve(f.approve, who(f));
      print([d], 'approved');
      await tell([d], 'decision.new');
      return 0;
    }
    if (f.revoke !== undefined) {
      const d = await r.revoke(f.revoke, who(f), f.reason ?? 'revoked by hand');
      print([d], 'revoked');
      await tell([d], 'decision.revoked');
      return 0;
    }
    if (f.incident !== undefined || f.pending) {
      const decided = new Set((await r.store.decisions()).map((d) => d.incidentId));
      const targets =
        f.incident !== undefined
          ? [await r.store.incident(f.incident)]
          : (await r.store.incidents()).filter((i) => !decided.has(i.id));
      if (targets[0] === undefined) throw new CliError(`no incident ${f.incident} in ${r.store.location}`);
      const out: Decision[] = [];
      for (const i of targets) out.push(...(await r.applyPolicy(i!, who(f))));
      await r.store.commit();
      print(out, `${int(out.length)} decisions from the policy for ${int(targets.length)} incident(s)`);
      await tell(out, 'decision.new');
      return 0;
    }
    const action = pick('--action', f.action, DECISION_ACTIONS) as DecisionAction;
    if (f.scope === undefined) throw new CliError('--action needs --scope KIND:VALUE', 2);
    const scope = parseScope(f.scope, f.endpoint);
    let ttlMs: number | null = 3_600_000;
    if (f.ttl !== undefined) {
      ttlMs = f.ttl === 'none' ? null : parseDuration(f.ttl);
      if (ttlMs === null && f.ttl !== 'none')
        throw new CliError(`--ttl must be a duration such as 30m, 1h, 7d or none, got '${f.ttl}'`, 2);
    }
    const rateLimit = f.rate === undefined ? undefined : parseRate(f.rate);
    const d = await r.manual(
      {
        action,
        scope,
        ttlMs,
        reason: f.reason ?? 'taken by hand',
        ...(rateLimit === undefined ? {} : { rateLimit }),
        ...(f.incident === undefined ? {} : { incidentId: f.incident }),
      },
      who(f),
    );
    print([d], d.status === 'active' ? 'applied' : 'proposed (dry run)');
    await tell([d], 'decision.new');
    return 0;
  });
}

export interface BacktestFlags extends StateFlags {
  store?: string;
  decision?: string[];
  all?: boolean;
  action?: string;
  scope?: string;
  endpoint?: string;
  rate?: string;
  from?: string;
  to?: string;
}

export async function runBacktest(f: BacktestFlags, io: Io): Promise<number> {
  if (f.store === undefined) throw new CliError('--store DIR is required (apiwarden ingest writes one)', 2);
  const time = (flag: string, v: string | undefined) => {
    if (v === undefined) return null;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new CliError(`${flag} must be an ISO 8601 time, got '${v}'`, 2);
    return t;
  };
  const range = { from: time('--from', f.from), to: time('--to', f.to) };
  return withState(f, async (r) => {
    let decisions: Decision[];
    if (f.scope !== undefined) {
      const action = (pick('--action', f.action, DECISION_ACTIONS) ?? 'block') as DecisionAction;
      decisions = [hypotheticalDecision(action, parseScope(f.scope, f.endpoint), () => parseRate(f.rate))];
    } else {
      const picked = decisionsToBacktest(
        await r.store.decisions(),
        new Set(f.decision ?? []),
        f.all === true,
      );
      const [missing] = picked.missing;
      if (missing !== undefined) throw new CliError(`no decision ${missing} in ${r.store.location}`);
      decisions = picked.decisions;
    }
    const s = await openStore(f.store!);
    if (s === null)
      throw new CliError(`no events in '${f.store}' (run apiwarden ingest --store ${f.store} first)`);
    let rep: Awaited<ReturnType<typeof backtest>>;
    try {
      rep = await backtest(s.conn, decisions, await r.store.incidents(), range);
    } finally {
      s.close();
    }
    if (f.json) {
      io.stdout.write(`${JSON.stringify(rep, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(
      table(
        rep.decisions.map((d) => [
          d.decision,
          d.action,
          cut(d.scope, 60),
          int(d.requests),
          int(d.actors.ip),
          int(d.collateralActors),
          int(d.collateralRequests),
        ]),
        ['decision', 'action', 'scope', 'requests', 'ips', 'collateral actors', 'collateral requests'],
      ),
    );
    const t = rep.total;
    io.stdout.write(
      `\n${int(decisions.length)} decisions over ${int(rep.storedRequests)} stored requests: would have hit ${int(t.requests)} requests of ${int(t.actors)} actors; ${int(t.collateralActors)} of those actors were never in an incident (${int(t.collateralRequests)} of their requests)\n`,
    );
    return 0;
  });
}

function parseRate(s: string | undefined): NonNullable<Decision['rateLimit']> {
  if (s === undefined) return DEFAULT_RATE;
  const r = parseRateText(s);
  if (!r.ok) throw new CliError(`--rate ${r.error}`, 2);
  return r.value;
}

export interface ExportFlags extends StateFlags {
  target?: string;
  out?: string;
  awsScope?: string;
}

/** `apiwarden export`: the state's active decisions as configuration for a WAF or proxy (docs/exporters.md). */
export async function runExport(f: ExportFlags, io: Io): Promise<number> {
  const target = pick('--target', f.target, EXPORT_TARGETS);
  if (target === undefined)
    throw new CliError(`--target is required: one of ${EXPORT_TARGETS.join(', ')}`, 2);
  if (f.out === undefined || f.out === '') throw new CliError('--out DIR is required', 2);
  const awsScope = pick('--aws-scope', f.awsScope, ['REGIONAL', 'CLOUDFRONT'] as const);
  return withState(f, async (r, _profile, config) => {
    const now = Date.now();
    const decisions = await r.store.decisions();
    const res = exportDecisions(
      target,
      { decisions, deviceHeader: config.response.deviceHeader, now },
      awsScope === undefined ? {} : { awsScope },
    );
    await mkdir(f.out!, { recursive: true });
    for (const file of res.files) {
      const path = join(f.out!, file.path);
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.tmp`;
      await writeFile(tmp, file.content);
      await rename(tmp, path);
    }
    const active = decisions.filter(
      (d) => d.status === 'active' && (d.expiresTs === null || d.expiresTs > now),
    );
    if (f.json) {
      io.stdout.write(
        `${JSON.stringify({ target, active: active.length, files: res.files.map((x) => join(f.out!, x.path)), skipped: res.skipped })}\n`,
      );
      return 0;
    }
    io.stdout.write(
      `${target}: ${int(active.length)} active decisions → ${res.files.map((x) => join(f.out!, x.path)).join(', ') || 'no files'}\n`,
    );
    if (res.skipped.length > 0) {
      io.stdout.write(`${int(res.skipped.length)} not expressible in ${target}:\n`);
      for (const s of res.skipped.slice(0, 20))
        io.stdout.write(`  ${s.decision}: ${terminalSafe(s.reason)}\n`);
      if (res.skipped.length > 20)
        io.stdout.write(`  … and ${int(res.skipped.length - 20)} more (--json lists all)\n`);
    }
    return 0;
  });
}
