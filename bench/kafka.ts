/**
 * Kafka throughput and latency. Run: `npm run bench:kafka [-- --hours H --users U --seed S --rounds N]`.
 * Needs Java 17+ and the broker's jars (scripts/kafka/fetch.sh) and a PostgreSQL server
 * (APIWARDEN_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test: a database is created per run).
 *
 * - Starts a real broker (scripts/kafka/start.sh, free ports, a temp data dir), simulates traffic (APISIX JSON
 *   lines), learns a profile with `apiwarden analyze`.
 * - Throughput, in-process: `apiwarden analyze --profile` over the file (one pass: events / wall seconds).
 * - Throughput, Kafka, 1 and 2 workers (`apiwarden worker` child processes, --segment 0): the whole file is
 *   produced to a 2-partition input topic with an end marker first, then the workers start; events/s =
 *   lines / seconds from the first routed record to the stored incidents (worker start-up not counted).
 * - Latency through Kafka (2 workers, already running): the file cut into `--rounds` stretches, each closed by
 *   an end marker; the deciding record is the end marker (it completes the stretch's evidence): time from its
 *   produce call returning to the stretch's incidents stored in PostgreSQL (the incident stage's stats line,
 *   printed every 50 ms, says so). p50 / p99 over the rounds.
 * Prints one JSON object.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import pg from 'pg';
import { fixTaggedFields } from '../src/kafka/client.js';
import { CONTROL_HEADER } from '../src/kafka/topology.js';
import { arg } from './args.js';

fixTaggedFields();
const users = arg('--users', '1500');
const hours = arg('--hours', '6');
const seed = arg('--seed', '1');
const rounds = Number(arg('--rounds', '20'));
const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'apiwarden.js');
const PG = process.env.APIWARDEN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(args: string[]): { sec: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`apiwarden ${args[0]} failed (${r.status}): ${r.stderr}`);
  return { sec: (performance.now() - t) / 1000, stdout: r.stdout };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function database(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `aw_bench_${tag}_${process.pid}`;
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(PG);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: PG });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

interface Proc {
  child: ChildProcess;
  stats: Record<string, number>;
  log: { at: number; stats: Record<string, number> }[];
  started: Promise<void>;
}

function worker(name: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [cli, 'worker', '--client-id', name, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const p: Proc = { child, stats: {}, log: [], started: Promise.resolve() };
  let buf = '';
  let err = '';
  p.started = new Promise((resolve, reject) => {
    child.on('exit', (c) => reject(new Error(`worker exited ${c}: ${err}`)));
    child.stderr!.on('data', (b: Buffer) => {
      buf += b.toString();
      err += b.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{"worker"')) {
          const j = JSON.parse(line);
          p.stats = j.worker;
          p.log.push({ at: j.at, stats: j.worker });
        } else if (line.includes(': stages')) resolve();
        nl = buf.indexOf('\n');
      }
    });
  });
  return p;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const dir = await mkdtemp(join(tmpdir(), 'aw-bench-kafka-'));
const dataDir = join(dir, 'kafka');
let bootstrap = '';
const procs: Proc[] = [];
const dbs: { drop: () => Promise<void> }[] = [];
try {
  const st = spawnSync(
    join(root, 'scripts', 'kafka', 'start.sh'),
    [
      '--data-dir',
      dataDir,
      '--port',
      'auto',
      '--controller-port',
      'auto',
      '--watch-pid',
      String(process.pid),
    ],
    { encoding: 'utf8' },
  );
  if (st.status !== 0) throw new Error(`scripts/kafka/start.sh failed: ${st.stdout}${st.stderr}`);
  bootstrap = /bootstrap=(\S+)/.exec(st.stdout)![1]!;
  const sim = join(dir, 'sim');
  run([
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
  run(['analyze', input, '--out', join(dir, 'learned'), '--quiet']);
  const profile = join(dir, 'learned', 'profile.json');
  const judged = run(['analyze', input, '--profile', profile, '--out', join(dir, 'judged'), '--quiet']);
  const summary = JSON.parse(await readFile(join(dir, 'judged', 'summary.json'), 'utf8'));
  const lines = (await readFile(input, 'utf8')).split('\n').filter((l) => l !== '');
  const inProcess = {
    events: lines.length,
    seconds: judged.sec,
    eventsPerSec: Math.round(lines.length / judged.sec),
  };

  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: [bootstrap] });
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: [bootstrap], acks: ProduceAcks.ALL });
  const topic = async (name: string) => {
    await admin.createTopics({ topics: [name], partitions: 2, replicas: 1 });
    await sleep(500);
  };
  const produce = async (name: string, ls: readonly string[]) => {
    let batch: { topic: string; partition: number; value: Buffer }[] = [];
    let bytes = 0;
    for (const l of ls) {
      const ip = (JSON.parse(l) as { client_ip: string }).client_ip;
      let h = 0;
      for (let j = 0; j < ip.length; j++) h = (h * 31 + ip.charCodeAt(j)) >>> 0;
      batch.push({ topic: name, partition: h % 2, value: Buffer.from(l) });
      bytes += l.length;
      if (bytes > 400_000) {
        await producer.send({ messages: batch });
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length > 0) await producer.send({ messages: batch });
  };
  const end = (name: string) =>
    producer.send({
      messages: [0, 1].map((p) => ({
        topic: name,
        partition: p,
        value: Buffer.from('end'),
        headers: new Map([[Buffer.from(CONTROL_HEADER), Buffer.from('end')]]),
      })),
    });
  const args = (name: string, extra: string[] = []) => [
    '--brokers',
    bootstrap,
    '--topic',
    name,
    '--group',
    name,
    '--prefix',
    `aw-${name}`,
    '--format',
    'apisix',
    '--profile',
    profile,
    '--partitions',
    '4',
    '--segment',
    '0',
    '--stats-every',
    '50ms',
    ...extra,
  ];

  const throughput: Record<string, unknown> = {};
  for (const n of [1, 2]) {
    const name = `tp${n}`;
    await topic(name);
    await produce(name, lines);
    await end(name);
    const db = await database(name);
    dbs.push(db);
    const ws = Array.from({ length: n }, (_, i) =>
      worker(`${name}-${i}`, args(name), { DATABASE_URL: db.url }),
    );
    procs.push(...ws);
    await Promise.all(ws.map((w) => w.started));
    await until(() => ws.some((w) => (w.stats.segmentsStored ?? 0) >= 1), 600_000, `${name} to store`);
    const first = Math.min(
      ...ws.flatMap((w) => w.log.filter((l) => (l.stats.routed ?? 0) > 0).map((l) => l.at)),
    );
    const done = Math.min(
      ...ws.flatMap((w) => w.log.filter((l) => (l.stats.segmentsStored ?? 0) >= 1).map((l) => l.at)),
    );
    const sec = (done - first) / 1000;
    throughput[`workers${n}`] = {
      events: lines.length,
      seconds: Math.round(sec * 10) / 10,
      eventsPerSec: Math.round(lines.length / sec),
    };
    for (const w of ws) w.child.kill('SIGTERM');
  }

  // Latency: two workers running; stretches closed by end markers.
  const name = 'lat';
  await topic(name);
  const db = await database(name);
  dbs.push(db);
  const ws = [0, 1].map((i) => worker(`${name}-${i}`, args(name), { DATABASE_URL: db.url }));
  procs.push(...ws);
  await Promise.all(ws.map((w) => w.started));
  const stored = () => ws.reduce((s, w) => s + (w.stats.segmentsStored ?? 0), 0);
  const per = Math.ceil(lines.length / rounds);
  const latencies: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await produce(name, lines.slice(r * per, (r + 1) * per));
    await sleep(300);
    const before = stored();
    await end(name);
    const t = Date.now();
    await until(() => stored() > before, 60_000, `round ${r}`);
    latencies.push(Date.now() - t);
  }
  await admin.close();
  await producer.close();
  console.log(
    JSON.stringify({
      bench: 'kafka',
      machine: '2 cores, shared',
      traffic: {
        users: Number(users),
        hours: Number(hours),
        lines: lines.length,
        inputPartitions: 2,
        keyedPartitions: 4,
      },
      throughput: { inProcess, ...throughput },
      analyzeSummaryEventsPerSec: summary.eventsPerSec,
      latencyMs: {
        definition:
          'end marker produced (acks=all) -> its stretch stored in PostgreSQL, 2 workers, stats polled every 50 ms',
        rounds,
        eventsPerRound: per,
        p50: pct(latencies, 50),
        p99: pct(latencies, 99),
        max: Math.max(...latencies),
      },
    }),
  );
} finally {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  spawnSync(join(root, 'scripts', 'kafka', 'stop.sh'), ['--data-dir', dataDir], { encoding: 'utf8' });
  for (const d of dbs) await d.drop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
