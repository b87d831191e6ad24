/**
 * Faults on a real broker with real worker processes (`apiwarden worker`, the built binary), each compared
 * with a run that had none:
 *
 * - kill -9 of one of two workers mid-stream: the group rebalances, the survivor takes the dead worker's
 *   input, keyed and alerts partitions over (replaying from the committed offsets), and the stored incidents
 *   equal `apiwarden analyze`'s, none twice;
 * - checkpointed segments (--segment 30m: a checkpoint and a commit every 30 minutes of event time): the
 *   same kill, and the stored incidents equal those of a run of the same segments without a kill (the
 *   replay from the checkpoint is bounded by one open segment and rebuilds the same windows);
 * - the broker restarts mid-stream: the workers reconnect and the incidents equal analyze's;
 * - poison records (invalid JSON, binary garbage, a 10 MB record) are counted, sent to the dead-letter topic
 *   with the reason, and skipped: every other line is routed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openState } from '../src/store/state/pg-state.js';
import { type KafkaBroker, startKafka } from './support/kafka.js';
import {
  createTopic,
  freshDatabase,
  incidentKey,
  learnAndJudge,
  lines,
  newProducer,
  produceLines,
  readTopic,
  sendEnd,
  simulateStretch,
  spawnWorker,
  until,
  type WorkerProc,
} from './support/kafka-workers.js';

let kafka: KafkaBroker | undefined;
let dir = '';
let profile = '';
let all: string[] = [];
let reference: string[] = [];
const dbs: { url: string; drop: () => Promise<void> }[] = [];
const workers: WorkerProc[] = [];

beforeAll(async () => {
  kafka = await startKafka();
  dir = await mkdtemp(join(tmpdir(), 'aw-kafka-faults-'));
  const input = await simulateStretch(join(dir, 'sim'));
  const ref = await learnAndJudge(input, dir);
  profile = ref.profile;
  reference = ref.incidents.map(incidentKey).sort();
  all = await lines(input);
}, 900_000);

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await kafka?.dispose();
  for (const d of dbs) await d.drop().catch(() => undefined);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}, 120_000);

const ipOf = (l: string) => (JSON.parse(l) as { client_ip: string }).client_ip;

interface Scenario {
  name: string;
  segment: string;
  /** Extra worker flags. */
  flags?: string[];
  /** Runs after each produced batch of 1,000 lines (`sent` lines so far). */
  during?: (sent: number, ws: WorkerProc[]) => Promise<void>;
  /** Extra records produced first (raw values). */
  poison?: Buffer[];
}

interface Outcome {
  incidents: string[];
  workers: WorkerProc[];
  seconds: number;
}

async function run(sc: Scenario): Promise<Outcome> {
  const broker = kafka!;
  const topic = `in-${sc.name}`;
  await createTopic(broker.bootstrap, topic, 2, { 'max.message.bytes': String(16 * 1024 * 1024) });
  const db = await freshDatabase(`kafka_${sc.name}`);
  dbs.push(db);
  const args = [
    '--brokers',
    broker.bootstrap,
    '--topic',
    topic,
    '--group',
    sc.name,
    '--prefix',
    `aw-${sc.name}`,
    '--format',
    'apisix',
    '--profile',
    profile,
    '--partitions',
    '4',
    '--segment',
    sc.segment,
    '--stats-every',
    '500ms',
    ...(sc.flags ?? []),
  ];
  const ws = [
    spawnWorker(`${sc.name}-1`, args, { DATABASE_URL: db.url }),
    spawnWorker(`${sc.name}-2`, args, { DATABASE_URL: db.url }),
  ];
  workers.push(...ws);
  await Promise.all(ws.map((w) => w.started));
  const producer = newProducer(broker.bootstrap);
  const t0 = performance.now();
  if (sc.poison !== undefined)
    for (const [i, v] of sc.poison.entries())
      await producer.send({ messages: [{ topic, partition: i % 2, value: v }] });
  await produceLines(
    producer,
    topic,
    2,
    all,
    ipOf,
    (sent) => sc.during?.(sent, ws) ?? Promise.resolve(),
    500,
  );
  await sendEnd(producer, topic, 2);
  await new Promise<void>((resolve) => producer.close(true, () => resolve()));
  const state = () =>
    ws
      .map(
        (w) => `${w.name} (exit ${w.child.exitCode}): ${JSON.stringify(w.stats)}\n${w.stderr.slice(-1500)}`,
      )
      .join('\n');
  // The stretch is stored when a live incident stage has stored its end segment; then the count must hold.
  const store = await openState({ databaseUrl: db.url });
  let seen = -1;
  let stableSince = Date.now();
  await until(
    'the incidents to be stored and stable for 3 s',
    async () => {
      if (!ws.some((w) => w.child.exitCode === null && (w.stats.endsStored ?? 0) >= 1)) return false;
      const n = (await store.incidents()).length;
      if (n !== seen) {
        seen = n;
        stableSince = Date.now();
      }
      return Date.now() - stableSince > 3_000;
    },
    120_000,
    state,
  );
  const incidents = (await store.incidents()).map(incidentKey).sort();
  await store.close();
  const seconds = (performance.now() - t0) / 1000;
  for (const w of ws) if (w.child.exitCode === null) w.child.kill('SIGTERM');
  await Promise.all(ws.map((w) => w.exited));
  console.log(
    `kafka faults ${sc.name}: ${seconds.toFixed(1)} s; ${ws.map((w) => `${w.name} ${JSON.stringify(w.stats)}`).join('; ')}`,
  );
  return { incidents, workers: ws, seconds };
}

/** Kills the first worker with SIGKILL once it has done some work and half the lines are out. */
const killHalfway = (killed: { at: number | null }) => async (sent: number, ws: WorkerProc[]) => {
  if (killed.at !== null || sent < all.length / 2) return;
  await until(
    'worker 1 to have routed and judged events',
    () => (ws[0]!.stats.routed ?? 0) > 0 && (ws[0]!.stats.events ?? 0) > 0,
    30_000,
  );
  ws[0]!.child.kill('SIGKILL');
  killed.at = sent;
};

describe('Kafka workers under faults', () => {
  it('kill -9 of one of two workers mid-stream: the same incidents as one process, none twice', async () => {
    const killed = { at: null as number | null };
    const r = await run({ name: 'kill', segment: '0', during: killHalfway(killed) });
    expect(killed.at).not.toBeNull();
    expect(r.workers[0]!.child.signalCode).toBe('SIGKILL');
    expect(new Set(r.incidents).size).toBe(r.incidents.length);
    expect(r.incidents).toEqual(reference);
  }, 180_000);

  it('checkpointed segments survive a kill -9: the same incidents as an undisturbed run of the same segments', async () => {
    const calm = await run({ name: 'seg-calm', segment: '30m' });
    const killed = { at: null as number | null };
    const hit = await run({ name: 'seg-kill', segment: '30m', during: killHalfway(killed) });
    expect(killed.at).not.toBeNull();
    // Segments were judged and checkpointed before the kill (a replay bounded by one segment).
    expect(calm.workers.reduce((n, w) => n + (w.stats.reports ?? 0), 0)).toBeGreaterThan(8);
    expect(calm.incidents.length).toBeGreaterThan(3);
    expect(hit.incidents).toEqual(calm.incidents);
  }, 240_000);

  it('the broker restarts mid-stream: the workers reconnect and carry on', async () => {
    let restarted = false;
    const r = await run({
      name: 'restart',
      segment: '0',
      // The producer is paused while the broker restarts (5-15 s): not idleness to stop waiting for.
      flags: ['--idle', '60s'],
      during: async (sent) => {
        if (restarted || sent < all.length / 2) return;
        restarted = true;
        await kafka!.restart();
      },
    });
    expect(restarted).toBe(true);
    expect(r.incidents).toEqual(reference);
  }, 240_000);

  it('poison records are counted, sent to the dead-letter topic with the reason, and skipped', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const poison = [
      Buffer.from('{"client_ip": "10.0.0.1", "oops'),
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x9c, 0x80]),
      big,
    ];
    const r = await run({ name: 'poison', segment: '0', poison });
    const stats = r.workers.map((w) => w.stats);
    expect(stats.reduce((n, s) => n + (s.deadLettered ?? 0), 0)).toBe(3);
    expect(stats.reduce((n, s) => n + (s.routed ?? 0), 0)).toBe(all.length);
    expect(r.incidents).toEqual(reference);
    // The dead-letter topic holds the three records, each with its reason.
    const got = (await readTopic(kafka!.bootstrap, 'aw-poison.dead-letter', 3)).map((m) => ({
      reason: m.headers.get('apiwarden-reason') ?? '',
      bytes: m.value.length,
    }));
    const reasons = got.map((g) => g.reason).sort();
    expect(reasons.some((x) => /^malformed \(apisix\)/.test(x))).toBe(true);
    expect(reasons.some((x) => /binary data/.test(x))).toBe(true);
    expect(reasons.some((x) => /record too large \(10485760 bytes/.test(x))).toBe(true);
    expect(got.find((g) => /too large/.test(g.reason))?.bytes).toBe(big.length);
  }, 180_000);
});
