/**
 * A real Kafka broker, end to end with the client the Kafka source and workers will use (@platformatic/kafka
 * 1.x): test/support/kafka.ts starts a single-node Kafka 4.1 broker (KRaft) from Maven Central's jars
 * (scripts/kafka/), then:
 *
 *   - Admin creates a topic with 4 partitions;
 *   - two consumers join one group (classic protocol, roundrobin) and split the 4 partitions, 2 each, before
 *     anything is produced (so no rebalance moves a partition while messages flow);
 *   - the Producer sends 500 keyed messages (acks=all), both consumers receive them, commit the offset after
 *     the last message of each of their partitions, and the group's committed offsets are read back (Admin);
 *   - the broker is restarted (SIGTERM, start again on the same data and ports: ~3-6 s down);
 *   - the same Producer sends 500 more, the same consumers (same stream, no new subscription) receive them and
 *     commit again.
 *
 * Checked: every one of the 1,000 messages was received exactly once across the two consumers, each on the
 * partition of its key and in offset order, both consumers got partitions and messages, and the group's
 * committed offsets end at the partitions' end offsets (1,000 in all). Timings go to the console (and to
 * docs/scaling.md).
 *
 * The first run fetches the broker's jars (~45 MB, seconds from Maven Central here; scripts/kafka/fetch.sh,
 * which .ci/run runs before the tests), hence the generous beforeAll timeout. The test fails, never skips,
 * when Java or the jars are missing.
 */
import {
  Admin,
  Consumer,
  type Message,
  type MessagesStream,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaBroker, startKafka } from './support/kafka.js';

const PARTITIONS = 4;
const PER_PHASE = 500;
const BATCH = 100;
const TOPIC = `smoke-${process.pid}-${Date.now()}`;
const GROUP = `smoke-group-${process.pid}`;

type StringMessage = Message<string, string, string, string>;

interface Member {
  name: string;
  consumer: Consumer<string, string, string, string>;
  stream?: MessagesStream<string, string, string, string>;
  received: StringMessage[];
  /** The last message received on each partition, for committing. */
  last: Map<number, StringMessage>;
  errors: Error[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 100 ms until it is true, or fails with `what` after `timeoutMs`. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function rate(count: number, ms: number): string {
  return `${count} in ${Math.round(ms)} ms (${Math.round((count * 1000) / ms)}/s)`;
}

describe('a real Kafka broker (scripts/kafka) with @platformatic/kafka', () => {
  let kafka: KafkaBroker | undefined;
  let admin: Admin | undefined;
  let producer: Producer<string, string, string, string> | undefined;
  const members: Member[] = [];
  const timings: string[] = [];

  beforeAll(async () => {
    kafka = await startKafka();
    timings.push(
      `jars: fetch.sh ${Math.round(kafka.timings.fetchMs)} ms (${kafka.timings.fetchCached ? 'cached' : 'fetched'})`,
      `broker: formatted and ready in ${kafka.timings.startMs} ms (start.sh, JVM launch to "Kafka Server started")`,
    );
  }, 900_000);

  afterAll(async () => {
    // Clients first (forced: no waiting on a broker that may be gone), then the broker and its data dir.
    for (const member of members) {
      await member.stream?.close().catch(() => undefined);
      await new Promise<void>((resolve) => member.consumer.close(true, () => resolve()));
    }
    if (producer) await new Promise<void>((resolve) => producer!.close(true, () => resolve()));
    await admin?.close().catch(() => undefined);
    await kafka?.dispose();
    if (timings.length > 0) console.log(`kafka smoke timings:\n  ${timings.join('\n  ')}`);
  }, 120_000);

  it('creates a topic, produces 1,000 keyed messages, a group of two consumes each once, across a restart', async () => {
    const broker = kafka!;
    const bootstrapBrokers = [broker.bootstrap];
    const t0 = performance.now();

    admin = new Admin({ clientId: 'smoke-admin', bootstrapBrokers });
    await admin.createTopics({ topics: [TOPIC], partitions: PARTITIONS, replicas: 1 });
    await until(
      'the topic to have a leader for every partition',
      async () => {
        const metadata = await admin!.metadata({ topics: [TOPIC], forceUpdate: true });
        const topic = metadata.topics.get(TOPIC);
        return topic?.partitionsCount === PARTITIONS && topic.partitions.every((p) => p.leader >= 0);
      },
      30_000,
    );
    timings.push(`topic: created with ${PARTITIONS} partitions in ${Math.round(performance.now() - t0)} ms`);

    // Two consumers, one group; wait until they split the partitions (a stable group) before producing.
    const tJoin = performance.now();
    for (const name of ['a', 'b']) {
      const member: Member = {
        name,
        consumer: new Consumer({
          clientId: `smoke-consumer-${name}`,
          groupId: GROUP,
          bootstrapBrokers,
          deserializers: stringDeserializers,
          autocommit: false,
          sessionTimeout: 20_000,
          rebalanceTimeout: 20_000,
          heartbeatInterval: 500,
          maxWaitTime: 500,
          retries: 20,
          retryDelay: 500,
        }),
        received: [],
        last: new Map(),
        errors: [],
      };
      members.push(member);
      member.stream = await member.consumer.consume({
        topics: [TOPIC],
        mode: 'committed',
        fallbackMode: 'earliest',
      });
      member.stream.on('data', (message: StringMessage) => {
        member.received.push(message);
        member.last.set(message.partition, message);
      });
      member.stream.on('error', (error: Error) => member.errors.push(error));
    }
    const assigned = (member: Member): number[] =>
      (member.consumer.assignments ?? []).flatMap((a) => (a.topic === TOPIC ? a.partitions : []));
    await until(
      'both consumers to be assigned 2 of the 4 partitions',
      () => members.every((m) => assigned(m).length === PARTITIONS / 2),
      60_000,
    );
    const assignment = new Map(members.map((m) => [m.name, assigned(m).sort()]));
    expect([...assignment.values()].flat().sort()).toEqual([0, 1, 2, 3]);
    timings.push(
      `group: 2 consumers joined and split the partitions in ${Math.round(performance.now() - tJoin)} ms`,
    );

    producer = new Producer({
      clientId: 'smoke-producer',
      bootstrapBrokers,
      serializers: stringSerializers,
      acks: ProduceAcks.ALL,
      retries: 20,
      retryDelay: 500,
    });
    const partitionOfKey = new Map<string, number>();
    const total = (): number => members.reduce((n, m) => n + m.received.length, 0);

    const produce = async (from: number): Promise<number> => {
      const t = performance.now();
      for (let i = from; i < from + PER_PHASE; i += BATCH) {
        const messages = [];
        for (let j = i; j < i + BATCH; j++) {
          messages.push({ topic: TOPIC, key: `key-${j}`, value: JSON.stringify({ seq: j, at: Date.now() }) });
        }
        await producer!.send({ messages });
      }
      return performance.now() - t;
    };
    const commitAll = async (): Promise<void> => {
      for (const member of members) {
        for (const message of member.last.values()) await message.commit();
      }
    };
    const committedTotal = async (): Promise<bigint> => {
      const [group] = await admin!.listConsumerGroupOffsets({ groups: [GROUP] });
      let sum = 0n;
      for (const topic of group?.topics ?? []) {
        if (topic.name !== TOPIC) continue;
        for (const p of topic.partitions) if (p.committedOffset > 0n) sum += p.committedOffset;
      }
      return sum;
    };

    // Phase 1: 500 messages, consumed and committed.
    const tPhase1 = performance.now();
    const produce1 = await produce(0);
    await until(`${PER_PHASE} messages to be consumed`, () => total() >= PER_PHASE, 60_000);
    const consume1 = performance.now() - tPhase1;
    await commitAll();
    expect(await committedTotal()).toBe(BigInt(PER_PHASE));
    timings.push(
      `phase 1: produced ${rate(PER_PHASE, produce1)} (batches of ${BATCH}, acks=all); ` +
        `produced+consumed ${rate(PER_PHASE, consume1)}`,
    );

    // The broker goes away and comes back: the same clients must carry on.
    const tRestart = performance.now();
    await broker.restart();
    timings.push(
      `restart: broker down and ready again in ${Math.round(performance.now() - tRestart)} ms ` +
        `(start.sh ${broker.timings.restartMs.at(-1)} ms)`,
    );

    // Phase 2: 500 more through the same producer and consumers.
    const tPhase2 = performance.now();
    const produce2 = await produce(PER_PHASE);
    await until(`${2 * PER_PHASE} messages to be consumed`, () => total() >= 2 * PER_PHASE, 90_000);
    const consume2 = performance.now() - tPhase2;
    await commitAll();
    timings.push(
      `phase 2 (after the restart): produced ${rate(PER_PHASE, produce2)}; ` +
        `produced+consumed ${rate(PER_PHASE, consume2)}`,
    );
    // Late duplicates would show up now.
    await sleep(1_000);

    // Exactly once across the two consumers, each key on one partition, offsets in order per partition.
    const seen = new Map<string, number>();
    for (const member of members) {
      expect(member.errors.map((e) => e.message)).toEqual([]);
      expect(member.received.length).toBeGreaterThan(0);
      const lastOffset = new Map<number, bigint>();
      for (const message of member.received) {
        seen.set(message.key, (seen.get(message.key) ?? 0) + 1);
        expect(assignment.get(member.name)).toContain(message.partition);
        const known = partitionOfKey.get(message.key);
        if (known !== undefined) expect(message.partition).toBe(known);
        partitionOfKey.set(message.key, message.partition);
        const previous = lastOffset.get(message.partition) ?? -1n;
        expect(message.offset > previous).toBe(true);
        lastOffset.set(message.partition, message.offset);
        expect(JSON.parse(message.value).seq).toBe(Number(message.key.slice('key-'.length)));
      }
    }
    expect(seen.size).toBe(2 * PER_PHASE);
    expect([...seen.values()].filter((n) => n !== 1)).toEqual([]);
    expect(await committedTotal()).toBe(BigInt(2 * PER_PHASE));
    timings.push(
      `messages per consumer: ${members.map((m) => `${m.name}=${m.received.length} (partitions ${assignment.get(m.name)})`).join(', ')}`,
      `test body: ${Math.round(performance.now() - t0)} ms`,
    );
  }, 240_000);
});
