/**
 * `apiwarden analyze` end to end. Run: `npm run bench:analyze [-- --users U --hours H --seed S --keep]`.
 *
 * Simulates traffic (default: 24 h of 62,000 customers, all campaigns: about 1.0 M requests) to an APISIX log
 * in a temporary directory, then runs the real CLI (`bin/apiwarden.js analyze`) on it as a child process:
 * both passes (learn the profile, judge every event), parsing, enrichment, sensitive-data scanning, parameter
 * scoring, every detector, and the output files. Events/s counts each event once (events / wall seconds of the
 * whole command). Peak RSS is the child's maximum resident set (the analysis reports it in summary.json).
 * Then `apiwarden eval` scores the incidents against the labels. Prints one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg } from './args.js';

const users = arg('--users', '62000');
const hours = arg('--hours', '24');
const seed = arg('--seed', '1');
const keep = process.argv.includes('--keep');
const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'apiwarden.js');

function run(args: string[]): { sec: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`apiwarden ${args[0]} failed (${r.status}): ${r.stderr}`);
  return { sec: (performance.now() - t) / 1000, stdout: r.stdout };
}

const dir = await mkdtemp(join(tmpdir(), 'aw-bench-analyze-'));
try {
  const sim = join(dir, 'sim');
  const out = join(dir, 'out');
  const s = run([
    'simulate',
    '--out',
    sim,
    '--users',
    users,
    '--hours',
    hours,
    '--seed',
    seed,
    '--formats',
    'apisix',
    '--quiet',
  ]);
  const input = join(sim, 'apisix.jsonl');
  process.stderr.write(`simulated in ${s.sec.toFixed(1)} s\n`);
  const a = run(['analyze', input, '--out', out, '--quiet']);
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  const e = run([
    'eval',
    '--labels',
    join(sim, 'labels.json'),
    '--incidents',
    join(out, 'incidents.jsonl'),
    '--json',
  ]);
  const ev = JSON.parse(e.stdout);
  process.stdout.write(
    `${JSON.stringify(
      {
        node: process.version,
        options: { users: Number(users), hours: Number(hours), seed: Number(seed) },
        input: { events: summary.events, bytes: (await stat(input)).size },
        analyze: {
          wallSec: Math.round(a.sec * 10) / 10,
          learnSec: summary.seconds.learn,
          eventsPerSec: Math.round(summary.events / a.sec),
          peakRssBytes: summary.peakRssBytes,
          alerts: summary.alerts,
          incidents: summary.incidents,
        },
        eval: {
          campaigns: ev.campaigns.map(
            (c: {
              id: string;
              detected: boolean;
              typeMatched: boolean;
              recall: number;
              latencyMs: number | null;
            }) => ({
              id: c.id,
              detected: c.detected,
              typeMatched: c.typeMatched,
              recall: Math.round(c.recall * 1000) / 1000,
              latencyMin: c.latencyMs === null ? null : Math.round(c.latencyMs / 6000) / 10,
            }),
          ),
          benignFlagged: ev.benign.flagged,
          benignShare: ev.benign.share,
          forgedRocAuc: ev.forged?.rocAuc ?? null,
        },
        output: keep ? out : null,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  if (!keep) await rm(dir, { recursive: true, force: true });
}
