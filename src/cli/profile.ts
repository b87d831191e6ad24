/**
 * `apiwarden profile`: learns thresholds from traffic (docs/profiling.md) and writes them with their evidence;
 * `apiwarden profile show FILE` prints the recommended limits per endpoint.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ApiEvent } from '../core/event.js';
import { ProfilingRun } from '../detect/run.js';
import { IntelStore } from '../enrich/intel.js';
import { Enricher } from '../features/enrich.js';
import type { Profile, Threshold } from '../profiling/profile.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import type { EventSink } from '../sinks/types.js';
import { loadProfileFile } from './analyze.js';
import { forEachStoredEvent } from './features.js';
import { int, terminalSafe } from './human.js';
import { CliError, cliConfig, humanSummary, type Io, type ParseFlags, parseInputs } from './parse.js';

export interface ProfileFlags extends ParseFlags {
  out?: string;
  store?: string;
  endpoint?: string;
}

class ProfileSink implements EventSink {
  constructor(
    readonly enricher: Enricher,
    readonly run: ProfilingRun,
  ) {}
  async write(events: readonly ApiEvent[]): Promise<void> {
    for (const e of events) this.run.push(this.enricher.enrich(e));
  }
  async close(): Promise<void> {}
}

export async function runProfile(inputs: string[], flags: ProfileFlags, io: Io): Promise<number> {
  if (inputs[0] === 'show') {
    if (inputs.length !== 2)
      throw new CliError('usage: apiwarden profile show PROFILE.json [--endpoint TEXT] [--json]', 2);
    return showProfile(inputs[1]!, flags, io);
  }
  const out = flags.out;
  if (out === undefined || out === '' || out === '-') throw new CliError('--out profile.json is required', 2);
  if (flags.store !== undefined && inputs.length > 0)
    throw new CliError('give inputs or --store, not both', 2);
  const config = await cliConfig(flags.config);
  // Threat intel: the behaviour model learns its intel columns (docs/intel.md, "As features").
  let intel: IntelStore | null = null;
  if (config.intel.sources.length > 0) {
    intel = await IntelStore.open(config.intel, { baseDir: dirname(resolve(flags.config ?? '.')) });
    intel.close(); // one snapshot of the lists: no refresh timer
  }
  const run = new ProfilingRun(intel === null ? {} : { intel });
  if (flags.store !== undefined) {
    const n = await forEachStoredEvent(flags.store, (e) => run.push(e));
    if (!flags.quiet) io.stderr.write(`read ${int(n)} events from the store ${flags.store}\n`);
  } else {
    const summary = await parseInputs(
      inputs,
      { ...flags, out: undefined, json: false, captureBodies: true },
      io,
      new ProfileSink(new Enricher(new SensitiveScanner(config.sensitive)), run),
    );
    if (!flags.quiet && !flags.json) io.stderr.write(humanSummary(summary));
  }
  const profile = run.build();
  await writeFile(out, `${JSON.stringify(profile, null, 2)}\n`);
  const recs = recommendations(profile);
  if (flags.json)
    io.stdout.write(`${JSON.stringify({ events: run.events, endpoints: recs.length, output: out })}\n`);
  else if (!flags.quiet) {
    io.stdout.write(
      `learned limits for ${int(recs.length)} endpoints from ${int(run.events)} events; wrote ${out}\n`,
    );
    io.stdout.write(`(apiwarden profile show ${out} prints them)\n`);
  }
  return 0;
}

export interface Recommendation {
  endpoint: string;
  scenario: string;
  /** Requests per minute per actor kind. */
  perMinute: Partial<Record<'ip' | 'token' | 'device', number>>;
  /** Distinct ids per 5 minutes per actor kind (id endpoints). */
  idsPer5Min: Partial<Record<'ip' | 'token' | 'device', number>>;
  confidence: number;
  borrowed: string[];
}

/** Recommended limits per endpoint: the per-endpoint thresholds, rounded up to whole requests. */
export function recommendations(p: Profile): Recommendation[] {
  const by = new Map<string, Recommendation>();
  for (const [name, f] of Object.entries(p.features)) {
    if (!f.perEndpoint) continue;
    const m = /^(rpm|ids_5m)_by_(ip|token|device)_endpoint$/.exec(name);
    if (m === null) continue;
    const kind = m[2] as 'ip' | 'token' | 'device';
    for (const [ep, t] of Object.entries(f.endpoints)) {
      let r = by.get(ep);
      if (r === undefined) {
        r = {
          endpoint: ep,
          scenario: t.scenario,
          perMinute: {},
          idsPer5Min: {},
          confidence: 1,
          borrowed: [],
        };
        by.set(ep, r);
      }
      const limit = Math.max(1, Math.ceil(t.threshold));
      if (m[1] === 'rpm') r.perMinute[kind] = limit;
      else r.idsPer5Min[kind] = limit;
      r.confidence = Math.min(r.confidence, t.confidence);
      if (t.borrowedFrom !== undefined && !r.borrowed.includes(t.borrowedFrom))
        r.borrowed.push(t.borrowedFrom);
    }
  }
  return [...by.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1));
}

const KIND_WORD = { ip: 'IP', token: 'token', device: 'device' } as const;

export function recommendationLine(r: Recommendation): string {
  const parts: string[] = [];
  const per = (o: Recommendation['perMinute'], unit: string) => {
    const ks = (['ip', 'token', 'device'] as const).filter((k) => o[k] !== undefined);
    if (ks.length === 0) return;
    parts.push(ks.map((k, i) => `${o[k]} ${i === 0 ? `${unit} per ` : 'per '}${KIND_WORD[k]}`).join(', '));
  };
  per(r.perMinute, 'req/min');
  per(r.idsPer5Min, 'distinct ids/5 min');
  const borrowed = r.borrowed.length > 0 ? ` (cold start: from ${r.borrowed.join(', ')})` : '';
  return `${terminalSafe(r.endpoint)}: ${parts.join('; ')}, confidence ${r.confidence.toFixed(2)}${borrowed}`;
}

async function showProfile(path: string, flags: ProfileFlags, io: Io): Promise<number> {
  const p = await loadProfileFile(path);
  let recs = recommendations(p);
  if (flags.endpoint !== undefined) recs = recs.filter((r) => r.endpoint.includes(flags.endpoint!));
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(recs, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(
    `profile learned ${new Date(p.from).toISOString()} .. ${new Date(p.to).toISOString()} (${p.periodMs / 60_000}-minute periods)\n`,
  );
  for (const r of recs) io.stdout.write(`${recommendationLine(r)}\n`);
  const pop = (name: string): Threshold | null => p.features[name]?.population ?? null;
  const extra: string[] = [];
  for (const [name, f] of Object.entries(p.features)) {
    if (f.perEndpoint) continue;
    const t = pop(name);
    if (t !== null) extra.push(`  ${name}: ${t.threshold} ${f.unit} (confidence ${t.confidence.toFixed(2)})`);
  }
  if (extra.length > 0) io.stdout.write(`per actor, every endpoint:\n${extra.join('\n')}\n`);
  const habitual = Object.values(p.habitual).reduce((n, h) => n + Object.keys(h).length, 0);
  if (habitual > 0)
    io.stdout.write(`${int(habitual)} habitual actor-features (judged against their own usual peak)\n`);
  return 0;
}
