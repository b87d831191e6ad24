/**
 * The same detections through Kafka as in one process. One simulated stretch (apisix JSON lines) is judged
 * by `apiwarden analyze --profile` and by two `apiwarden worker` child processes sharing a real broker
 * (test/support/kafka.ts), both against the same learned profile. The input topic has 2 partitions (lines
 * keyed by client address), the keyed topic 4; the stretch ends with an end marker on both input partitions.
 * The incidents the incident stage stored in PostgreSQL (a fresh database) must equal analyze's
 * incidents.jsonl: the same ids, types and actors, none missing, none extra, none twice. Both run with the
 * same threat-intel list (a few of each campaign's addresses and some benign ones): the workers take intel as
 * analyze does (evidence, the behaviour model's intel columns).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

const TOPIC = 'access';
let kafka: KafkaBroker | undefined;
let dir = '';
let db: { url: string; drop: () => Promise<void> } | undefined;
const workers: WorkerProc[] = [];

beforeAll(async () => {
  kafka = await startKafka();
  dir = await mkdtemp(join(tmpdir(), 'aw-kafka-eq-'));
  db = await freshDatabase('kafka_eq');
}, 900_000);

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await kafka?.dispose();
  await db?.drop().catch(() => undefined);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('Kafka with 2 workers against apiwarden analyze', () => {
  it('stores the same incidents (ids, types, actors) as one process', async () => {
    const sim = join(dir, 'sim');
    const input = await simulateStretch(sim);
    // A blocklist naming two addresses of every campaign and of the benign groups (partners, staff...).
    const labels = JSON.parse(await readFile(join(sim, 'labels.json'), 'utf8')) as {
      campaigns: { actors: { ips: string[] } }[];
      benign?: { actors?: { ips?: string[] } }[];
    };
    const listed = [
      ...labels.campaigns.flatMap((c) => c.actors.ips.slice(0, 2)),
      ...(labels.benign ?? []).flatMap((b) => (b.actors?.ips ?? []).slice(0, 2)),
    ];
    await writeFile(join(dir, 'listed.txt'), `${listed.join('\n')}\n`);
    const config = join(dir, 'apiwarden.yaml');
    await writeFile(
      config,
      'intel:\n  sources:\n    - name: listed\n      kind: ip\n      category: blocklist\n      file: listed.txt\n',
    );
    const { profile, incidents: reference } = await learnAndJudge(input, dir, ['-c', config]);
    // A stretch that finds nothing would prove nothing; intel must be in play.
    expect(reference.length).toBeGreaterThan(3);
    const intelEvidence = (xs: readonly { evidence: readonly { source?: string }[] }[]) =>
      xs.filter((i) => i.evidence.some((e) => e.source === 'intel')).length;
    expect(intelEvidence(reference)).toBeGreaterThan(0);

    const broker = kafka!;
    await createTopic(broker.bootstrap, TOPIC, 2);
    const env = { DATABASE_URL: db!.url };
    const args = [
      '--brokers',
      broker.bootstrap,
      '--topic',
      TOPIC,
      '--group',
      'eq',
      '--format',
      'apisix',
      '--profile',
      profile,
      '--partitions',
      '4',
      '--segment',
      '0',
      '--stats-every',
      '1s',
      '-c',
      config,
    ];
    workers.push(spawnWorker('w1', args, env), spawnWorker('w2', args, env));
    await Promise.all(workers.map((w) => w.started));
    const all = await lines(input);
    const producer = newProducer(broker.bootstrap);
    const t0 = performance.now();
    await produceLines(
      producer,
      TOPIC,
      2,
      all,
      (l) => (JSON.parse(l) as { client_ip: string }).client_ip,
      undefined,
      200,
    );
    await sendEnd(producer, TOPIC, 2);
    const state = () =>
      workers.map((w) => `${w.name}: ${JSON.stringify(w.stats)}\n${w.stderr.slice(-2000)}`).join('\n');
    await until(
      'the incident stage to store the stretch',
      () => workers.some((w) => (w.stats.segmentsStored ?? 0) >= 1),
      120_000,
      state,
    );
    const seconds = (performance.now() - t0) / 1000;
    // The routers' counts come in stats lines (every second): wait for the last one.
    await until(
      'the routers to report every line routed',
      () => workers.reduce((n, w) => n + (w.stats.routed ?? 0), 0) >= all.length,
      10_000,
      state,
    );
    await new Promise<void>((resolve) => producer.close(true, () => resolve()));
    const store = await openState({ databaseUrl: db!.url });
    const stored = await store.incidents();
    await store.close();
    const routed = workers.reduce((n, w) => n + (w.stats.routed ?? 0), 0);
    console.log(
      `kafka equality: ${all.length} lines, ${reference.length} incidents, ${seconds.toFixed(1)} s through Kafka; ` +
        workers.map((w) => `${w.name} ${JSON.stringify(w.stats)}`).join('; '),
    );
    expect(routed).toBe(all.length);
    // Both workers did part of the work.
    for (const w of workers) expect(w.stats.events ?? 0, state()).toBeGreaterThan(0);
    const want = reference.map(incidentKey).sort();
    const got = stored.map(incidentKey).sort();
    expect(new Set(got).size).toBe(got.length);
    expect(got).toEqual(want);
    expect(intelEvidence(stored)).toBe(intelEvidence(reference));
    // The decisions topic carries the Responder's decisions for these incidents.
    const n = workers.reduce((k, w) => k + (w.stats.decisions ?? 0), 0);
    expect(n).toBeGreaterThan(0);
    const decisions = (await readTopic(broker.bootstrap, 'apiwarden.decisions', n)).map(
      (r) => JSON.parse(r.value.toString()) as { id: string; incidentId?: string },
    );
    const ids = new Set(stored.map((i) => i.id));
    for (const d of decisions) expect(ids.has(d.incidentId ?? ''), d.id).toBe(true);
    expect(new Set(decisions.map((d) => d.id)).size).toBe(decisions.length);
  }, 240_000);
});
