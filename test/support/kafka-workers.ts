/**
 * Helpers for the Kafka worker tests: a fresh PostgreSQL database per test file, `apiwarden worker` child
 * processes (the built binary) with their JSON stats lines, producing a file's lines to a topic, end markers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Admin, Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import pg from 'pg';
import type { Incident } from '../../src/detect/incidents.js';
import { CONTROL_HEADER } from '../../src/kafka/topology.js';
import { describe } from '../../src/kafka/worker.js';
import { bin, ROOT } from './cli.js';

export const PG_BASE = process.env.APIWARDEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Creates a new database on the test server; returns its URL and a function that drops it. */
export async function freshDatabase(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `aw_${tag}_${process.pid}_${Date.now()}`.replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: PG_BASE });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_BASE);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface WorkerProc {
  name: string;
  child: ChildProcess;
  stderr: string;
  /** The last JSON stats line. */
  stats: Record<string, number> & { deadLetterReasons?: Record<string, number> };
  exited: Promise<number | null>;
  started: Promise<void>;
}

export function spawnWorker(name: string, args: string[], env: Record<string, string>): WorkerProc {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'apiwarden.js'), 'worker', '--client-id', name, ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let resolveStarted: () => void = () => undefined;
  const w: WorkerProc = {
    name,
    child,
    stderr: '',
    stats: {},
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    started: new Promise((resolve, reject) => {
      resolveStarted = resolve;
      child.on('exit', (code) =>
        reject(new Error(`worker ${name} exited (${code}) before starting:\n${w.stderr}`)),
      );
    }),
  };
  let buf = '';
  child.stderr!.on('data', (b: Buffer) => {
    const s = b.toString('utf8');
    w.stderr += s;
    buf += s;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{"worker"')) w.stats = JSON.parse(line).worker;
      if (line.startsWith(`worker ${name}: stages`)) resolveStarted();
      nl = buf.indexOf('\n');
    }
  });
  return w;
}

export async function createTopic(
  bootstrap: string,
  topic: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({
      topics: [topic],
      partitions,
      replicas: 1,
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    });
    for (let i = 0; i < 100; i++) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true });
      const t = md.topics.get(topic);
      if (t?.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`topic ${topic} has no leaders`);
  } finally {
    await admin.close();
  }
}

export function newProducer(bootstrap: string): Producer<Buffer, Buffer, Buffer, Buffer> {
  return new Producer({
    clientId: 'test-producer',
    bootstrapBrokers: [bootstrap],
    acks: ProduceAcks.ALL,
    // A retried send must not write the lines twice (the broker deduplicates): a shipper should do the same.
    idempotent: true,
    retries: 60,
    retryDelay: 500,
  });
}

/** The lines of a file (non-empty). */
export async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
}

/**
 * Produces lines to a topic, each to the partition of its client address (so one actor's lines keep their
 * order, as a shipper keyed by client would), in batches; `onBatch` runs after each batch.
 */
export async function produceLines(
  producer: Producer<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
  partitions: number,
  all: readonly string[],
  ipOf: (line: string) => string,
  onBatch?: (sent: number) => Promise<void>,
  batch = 1000,
): Promise<void> {
  for (let i = 0; i < all.length; i += batch) {
    const messages = all.slice(i, i + batch).map((l) => {
      const ip = ipOf(l);
      let h = 0;
      for (let j = 0; j < ip.length; j++) h = (h * 31 + ip.charCodeAt(j)) >>> 0;
      return { topic, partition: h % partitions, key: Buffer.from(ip), value: Buffer.from(l) };
    });
    try {
      await producer.send({ messages });
    } catch (e) {
      throw new Error(`producing lines ${i}..: ${describe(e)}`);
    }
    await onBatch?.(Math.min(all.length, i + batch));
  }
}

/** The end-of-stretch marker, on every partition of the input topic. */
export async function sendEnd(
  producer: Producer<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
  partitions: number,
): Promise<void> {
  await producer.send({
    messages: Array.from({ length: partitions }, (_, p) => ({
      topic,
      partition: p,
      value: Buffer.from('end'),
      headers: new Map([[Buffer.from(CONTROL_HEADER), Buffer.from('end')]]),
    })),
  });
}

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  state?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state ? `\n${state()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An incident as the equality tests compare it. */
export const incidentKey = (i: {
  id: string;
  type: string;
  actors: { kind: string; value: string }[];
}): string =>
  `${i.id} ${i.type} ${i.actors
    .map((a) => `${a.kind}:${a.value}`)
    .sort()
    .join(',')}`;

/** Reads a topic from its start until `min` records arrived (or fails after `timeoutMs`). */
export async function readTopic(
  bootstrap: string,
  topic: string,
  min: number,
  timeoutMs = 30_000,
): Promise<{ key: string; value: Buffer; headers: Map<string, string> }[]> {
  const consumer = new Consumer({
    clientId: `reader-${topic}`,
    groupId: `reader-${topic}-${Date.now()}`,
    bootstrapBrokers: [bootstrap],
    maxBytes: 32 * 1024 * 1024,
    maxWaitTime: 200,
  });
  const got: { key: string; value: Buffer; headers: Map<string, string> }[] = [];
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
  stream.on('data', (m) => {
    const headers = new Map<string, string>();
    for (const [k, v] of m.headers) headers.set(k.toString(), v.toString());
    got.push({ key: m.key?.toString() ?? '', value: m.value, headers });
  });
  try {
    await until(`${min} records in ${topic}`, () => got.length >= min, timeoutMs);
  } finally {
    await stream.close();
    await consumer.close(true);
  }
  return got;
}

/** `apiwarden simulate` of a stretch in apisix JSON lines (3 h, 500 users, seed 7 unless told); its file. */
export async function simulateStretch(
  sim: string,
  o: { hours?: number; users?: number; seed?: number } = {},
) {
  const s = await bin([
    'simulate',
    '--out',
    sim,
    '--hours',
    String(o.hours ?? 3),
    '--users',
    String(o.users ?? 500),
    '--seed',
    String(o.seed ?? 7),
    '--formats',
    'apisix',
    '--quiet',
  ]);
  if (s.code !== 0) throw new Error(`apiwarden simulate failed: ${s.stderr}`);
  return join(sim, 'apisix.jsonl');
}

/**
 * The single-process reference: `apiwarden analyze` learns a profile from `input` (into DIR/learned), then
 * judges the same input with it (DIR/judged). Returns the profile's path and analyze's incidents.
 */
export async function learnAndJudge(
  input: string,
  dir: string,
  extra: string[] = [],
): Promise<{ profile: string; incidents: Incident[] }> {
  const learned = join(dir, 'learned');
  const a1 = await bin(['analyze', input, '--out', learned, '--quiet', ...extra]);
  if (a1.code !== 0) throw new Error(`apiwarden analyze (learn) failed: ${a1.stderr}`);
  const profile = join(learned, 'profile.json');
  const judged = join(dir, 'judged');
  const a2 = await bin(['analyze', input, '--profile', profile, '--out', judged, '--quiet', ...extra]);
  if (a2.code !== 0) throw new Error(`apiwarden analyze (judge) failed: ${a2.stderr}`);
  const incidents = (await readFile(join(judged, 'incidents.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Incident);
  return { profile, incidents };
}
