/**
 * Side by side with CrowdSec. Run: `npm run bench:crowdsec [-- --users U --seed S --hours H --dir DIR]`.
 *
 * Simulates a day of the shop (combined format, labelled), replays its access.log through CrowdSec in
 * time-machine mode (scripts/crowdsec/replay.sh: offline, no Central API, the nginx collection from the hub
 * snapshot the Debian package ships), turns CrowdSec's alerts into apiwarden incidents and scores them with
 * our `evaluate` (the code behind `apiwarden eval`); then runs `apiwarden analyze` on the same file, when the
 * CLI has it, and scores that too. Prints one JSON object on stdout (progress on stderr); see bench/README.md.
 *
 * Needs the `crowdsec` package (Debian/Ubuntu: `apt-get install crowdsec`). A bench, not a test: CrowdSec
 * replays a few hundred lines a second here, so the default day (~250 k lines) takes about ten minutes.
 */
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_USERS, simulateOptions } from '../src/cli/simulate.js';
import type { AnomalyType } from '../src/detect/types.js';
import { type EvalResult, evaluate, type IncidentLike, type LabelsFile } from '../src/eval/eval.js';
import { Simulation, writeSimulation } from '../src/simulate/simulate.js';
import { arg } from './args.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)); // dist/bench/crowdsec.js → the repository
const REPLAY = join(ROOT, 'scripts', 'crowdsec', 'replay.sh');
const CLI = join(ROOT, 'bin', 'apiwarden.js');

const users = arg('--users', String(DEFAULT_USERS));
const seed = arg('--seed', '1');
const hours = arg('--hours', '24');
const routines = arg('--routines', '1');
const simDir = arg('--sim', '');
const keepDir = arg('--dir', '');

const say = (s: string) => process.stderr.write(`bench:crowdsec: ${s}\n`);
class BenchError extends Error {}
const fail = (s: string): never => {
  throw new BenchError(s);
};

/**
 * CrowdSec scenario → the apiwarden anomaly type it stands for (rough: CrowdSec's HTTP scenarios are about
 * scanners, crawlers and brute force; everything else it has is a rate limit).
 */
export function crowdsecType(scenario: string): AnomalyType {
  const s = scenario.toLowerCase().replace(/^[^/]*\//, '');
  if (s === 'http-crawl-non_statics') return 'crawler';
  if (/(^|[-_])(slow-)?bf$|brute/.test(s)) return 'credential_stuffing'; // ssh-bf, ssh-slow-bf, http-generic-bf
  if (
    s === 'http-bad-user-agent' ||
    /probing|sensitive-files|backdoors|w00tw00t|open-proxy|traversal|sqli|xss|cve|vmsa|log4j|spring4shell/.test(
      s,
    )
  )
    return 'scanner';
  return 'high_frequency'; // nginx-req-limit-exceeded, and anything else
}

interface CrowdsecAlert {
  id: number;
  scenario: string;
  source: { scope: string; value: string; ip?: string };
  start_at: string;
  stop_at: string;
  events_count: number;
}

/** CrowdSec's `2026-03-02 22:54:29 +0000 UTC` (Go's time.String) → epoch ms. */
export function goTime(s: string): number {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d)(\d\d)/.exec(s);
  const t = m === null ? Date.parse(s) : Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return t;
}

/** One incident per (source IP, scenario): first and last overflow, alert and event counts. */
export function crowdsecIncidents(alerts: readonly CrowdsecAlert[]): {
  incidents: (IncidentLike & Record<string, unknown>)[];
  skipped: number;
} {
  const groups = new Map<string, CrowdsecAlert[]>();
  let skipped = 0;
  for (const a of alerts) {
    if (a.source?.scope?.toLowerCase() !== 'ip' || typeof a.source.value !== 'string') {
      skipped++;
      continue;
    }
    const k = `${a.source.value}|${a.scenario}`;
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [a]);
    else g.push(a);
  }
  const incidents: (IncidentLike & Record<string, unknown>)[] = [];
  for (const g of groups.values()) {
    const first = g[0]!;
    const type = crowdsecType(first.scenario);
    const starts = g.map((a) => goTime(a.start_at));
    const stops = g.map((a) => goTime(a.stop_at));
    incidents.push({
      id: '',
      type,
      types: [type],
      source: 'crowdsec',
      scenario: first.scenario,
      actors: [{ kind: 'ip', value: first.source.value }],
      firstEventTs: Math.min(...starts),
      detectedTs: Math.min(...stops),
      lastEventTs: Math.max(...stops),
      alerts: g.length,
      requests: g.reduce((n, a) => n + (a.events_count ?? 0), 0),
    });
  }
  incidents.sort((a, b) => a.detectedTs - b.detectedTs);
  incidents.forEach((inc, i) => {
    inc.id = `crowdsec-${i + 1}`;
  });
  return { incidents, skipped };
}

/** The same labels with every actor but the IPs removed: what an IP-only detector can find at best. */
function ipOnly(labels: LabelsFile): LabelsFile {
  const strip = (a: LabelsFile['campaigns'][number]['actors']) => ({
    ips: a.ips,
    tokens: [],
    users: [],
    devices: [],
  });
  return {
    ...labels,
    campaigns: labels.campaigns.map((c) => ({ ...c, actors: strip(c.actors) })),
    benign: labels.benign?.map((b) => ({ ...b, actors: strip(b.actors) })),
  };
}

const r3 = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);

/** A compact view of `evaluate`'s result, with the IP-only recall next to the full one. */
function compactEval(full: EvalResult, ips: EvalResult) {
  const byId = new Map(ips.campaigns.map((c) => [c.id, c]));
  const campaigns: Record<string, unknown> = {};
  for (const c of full.campaigns) {
    const i = byId.get(c.id);
    campaigns[c.id] = {
      detected: c.detected,
      typeMatched: c.typeMatched,
      expectedType: c.expectedType,
      actors: c.actors,
      found: c.found,
      recall: r3(c.recall),
      ipActors: i?.actors ?? 0,
      ipFound: i?.found ?? 0,
      ipRecall: r3(i?.recall ?? null),
      latencyMin: c.latencyMs === null ? null : Math.round(c.latencyMs / 600) / 100,
      types: c.types,
    };
  }
  return {
    detected: `${full.campaigns.filter((c) => c.detected).length}/${full.campaigns.length}`,
    typeMatched: `${full.campaigns.filter((c) => c.typeMatched).length}/${full.campaigns.length}`,
    campaigns,
    benign: {
      flagged: full.benign.flagged,
      of: full.benign.actors,
      share: r3(full.benign.share),
      byGroup: full.benign.byGroup,
      examples: full.benign.examples.slice(0, 5),
    },
  };
}

async function scanLog(path: string): Promise<{ lines: number; bytes: number; ips: Set<string> }> {
  const ips = new Set<string>();
  let lines = 0;
  let bytes = 0;
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    lines++;
    bytes += Buffer.byteLength(line) + 1;
    const sp = line.indexOf(' ');
    if (sp > 0) ips.add(line.slice(0, sp));
  }
  return { lines, bytes, ips };
}

function crowdsecVersion(): string {
  const r = spawnSync('crowdsec', ['-version'], { encoding: 'utf8' });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    fail(
      code === 'ENOENT'
        ? 'crowdsec is not installed (no `crowdsec` on PATH). Debian/Ubuntu: `apt-get install crowdsec` ' +
            '(bookworm has 1.4.6; to install without registering to the Central API, first ' +
            '`mkdir -p /etc/crowdsec && echo "# no thanks" > /etc/crowdsec/online_api_credentials.yaml`). See bench/README.md.'
        : `cannot run crowdsec: ${r.error.message}`,
    );
  }
  if (spawnSync('cscli', ['version'], { encoding: 'utf8' }).error !== undefined)
    fail(
      'cscli is not on PATH: the crowdsec package looks incomplete (apt-get install --reinstall crowdsec)',
    );
  return /version:\s*(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

async function main(): Promise<void> {
  const version = crowdsecVersion();
  if (!existsSync(REPLAY)) fail(`missing ${REPLAY}`);
  const notes: string[] = [];
  const work = keepDir === '' ? mkdtempSync(join(tmpdir(), 'aw-bench-crowdsec-')) : resolve(keepDir);
  mkdirSync(work, { recursive: true });
  let ok = false;
  try {
    // 1. The traffic.
    const sim = simDir === '' ? join(work, 'sim') : resolve(simDir);
    let simulated: Record<string, unknown> | null = null;
    if (simDir === '') {
      const o = simulateOptions({ out: sim, users, seed, hours, formats: 'combined' });
      say(`simulating ${o.sim.hours} h, ${o.sim.users} customers, seed ${o.sim.seed} into ${sim}`);
      const s = await writeSimulation(new Simulation(o.sim), {
        dir: sim,
        formats: ['combined'],
        gzip: false,
      });
      simulated = {
        hours: s.hours,
        users: s.users,
        seed: s.seed,
        requests: s.requests,
        byCampaign: s.byCampaign,
      };
    } else {
      notes.push(`traffic from --sim ${sim} (not simulated by this run)`);
    }
    const log = join(sim, 'access.log');
    const labelsPath = join(sim, 'labels.json');
    if (!existsSync(log) || !existsSync(labelsPath)) fail(`${sim} has no access.log and labels.json`);
    const labels = readJson<LabelsFile>(labelsPath);
    const scan = await scanLog(log);
    const attackKeys = new Set<string>();
    for (const c of labels.campaigns) {
      for (const v of c.actors.ips) attackKeys.add(`ip:${v}`);
      for (const v of c.actors.tokens) attackKeys.add(`token:${v}`);
      for (const v of c.actors.users) attackKeys.add(`user:${v}`);
      for (const v of c.actors.devices) attackKeys.add(`device:${v}`);
    }
    const attackIps = [...attackKeys].filter((k) => k.startsWith('ip:')).length;
    // CrowdSec only names IPs: its benign share is over the log's IPs that no campaign owns.
    const seenForIps = scan.ips.size + (attackKeys.size - attackIps);

    // 2. CrowdSec.
    say(`replaying ${scan.lines} lines through CrowdSec ${version} (this takes a while)`);
    const csDir = join(work, 'crowdsec');
    const t0 = performance.now();
    const rep = spawnSync('bash', [REPLAY, '--dir', csDir, '--routines', routines, log], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 << 20,
    });
    const replaySec = (performance.now() - t0) / 1000;
    if (rep.status !== 0)
      fail(`scripts/crowdsec/replay.sh failed (exit ${rep.status}); its work dir: ${csDir}`);
    const replay = readJson<{
      version: string;
      lines: number;
      agentSec: number;
      alerts: number;
      parserRoutines: number;
      items: Record<string, string[]>;
    }>(join(csDir, 'replay.json'));
    const alerts = readJson<CrowdsecAlert[] | null>(join(csDir, 'alerts.json')) ?? [];
    const { incidents: csIncidents, skipped } = crowdsecIncidents(alerts);
    if (skipped > 0) notes.push(`${skipped} CrowdSec alerts not scoped to an IP were left out`);
    writeFileSync(join(csDir, 'incidents.jsonl'), csIncidents.map((i) => `${JSON.stringify(i)}\n`).join(''));
    const byScenario: Record<string, number> = {};
    for (const a of alerts) byScenario[a.scenario] = (byScenario[a.scenario] ?? 0) + 1;
    const csEval = evaluate(labels, csIncidents, seenForIps);
    const csEvalIp = evaluate(ipOnly(labels), csIncidents, scan.ips.size);
    writeFileSync(join(csDir, 'eval.json'), `${JSON.stringify(csEval, null, 2)}\n`);
    const { dataFiles, ...items } = replay.items;
    if (dataFiles !== undefined && dataFiles.length > 0)
      notes.push(`CrowdSec data files fixed up from the package's copies: ${dataFiles.join('; ')}`);
    const crowdsec = {
      version: replay.version,
      items: { ...items, scenarioCount: items.scenarios?.length ?? 0 },
      parserRoutines: replay.parserRoutines,
      lines: replay.lines,
      agentSec: replay.agentSec,
      linesPerSec: Math.round(replay.lines / replay.agentSec),
      replayWallSec: Math.round(replaySec * 10) / 10,
      alerts: alerts.length,
      alertsByScenario: byScenario,
      incidents: csIncidents.length,
      ipsFlagged: new Set(csIncidents.map((i) => i.actors[0]!.value)).size,
      eval: compactEval(csEval, csEvalIp),
    };

    // 3. apiwarden analyze on the same file, when the CLI has it.
    let apiwarden: Record<string, unknown> | null = null;
    const help = spawnSync(process.execPath, [CLI, 'analyze', '--help'], { encoding: 'utf8' });
    if (help.status !== 0 || !help.stdout.includes('analyze')) {
      notes.push(
        `apiwarden analyze skipped: \`apiwarden analyze --help\` failed (${(help.stderr || help.stdout).trim().split('\n')[0]})`,
      );
    } else {
      const awDir = join(work, 'apiwarden');
      say(`running apiwarden analyze on the same ${scan.lines} lines`);
      const a0 = performance.now();
      const an = spawnSync(
        process.execPath,
        [CLI, 'analyze', log, '--out', awDir, '--json', '--no-progress', '--quarantine', 'none'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
      );
      const wallSec = (performance.now() - a0) / 1000;
      if (an.status !== 0 || !existsSync(join(awDir, 'incidents.jsonl'))) {
        notes.push(`apiwarden analyze failed (exit ${an.status}): not scored`);
      } else {
        const summary = readJson<{ events?: number; eventsPerSec?: number; actors?: { total?: number } }>(
          join(awDir, 'summary.json'),
        );
        const incidents = readFileSync(join(awDir, 'incidents.jsonl'), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as IncidentLike);
        const seen = summary.actors?.total ?? null;
        const awEval = evaluate(labels, incidents, seen);
        const awEvalIp = evaluate(ipOnly(labels), incidents, null); // only its campaign recall is used
        writeFileSync(join(awDir, 'eval.json'), `${JSON.stringify(awEval, null, 2)}\n`);
        apiwarden = {
          command: 'apiwarden analyze access.log --out DIR --json --no-progress --quarantine none',
          wallSec: Math.round(wallSec * 10) / 10,
          linesPerSec: Math.round(scan.lines / wallSec),
          eventsPerSec: summary.eventsPerSec ?? null,
          events: summary.events ?? null,
          incidents: incidents.length,
          eval: compactEval(awEval, awEvalIp),
        };
      }
    }

    notes.push(
      'crowdsec.linesPerSec = lines / wall seconds of the time-machine agent alone (crowdsec -dsn … -no-api, its ' +
        'start-up and shutdown of ~2-3 s included; the local API it pushes alerts to runs in a separate process; ' +
        'install, set-up and listing excluded); apiwarden.linesPerSec = lines / wall seconds of `apiwarden analyze`, ' +
        'which reads the file twice (learn, then judge; eventsPerSec counts both passes)',
      'scenario → type: http-crawl-non_statics → crawler; *-bf (ssh-bf, ssh-slow-bf, http-generic-bf) → ' +
        'credential_stuffing; http-bad-user-agent, http-probing, http-sensitive-files, http-path-traversal-probing, ' +
        'http-sqli-probing, http-xss-probing, http-backdoors-attempts, http-w00tw00t, http-open-proxy and the CVE ' +
        'scenarios → scanner; anything else (nginx-req-limit-exceeded) → high_frequency. One incident per (IP, ' +
        'scenario): detectedTs = its first overflow (stop_at of the earliest alert, log time)',
      'recall counts every actor of a campaign (IPs, tokens, users, devices); CrowdSec only names IPs, so ipRecall ' +
        '(the same evaluation with the labels cut down to IPs) is the fair figure for it. benign.of: CrowdSec = IPs in ' +
        'the log that no campaign owns; apiwarden = all its actors (summary.json) minus the campaigns',
    );
    if (keepDir === '') notes.push('work files were in a temp dir, removed: pass --dir DIR to keep them');
    else
      notes.push(`work files kept in ${work} (crowdsec/alerts.json, crowdsec/incidents.jsonl, */eval.json)`);

    const cpu = cpus();
    process.stdout.write(
      `${JSON.stringify(
        {
          machine: { node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model ?? null },
          options: {
            users: Number(users),
            seed: Number(seed),
            hours: Number(hours),
            routines: Number(routines),
          },
          input: {
            lines: scan.lines,
            bytes: scan.bytes,
            distinctIps: scan.ips.size,
            campaigns: labels.campaigns.length,
            simulated,
          },
          crowdsec,
          apiwarden,
          notes,
        },
        null,
        2,
      )}\n`,
    );
    ok = true;
  } finally {
    if (keepDir === '' && ok) rmSync(work, { recursive: true, force: true });
    else if (!ok) say(`work files left in ${work} for a look`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main();
  } catch (e) {
    if (!(e instanceof BenchError)) throw e;
    say(e.message);
    process.exitCode = 1;
  }
}
