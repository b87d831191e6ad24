/**
 * `apiwarden analyze`: traffic in, findings out (docs/output.md). Without --profile it reads the inputs twice:
 * first to learn the profile (thresholds, habitual actors) and the inventory, then to judge every event
 * against that profile through the same detection pipeline the live path runs. With --profile it judges in
 * one pass. Writes alerts.jsonl, incidents.jsonl, inventory.json, profile.json, summary.json, report.html.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ApiEvent } from '../core/event.js';
import { owned } from '../core/strings.js';
import { groupIncidents, type Incident } from '../detect/incidents.js';
import { ParamProfile, ParamProfiler, ParamScorer } from '../detect/params.js';
import { DetectionRun, type ProfilingOptions, ProfilingRun } from '../detect/run.js';
import type { Alert } from '../detect/types.js';
import { IntelStore } from '../enrich/intel.js';
import { Enricher, type FeatureEvent } from '../features/enrich.js';
import { Inventory, sensitiveResponseEndpoints } from '../inventory/catalog.js';
import { type Profile, readProfile } from '../profiling/profile.js';
import { decisionEvent, incidentEvent } from '../respond/notify.js';
import { Responder } from '../respond/workflow.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import type { EventSink } from '../sinks/types.js';
import { forEachStoredEvent } from './features.js';
import { int, terminalSafe } from './human.js';
import {
  CliError,
  cliConfig,
  humanSummary,
  type Io,
  type ParseFlags,
  type ParseSummary,
  parseInputs,
  readFlagFile,
} from './parse.js';
import { analysisReport } from './report-html.js';
import { openStateStore, sendNotifications } from './state.js';

export interface AnalyzeFlags extends ParseFlags {
  out?: string;
  profile?: string;
  store?: string;
  state?: string;
}

/** What the analysis read, for summary.json (a parse summary's fields, or the store's). */
interface ReadSummary {
  inputs: string[];
  format: string;
  events: number;
  malformed: number;
  firstEvent: string | null;
  lastEvent: string | null;
}

/**
 * Pass 1: enrich, learn the profile, the parameter profiles and the inventory. Also what `apiwarden demo` and
 * `serve --input` learn with; `onEnriched` sees each enriched event (they write it to the event store).
 */
export class LearnSink implements EventSink {
  readonly enricher: Enricher;
  readonly run: ProfilingRun;
  /** Learned from the traffic it judges: the profile is marked so, and no caller vouches for itself. */
  readonly params = new ParamProfiler({ selfTrained: true });
  private readonly perActor = new Map<string, number>();
  constructor(
    scanner: SensitiveScanner,
    readonly inventory: Inventory,
    options: ProfilingOptions = {},
    private readonly onEnriched?: (e: FeatureEvent) => void,
  ) {
    this.enricher = new Enricher(scanner);
    this.run = new ProfilingRun(options);
  }
  async write(events: readonly ApiEvent[]): Promise<void> {
    for (const e of events) {
      this.inventory.add(e);
      const fe = this.enricher.enrich(e);
      // Each actor's influence on the parameter profiles is bounded: its first few requests per endpoint. An
      // attack in the training range repeats itself (hundreds of guessed coupons from three accounts) and
      // would otherwise teach the profile that its values are normal.
      const k = `${e.token ?? e.user ?? e.ip}\u001f${fe.endpoint}`;
      const n = this.perActor.get(k) ?? 0;
      if (n < PARAM_SAMPLES_PER_ACTOR) {
        this.params.add(e);
        if (this.perActor.size < MAX_TRACKED) this.perActor.set(n === 0 ? owned(k) : k, n + 1);
      }
      this.run.push(fe);
      this.onEnriched?.(fe);
    }
  }
  async close(): Promise<void> {}
}

/** Pass 2: enrich, score parameters, judge. */
class DetectSink implements EventSink {
  readonly enricher: Enricher;
  /** Events per hour, for the report. */
  readonly hourly = new Map<number, number>();
  /** Request scores above 0, as JSON lines: {source, line, score, endpoint, reasons}. */
  readonly scores: string[] = [];
  constructor(
    scanner: SensitiveScanner,
    readonly run: DetectionRun,
    readonly inventory: Inventory | null,
    readonly scorer: ParamScorer | null,
  ) {
    this.enricher = new Enricher(scanner);
  }
  count(ts: number): void {
    const h = Math.floor(ts / 3_600_000) * 3_600_000;
    this.hourly.set(h, (this.hourly.get(h) ?? 0) + 1);
  }
  async write(events: readonly ApiEvent[]): Promise<void> {
    for (const e of events) {
      this.inventory?.add(e);
      this.count(e.ts);
      const fe = this.enricher.enrich(e);
      if (this.scorer === null) {
        this.run.push(fe);
        continue;
      }
      const r = this.scorer.score(e);
      if (r.score > 0 && this.scores.length < MAX_SCORE_LINES)
        this.scores.push(
          JSON.stringify({
            source: e.origin.source,
            line: e.origin.line,
            score: Math.round(r.score * 1e6) / 1e6,
            endpoint: r.endpoint,
            reasons: r.reasons
              .slice(0, 3)
              .map((x) => `${x.param} ${x.check}: ${x.observed} (expected ${x.expected})`),
          }),
        );
      this.run.push(fe, r);
    }
  }
  async close(): Promise<void> {}
}

export async function loadProfileFile(path: string): Promise<Profile> {
  const text = await readFlagFile(path, '--profile', ' (write one with apiwarden profile)');
  const r = readProfile(text);
  if (!r.ok) throw new CliError(`${path}: ${r.error}`, 2);
  return r.value;
}

/** Requests per actor and endpoint that train the parameter profiles (see LearnSink). */
const PARAM_SAMPLES_PER_ACTOR = 5;
const MAX_TRACKED = 4_000_000;

/** Request scores kept for request-scores.jsonl (the rest are counted, not written). */
const MAX_SCORE_LINES = 2_000_000;

const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

export async function runAnalyze(inputs: string[], flags: AnalyzeFlags, io: Io): Promise<number> {
  const dir = flags.out;
  if (dir === undefined || dir === '' || dir === '-')
    throw new CliError(
      '--out DIR is required (alerts.jsonl, incidents.jsonl, report.html … are written there)',
      2,
    );
  if (flags.store !== undefined && inputs.length > 0)
    throw new CliError('give inputs or --store, not both', 2);
  const args = inputs.length === 0 ? ['-'] : inputs;
  if (flags.store === undefined && flags.profile === undefined && args.includes('-'))
    throw new CliError(
      'analyze reads its input twice (learn the profile, then judge): give files, or a profile with --profile',
      2,
    );
  const config = await cliConfig(flags.config, { rules: true });
  const sensitive = config.sensitive;
  let intel: IntelStore | null = null;
  if (config.intel.sources.length > 0) {
    intel = await IntelStore.open(config.intel, { baseDir: dirname(resolve(flags.config ?? '.')) });
    intel.close(); // one snapshot of the lists for a replay: no refresh timer
    for (const st of intel.status())
      if (!st.healthy && !flags.quiet) io.stderr.write(`intel ${st.name}: ${st.lastError ?? 'not loaded'}\n`);
  }
  const started = performance.now();
  const given = flags.profile === undefined ? null : await loadProfileFile(flags.profile);
  await mkdir(dir, { recursive: true });
  const parseFlags: ParseFlags = {
    ...flags,
    out: undefined,
    json: false,
    quarantine: flags.quarantine ?? join(dir, 'quarantine.jsonl'),
    captureHeaders: true,
    captureBodies: true,
  };
  // One scanner for the inventory and the enricher: each event's bodies are scanned once (scanEvent keeps
  // the last event's result).
  const scanner = new SensitiveScanner(sensitive);
  const inventory = new Inventory({ scanner });
  let profile: Profile;
  let learnSummary: ParseSummary | null = null;
  if (given === null && flags.store !== undefined) {
    // The store keeps enriched events: thresholds and models are learned; parameter profiles need bodies.
    if (!flags.quiet) io.stderr.write(`pass 1 of 2: learning the profile from the store ${flags.store}\n`);
    const learn = new ProfilingRun(intel === null ? {} : { intel });
    await forEachStoredEvent(flags.store, (e) => learn.push(e));
    profile = learn.build();
  } else if (given === null) {
    if (!flags.quiet) io.stderr.write('pass 1 of 2: learning the profile and the inventory\n');
    const learn = new LearnSink(scanner, inventory, intel === null ? {} : { intel });
    learnSummary = await parseInputs(args, parseFlags, io, learn);
    profile = learn.run.build();
    profile.params = learn.params.finish().toJSON();
  } else profile = given;
  let scorer: ParamScorer | null = null;
  if (profile.params !== undefined) {
    try {
      scorer = new ParamScorer(ParamProfile.fromJSON(profile.params));
    } catch (e) {
      throw new CliError(`${flags.profile ?? 'profile'}: params: ${(e as Error).message}`, 2);
    }
  }
  const learnedSec = (performance.now() - started) / 1000;
  if (!flags.quiet) io.stderr.write(given === null ? 'pass 2 of 2: detection\n' : 'detection\n');
  const run = new DetectionRun(profile, {
    rules: config.detection.rules,
    ...(intel === null ? {} : { intel }),
  });
  const detect = new DetectSink(scanner, run, given === null ? null : inventory, scorer);
  let parsed: ParseSummary | null = null;
  let summary: ReadSummary;
  if (flags.store !== undefined) {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    const n = await forEachStoredEvent(flags.store, (e) => {
      if (e.ts < first) first = e.ts;
      if (e.ts > last) last = e.ts;
      detect.count(e.ts);
      run.push(e);
    });
    summary = {
      inputs: [flags.store],
      format: 'store',
      events: n,
      malformed: 0,
      firstEvent: n === 0 ? null : new Date(first).toISOString(),
      lastEvent: n === 0 ? null : new Date(last).toISOString(),
    };
  } else {
    parsed = await parseInputs(
      args,
      { ...parseFlags, quarantine: given === null ? 'none' : parseFlags.quarantine },
      io,
      detect,
    );
    summary = parsed;
  }
  const alerts = run.finish();
  const inv = inventory.report();
  // Severity in context: the endpoint's scenario and whether its responses carry sensitive data.
  const answersSensitive = sensitiveResponseEndpoints(inv);
  const incidents = groupIncidents(alerts, {
    links: run.links(alerts.flatMap((a) => a.actors)),
    scenarioOf: run.ctx.scenarioOf,
    sensitiveOf: (ep) => answersSensitive.has(ep),
  });
  const totalSec = (performance.now() - started) / 1000;
  const stats = run.stats();
  const out = {
    kind: 'apiwarden-analysis',
    version: 1,
    inputs: summary.inputs,
    format: summary.format,
    events: summary.events,
    malformed: summary.malformed,
    firstEvent: summary.firstEvent,
    lastEvent: summary.lastEvent,
    actors: {
      ...stats.actors,
      total: stats.actors.ip + stats.actors.token + stats.actors.device + stats.actors.user,
    },
    endpoints: inv.endpoints.length,
    profile: given === null ? 'learned from the inputs (pass 1)' : flags.profile,
    alerts: countBy(alerts, (a) => a.type),
    endpointAnomalies: countBy(run.anomalies(), (a) => `${a.metric}_${a.direction}`),
    verifiedCrawlers: { addresses: stats.verifiedCrawlers, findingsSetAside: stats.verifiedCrawlerFindings },
    incidents: countBy(incidents, (i) => i.type),
    severities: countBy(incidents, (i) => i.severity),
    seconds: { learn: round(learnedSec), total: round(totalSec) },
    eventsPerSec: Math.round((summary.events * (given === null ? 2 : 1)) / Math.max(totalSec, 1e-9)),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  await writeFile(join(dir, 'alerts.jsonl'), jsonl(alerts));
  await writeFile(join(dir, 'incidents.jsonl'), jsonl(incidents));
  await writeFile(join(dir, 'anomalies.jsonl'), jsonl(run.anomalies()));
  await writeFile(
    join(dir, 'request-scores.jsonl'),
    detect.scores.length === 0 ? '' : `${detect.scores.join('\n')}\n`,
  );
  await writeFile(join(dir, 'inventory.json'), `${JSON.stringify(inv, null, 2)}\n`);
  await writeFile(join(dir, 'profile.json'), `${JSON.stringify(profile, null, 2)}\n`);
  await writeFile(join(dir, 'summary.json'), `${JSON.stringify(out, null, 2)}\n`);
  await writeFile(
    join(dir, 'report.html'),
    analysisReport({
      summary: out,
      alerts,
      incidents,
      anomalies: run.anomalies(),
      hourly: [...detect.hourly].sort((a, b) => a[0] - b[0]),
    }),
  );
  let response: { created: number; updated: number; decisions: number; active: number } | null = null;
  if (flags.state !== undefined) {
    // The response stage: incidents into the state, the policy's decisions, notifications (docs/operations.md).
    const store = await openStateStore(flags.state);
    try {
      const r = await new Responder(store, { policy: config.response, profile }).ingest(incidents, 'analyze');
      response = {
        created: r.created.length,
        updated: r.updated.length,
        decisions: r.decisions.length,
        active: r.decisions.filter((d) => d.status === 'active').length,
      };
      await sendNotifications(
        config,
        [
          ...r.created.map((i) => incidentEvent(i, 'incident.new')),
          ...r.updated.map((i) => incidentEvent(i, 'incident.updated')),
          ...r.decisions.map((d) => decisionEvent(d, 'decision.new')),
        ],
        io,
      );
    } finally {
      await store.close();
    }
  }
  if (flags.json)
    io.stdout.write(
      `${JSON.stringify({ parse: learnSummary ?? parsed, ...out, ...(response === null ? {} : { response }) })}\n`,
    );
  else if (!flags.quiet) {
    if (parsed !== null) io.stderr.write(humanSummary(parsed));
    io.stdout.write(incidentTable(incidents, alerts));
    io.stdout.write(
      `\n${int(alerts.length)} alerts, ${int(incidents.length)} incidents from ${int(summary.events)} events in ${totalSec.toFixed(1)} s; wrote ${dir}/{alerts.jsonl,incidents.jsonl,anomalies.jsonl,request-scores.jsonl,inventory.json,profile.json,summary.json,report.html}\n`,
    );
    if (response !== null)
      io.stdout.write(
        `state ${flags.state}: ${int(response.created)} new incidents, ${int(response.updated)} updated; ${int(response.decisions)} decisions (${int(response.active)} applied, ${int(response.decisions - response.active)} waiting for approval)\n`,
      );
  }
  return 0;
}

function countBy<T>(xs: readonly T[], f: (x: T) => string): Record<string, number> {
  const o: Record<string, number> = {};
  for (const x of xs) o[f(x)] = (o[f(x)] ?? 0) + 1;
  return o;
}

const round = (v: number) => Math.round(v * 10) / 10;

function incidentTable(incidents: readonly Incident[], _alerts: readonly Alert[]): string {
  if (incidents.length === 0) return 'no incidents\n';
  const lines = ['severity  type                 actors  detected (UTC)       explanation'];
  for (const i of incidents.slice(0, 40)) {
    lines.push(
      `${i.severity.padEnd(9)} ${i.type.padEnd(20)} ${String(i.actors.length).padStart(6)}  ${new Date(i.detectedTs).toISOString().slice(0, 19).replace('T', ' ')}  ${terminalSafe(i.explanation).slice(0, 110)}`,
    );
  }
  if (incidents.length > 40) lines.push(`… and ${incidents.length - 40} more (incidents.jsonl)`);
  return `${lines.join('\n')}\n`;
}
