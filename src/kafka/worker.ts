/**
 * `apiwarden worker`: the three stages of the Kafka deployment in one process (docs/scaling.md). Run several;
 * they share the work through consumer groups.
 *
 * - router (group G, the input topic): parses each record (a log line or a JSON event in `format`), sends
 *   records that do not parse to the dead-letter topic with the reason, and re-publishes each event to the
 *   keyed partitions that own its actors (and to the population owner), with watermarks. Input offsets are
 *   committed after the keyed records are acknowledged (acks=all).
 * - detect (group G.detect, the keyed topic): a PartitionState per assigned partition (src/kafka/partition.ts);
 *   each finished segment's report goes to the alerts topic; then the checkpoint, then the keyed offset.
 * - incidents (group G.incidents, the alerts topic, one partition): when every keyed partition has reported
 *   through a segment, its alerts become incidents (groupIncidents, with the owners' link facts), stored
 *   through the Responder (idempotent: ids derive from content), decisions published; then the offset.
 *
 * At-least-once everywhere; duplicates are absorbed by input offsets (detect) and by content-derived ids
 * (incidents). Records of partitions not in the consumer's current assignment are dropped (a fetch sent
 * before a rebalance can still deliver them).
 */
import {
  Admin,
  Consumer,
  type Message,
  type MessagesStream,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka';
import { groupIncidents } from '../detect/incidents.js';
import type { ParamScorer } from '../detect/params.js';
import type { DetectionOptions } from '../detect/run.js';
import type { ActorRef, Alert } from '../detect/types.js';
import { actorKey } from '../detect/types.js';
import type { Parser } from '../parsers/types.js';
import type { Profile } from '../profiling/profile.js';
import type { Responder } from '../respond/workflow.js';
import type { SensitiveScanner } from '../sensitive/scanner.js';
import type { CheckpointStore } from './checkpoint.js';
import { fixTaggedFields } from './client.js';
import { type FinishedSegment, PartitionState } from './partition.js';
import {
  CONTROL_HEADER,
  type KeyedRecord,
  REPORT_PART_BYTES,
  type SegmentReport,
  type Topics,
  targetsOf,
  topicsFor,
} from './topology.js';

export type Stage = 'router' | 'detect' | 'incidents';

export interface WorkerOptions {
  brokers: string[];
  /** The input topic (it must exist). */
  topic: string;
  group: string;
  prefix: string;
  /** Keyed partitions (used when creating the keyed topic; an existing topic keeps its count). */
  partitions: number;
  stages: readonly Stage[];
  parser: Parser;
  profile: Profile;
  detection: DetectionOptions;
  scorer: ParamScorer | null;
  scanner: SensitiveScanner | null;
  segmentMs: number;
  /** An input partition with nothing new for this long (wall time) is declared idle (default 5 s). */
  idleMs: number;
  checkpoints: CheckpointStore | null;
  responder: Responder | null;
  /**
   * Whether an endpoint answers sensitive data (incident severity in context, as analyze takes it from its
   * inventory); the worker CLI reads it from the state's latest inventory. Absent: never.
   */
  sensitiveOf?: (endpoint: string) => boolean;
  clientId: string;
  log: (msg: string) => void;
  /** Called with every stored segment (tests, benchmarks). */
  onIncidents?: (seg: string, incidents: number, alerts: Alert[]) => void;
  /** A stage stopped for good (its consumer stream ended or its handler failed): the worker should exit. */
  onFatal?: (e: Error) => void;
}

export interface WorkerStats {
  routed: number;
  deadLettered: number;
  deadLetterReasons: Record<string, number>;
  keyedRecords: number;
  duplicates: number;
  events: number;
  reports: number;
  segmentsStored: number;
  /** Decisions published (each time their incidents are stored). */
  decisions: number;
  /** Stretches closed by end markers and stored. */
  endsStored: number;
  incidents: number;
  alerts: number;
  staleDropped: number;
}

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates the worker's topics when missing (others racing to create them is fine). */
export async function ensureTopics(brokers: string[], topics: Topics, partitions: number): Promise<void> {
  const admin = new Admin({
    clientId: 'apiwarden-admin',
    bootstrapBrokers: brokers,
    retries: 10,
    retryDelay: 500,
  });
  try {
    const specs: [string, number, Record<string, string>][] = [
      [topics.keyed, partitions, {}],
      [topics.alerts, 1, { 'max.message.bytes': String(4 * 1024 * 1024) }],
      [topics.decisions, 1, {}],
      [topics.deadLetter, 1, { 'max.message.bytes': String(16 * 1024 * 1024) }],
    ];
    for (const [name, n, configs] of specs) {
      try {
        await admin.createTopics({
          topics: [name],
          partitions: n,
          replicas: 1,
          configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
        });
      } catch (e) {
        if (!/already exists|TOPIC_ALREADY_EXISTS/i.test(describe(e))) throw e;
      }
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const x = e as Error & { errors?: unknown[]; cause?: unknown };
  const inner = [...(x.errors ?? []), ...(x.cause ? [x.cause] : [])].slice(0, 3).map(describe);
  return `${x.message}${inner.length > 0 ? ` (${inner.join('; ')})` : ''}`;
}

async function partitionCount(brokers: string[], topic: string): Promise<number> {
  const admin = new Admin({
    clientId: 'apiwarden-admin',
    bootstrapBrokers: brokers,
    retries: 10,
    retryDelay: 500,
  });
  try {
    for (let i = 0; i < 60; i++) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true });
      const t = md.topics.get(topic);
      if (t !== undefined && t.partitionsCount > 0 && t.partitions.every((p) => p.leader >= 0))
        return t.partitionsCount;
      await sleep(500);
    }
    throw new Error(`topic '${topic}' has no leader for every partition after 30 s`);
  } catch (e) {
    throw new Error(`topic '${topic}': ${describe(e)} (create it first, or check --topic and --brokers)`);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

const consumerOptions = (clientId: string, groupId: string, brokers: string[]) => ({
  clientId,
  groupId,
  bootstrapBrokers: brokers,
  autocommit: false,
  sessionTimeout: 10_000,
  rebalanceTimeout: 15_000,
  heartbeatInterval: 1_000,
  maxWaitTime: 200,
  retries: 60,
  retryDelay: 500,
  maxBytes: 32 * 1024 * 1024,
});

export class Worker {
  readonly stats: WorkerStats = {
    routed: 0,
    deadLettered: 0,
    deadLetterReasons: {},
    keyedRecords: 0,
    duplicates: 0,
    events: 0,
    reports: 0,
    segmentsStored: 0,
    endsStored: 0,
    decisions: 0,
    incidents: 0,
    alerts: 0,
    staleDropped: 0,
  };
  private readonly topics: Topics;
  private producer!: Producer<Buffer, Buffer, Buffer, Buffer>;
  private readonly consumers: Consumer<Buffer, Buffer, Buffer, Buffer>[] = [];
  private readonly streams: MessagesStream<Buffer, Buffer, Buffer, Buffer>[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  private P = 0;
  private R = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: WorkerOptions) {
    fixTaggedFields();
    this.topics = topicsFor(o.prefix);
  }

  async start(): Promise<void> {
    const o = this.o;
    await ensureTopics(o.brokers, this.topics, o.partitions);
    this.P = await partitionCount(o.brokers, this.topics.keyed);
    this.R = await partitionCount(o.brokers, o.topic);
    this.producer = new Producer({
      clientId: `${o.clientId}-producer`,
      bootstrapBrokers: o.brokers,
      acks: ProduceAcks.ALL,
      retries: 60,
      retryDelay: 500,
    });
    if (o.stages.includes('incidents')) await this.startIncidents();
    if (o.stages.includes('detect')) await this.startDetect();
    if (o.stages.includes('router')) await this.startRouter();
    o.log(
      `worker ${o.clientId}: stages ${o.stages.join(', ')}; input ${o.topic} (${this.R} partitions), keyed ${this.topics.keyed} (${this.P} partitions)`,
    );
  }

  /** A consumer of one topic, whose messages of partitions not assigned to it are dropped. */
  private async consume(
    group: string,
    topic: string,
    handle: (batch: Msg[]) => Promise<void>,
    onAssign?: (partitions: Set<number>) => void,
  ): Promise<void> {
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>(
      consumerOptions(`${this.o.clientId}-${group}`, group, this.o.brokers),
    );
    this.consumers.push(consumer);
    const assigned = () =>
      new Set((consumer.assignments ?? []).flatMap((a) => (a.topic === topic ? a.partitions : [])));
    let current = new Set<number>();
    consumer.on('consumer:group:join', () => {
      current = assigned();
      onAssign?.(current);
    });
    const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' });
    this.streams.push(stream);
    stream.on('error', (e: Error) => this.o.log(`${group}: consumer error: ${describe(e)}`));
    const loop = (async () => {
      let batch: Msg[] = [];
      let flushing: Promise<void> | null = null;
      const flush = async () => {
        const b = batch;
        batch = [];
        if (b.length > 0) await handle(b);
      };
      for await (const m of stream as AsyncIterable<Msg>) {
        if (this.stopping) break;
        if (!current.has(m.partition)) {
          current = assigned();
          if (!current.has(m.partition)) {
            this.stats.staleDropped++;
            continue;
          }
        }
        batch.push(m);
        if (batch.length >= 500 || (stream.readableLength ?? 0) === 0) {
          flushing = flush();
          await flushing;
        }
      }
      await flush();
      if (!this.stopping) throw new Error('the consumer stream ended');
    })().catch((e) => {
      if (this.stopping) return;
      // A dead stream (fetch retries spent, a handler that failed) stops this worker: its partitions go to
      // the others, and a supervisor restarts it; committed offsets and checkpoints make that safe.
      this.o.log(`${group}: stopped: ${describe(e)}`);
      this.o.onFatal?.(e instanceof Error ? e : new Error(String(e)));
    });
    this.loops.push(loop);
  }

  // ── router ────────────────────────────────────────────────────────────────────────────────────────────────

  private async startRouter(): Promise<void> {
    const maxTs = new Map<number, number>();
    const sentWm = new Map<number, number>();
    const lastSeen = new Map<number, number>();
    const idleSent = new Set<number>();
    /** Per input partition, the offset after the last record routed. */
    const nextOffset = new Map<number, bigint>();
    let mine = new Set<number>();
    const R = this.R;
    const P = this.P;
    const keyed = this.topics.keyed;
    const control = (rec: KeyedRecord) =>
      Array.from({ length: P }, (_, p) => ({
        topic: keyed,
        partition: p,
        key: Buffer.from(`~${rec.r}`),
        value: Buffer.from(JSON.stringify(rec)),
      }));
    let chain: Promise<unknown> = Promise.resolve();
    const serial = <T>(f: () => Promise<T>): Promise<T> => {
      const next = chain.then(f);
      chain = next.catch(() => undefined);
      return next;
    };
    this.timer = setInterval(() => {
      void serial(async () => {
        const now = Date.now();
        const messages = [];
        for (const r of mine) {
          const m = maxTs.get(r);
          if (m !== undefined && m !== sentWm.get(r)) {
            messages.push(...control({ k: 'w', r, R, wm: m }));
            sentWm.set(r, m);
          }
          if (
            now - (lastSeen.get(r) ?? now) >= this.o.idleMs &&
            !idleSent.has(r) &&
            (await this.caughtUp(r, nextOffset.get(r)))
          ) {
            messages.push(...control({ k: 'i', r, R }));
            idleSent.add(r);
          }
          if (!lastSeen.has(r)) lastSeen.set(r, now);
        }
        if (messages.length > 0)
          await this.producer.send({ messages }).catch((e) => this.o.log(`router: ${describe(e)}`));
      });
    }, 200);
    this.timer.unref();
    const targets: number[] = [];
    await this.consume(
      this.o.group,
      this.o.topic,
      (batch) =>
        serial(async () => {
          const messages = [];
          const dead = [];
          const last = new Map<number, Msg>();
          const now = Date.now();
          for (const m of batch) {
            const r = m.partition;
            last.set(r, m);
            lastSeen.set(r, now);
            idleSent.delete(r);
            nextOffset.set(r, m.offset + 1n);
            const o = Number(m.offset);
            const ctl = headerOf(m, CONTROL_HEADER);
            if (ctl === 'end') {
              messages.push(...control({ k: 'x', r, R, id: `${m.timestamp}-${r}-${o}` }));
              continue;
            }
            const parsed = this.parse(m);
            if (typeof parsed === 'string') {
              this.stats.deadLettered++;
              this.stats.deadLetterReasons[parsed] = (this.stats.deadLetterReasons[parsed] ?? 0) + 1;
              dead.push({
                topic: this.topics.deadLetter,
                key: m.key ?? undefined,
                value: m.value ?? Buffer.alloc(0),
                headers: new Map([
                  [Buffer.from('apiwarden-reason'), Buffer.from(parsed)],
                  [Buffer.from('apiwarden-source'), Buffer.from(`${m.topic}/${r}@${o}`)],
                ]),
              });
              continue;
            }
            const ev = parsed;
            const prev = maxTs.get(r);
            if (prev === undefined || ev.ts > prev) maxTs.set(r, ev.ts);
            const value = Buffer.from(
              JSON.stringify({ k: 'e', r, R, o, ts: ev.ts, ev } satisfies KeyedRecord),
            );
            for (const p of targetsOf(ev, P, targets))
              messages.push({ topic: keyed, partition: p, key: Buffer.from(ev.ip), value });
            this.stats.routed++;
          }
          // The watermark follows its events in every keyed partition.
          for (const [r] of last) {
            const m = maxTs.get(r);
            if (m !== undefined && m !== sentWm.get(r)) {
              messages.push(...control({ k: 'w', r, R, wm: m }));
              sentWm.set(r, m);
            }
          }
          await this.sendChunked(messages);
          for (const d of dead) await this.producer.send({ messages: [d] });
          for (const m of last.values()) await m.commit();
        }),
      (assigned) => {
        mine = assigned;
      },
    );
  }

  /**
   * Whether this router has routed everything input partition r holds: a quiet partition is idle only then.
   * Quiet because the broker is unreachable (a restart) is not idle: the check fails and the merge keeps
   * waiting, so the order of events survives an outage.
   */
  private async caughtUp(r: number, next: bigint | undefined): Promise<boolean> {
    const consumer = this.consumers.find((c) => c.groupId === this.o.group);
    if (consumer === undefined) return false;
    try {
      const end = (await consumer.listOffsets({ topics: [this.o.topic] })).get(this.o.topic)?.[r];
      if (end === undefined) return false;
      let pos = next;
      if (pos === undefined) {
        const committed = (
          await consumer.listCommittedOffsets({ topics: [{ topic: this.o.topic, partitions: [r] }] })
        ).get(this.o.topic)?.[r];
        pos = committed === undefined || committed < 0n ? 0n : committed;
      }
      return pos >= end;
    } catch {
      return false;
    }
  }

  /** Sends in requests of at most ~512 KB (the broker refuses record batches over message.max.bytes, 1 MB). */
  private async sendChunked(
    messages: { topic: string; value: Buffer; key?: Buffer; partition?: number }[],
  ): Promise<void> {
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      bytes += messages[i]!.value.length + 64;
      if (bytes >= 512 * 1024 || i === messages.length - 1) {
        await this.producer.send({ messages: messages.slice(from, i + 1) });
        from = i + 1;
        bytes = 0;
      }
    }
  }

  /** An event, or the reason the record cannot be one (for the dead-letter topic). */
  private parse(m: Msg): import('../core/event.js').ApiEvent | string {
    const v = m.value;
    if (v === null || v === undefined || v.length === 0) return 'empty record';
    if (v.length > 1024 * 1024) return `record too large (${v.length} bytes, limit 1048576)`;
    // Binary garbage: NUL bytes or invalid UTF-8.
    if (v.includes(0)) return 'binary data (NUL bytes), not a log line or a JSON event';
    const text = v.toString('utf8');
    if (text.includes('\ufffd') && !Buffer.from(text, 'utf8').equals(v)) return 'not valid UTF-8';
    const line = text.endsWith('\n') ? text.slice(0, -1) : text;
    const p = this.o.parser;
    if (p.framing !== 'line') return `format '${p.format}' reads documents, not records`;
    const r = p.parseLine(line, { source: `${m.topic}/${m.partition}`, line: Number(m.offset) + 1 });
    if ('reason' in r && !('ts' in r)) {
      const mal = r as { reason: string; detail?: string };
      return `malformed (${p.format}): ${mal.reason}${mal.detail ? `: ${mal.detail}` : ''}`;
    }
    return r as import('../core/event.js').ApiEvent;
  }

  // ── detect ────────────────────────────────────────────────────────────────────────────────────────────────

  private async startDetect(): Promise<void> {
    const group = `${this.o.group}.detect`;
    const states = new Map<number, PartitionState>();
    await this.consume(
      group,
      this.topics.keyed,
      async (batch) => {
        for (const m of batch) {
          this.stats.keyedRecords++;
          let st = states.get(m.partition);
          if (st === undefined) {
            const restored = (await this.o.checkpoints?.load(group, this.topics.keyed, m.partition)) ?? null;
            st = new PartitionState(
              {
                partition: m.partition,
                partitions: this.P,
                profile: this.o.profile,
                detection: this.o.detection,
                scorer: this.o.scorer,
                scanner: this.o.scanner,
                segmentMs: this.o.segmentMs,
              },
              restored,
            );
            states.set(m.partition, st);
          }
          let rec: KeyedRecord;
          try {
            rec = JSON.parse(m.value.toString('utf8')) as KeyedRecord;
          } catch {
            this.o.log(`detect: keyed record ${m.partition}@${m.offset} is not JSON; skipped`);
            continue;
          }
          const before = st.stats.duplicates;
          const done = st.accept(rec, Number(m.offset));
          this.stats.duplicates += st.stats.duplicates - before;
          for (const f of done) await this.report(group, m, st, f);
        }
        let ev = 0;
        for (const s of states.values()) ev += s.stats.events;
        this.stats.events = ev;
      },
      (assigned) => {
        for (const p of [...states.keys()]) if (!assigned.has(p)) states.delete(p);
      },
    );
  }

  private async report(group: string, m: Msg, _st: PartitionState, f: FinishedSegment): Promise<void> {
    const p = m.partition;
    const base = { seg: f.seg, through: f.through, p, P: this.P };
    const parts: SegmentReport[] = [];
    let cur: SegmentReport = { ...base, part: 0, parts: 0, alerts: [], links: [], scenarios: f.scenarios };
    let size = JSON.stringify(f.scenarios).length;
    const push = () => {
      parts.push(cur);
      cur = { ...base, part: 0, parts: 0, alerts: [], links: [], scenarios: {} };
      size = 0;
    };
    for (const a of f.alerts) {
      const n = JSON.stringify(a).length;
      if (size + n > REPORT_PART_BYTES && size > 0) push();
      cur.alerts.push(a);
      size += n;
    }
    for (const l of f.links) {
      const n = JSON.stringify(l).length;
      if (size + n > REPORT_PART_BYTES && size > 0) push();
      cur.links.push(l);
      size += n;
    }
    push();
    const messages = parts.map((r, i) => ({
      topic: this.topics.alerts,
      key: Buffer.from(`${f.seg}|${p}`),
      value: Buffer.from(JSON.stringify({ ...r, part: i, parts: parts.length })),
    }));
    await this.producer.send({ messages });
    this.stats.reports++;
    await this.o.checkpoints?.save(group, this.topics.keyed, p, f.checkpoint);
    await this.consumers
      .find((c) => c.groupId === group)
      ?.commit({
        offsets: [
          { topic: this.topics.keyed, partition: p, offset: BigInt(f.checkpoint.next), leaderEpoch: -1 },
        ],
      })
      .catch((e) =>
        this.o.log(`detect: commit ${p}@${f.checkpoint.next} failed (replayed later): ${describe(e)}`),
      );
  }

  // ── incidents ─────────────────────────────────────────────────────────────────────────────────────────────

  private async startIncidents(): Promise<void> {
    const group = `${this.o.group}.incidents`;
    /** seg → partition → parts received. */
    const pending = new Map<
      string,
      { through: number; parts: Map<number, Map<number, SegmentReport>>; first: bigint }
    >();
    const throughOf = new Map<number, number>();
    const done = new Set<string>();
    let P = 0;
    await this.consume(group, this.topics.alerts, async (batch) => {
      let lastMsg: Msg | null = null;
      for (const m of batch) {
        lastMsg = m;
        let r: SegmentReport;
        try {
          r = JSON.parse(m.value.toString('utf8')) as SegmentReport;
        } catch {
          this.o.log(`incidents: report at ${m.offset} is not JSON; skipped`);
          continue;
        }
        P = r.P;
        if (done.has(r.seg)) continue;
        let s = pending.get(r.seg);
        if (s === undefined) {
          s = { through: r.through, parts: new Map(), first: m.offset };
          pending.set(r.seg, s);
        }
        let byPart = s.parts.get(r.p);
        if (byPart === undefined) {
          byPart = new Map();
          s.parts.set(r.p, byPart);
        }
        byPart.set(r.part, r);
        if (byPart.size === r.parts && r.through > (throughOf.get(r.p) ?? Number.NEGATIVE_INFINITY))
          throughOf.set(r.p, r.through);
      }
      // A segment is complete when every partition has reported it in full, or reported through its end.
      const ready = [...pending.entries()]
        .filter(([, s]) => {
          for (let p = 0; p < P; p++) {
            const parts = s.parts.get(p);
            const full = parts !== undefined && parts.size === [...parts.values()][0]!.parts;
            if (parts !== undefined && !full) return false;
            if (!full && (throughOf.get(p) ?? Number.NEGATIVE_INFINITY) < s.through) return false;
          }
          return true;
        })
        .sort((a, b) => a[1].through - b[1].through);
      for (const [seg, s] of ready) {
        await this.storeSegment(seg, s.parts);
        pending.delete(seg);
        done.add(seg);
        // Remember the last 10,000 segments stored (a replayed report of an older one is re-stored: idempotent).
        if (done.size > 10_000) done.delete(done.values().next().value!);
      }
      if (lastMsg !== null) {
        let min: bigint | null = null;
        for (const s of pending.values()) if (min === null || s.first < min) min = s.first;
        const offset = min ?? lastMsg.offset + 1n;
        await this.consumers
          .find((c) => c.groupId === group)
          ?.commit({ offsets: [{ topic: this.topics.alerts, partition: 0, offset, leaderEpoch: -1 }] })
          .catch((e) => this.o.log(`incidents: commit failed (replayed later): ${describe(e)}`));
      }
    });
  }

  private async storeSegment(seg: string, parts: Map<number, Map<number, SegmentReport>>): Promise<void> {
    const alerts: Alert[] = [];
    const linkOf = new Map<string, [ActorRef, ActorRef][]>();
    const scenarios = new Map<string, string>();
    const seen = new Set<string>();
    for (const byPart of parts.values())
      for (const r of byPart.values()) {
        for (const a of r.alerts)
          if (!seen.has(a.id)) {
            seen.add(a.id);
            alerts.push(a);
          }
        for (const l of r.links) {
          const k = actorKey(l[0]);
          let x = linkOf.get(k);
          if (x === undefined) {
            x = [];
            linkOf.set(k, x);
          }
          x.push(l);
        }
        for (const [ep, sc] of Object.entries(r.scenarios))
          if (!scenarios.has(ep) || sc !== '') scenarios.set(ep, sc);
      }
    alerts.sort((a, b) => a.detectedTs - b.detectedTs || (a.id < b.id ? -1 : 1));
    const links: [ActorRef, ActorRef][] = [];
    for (const a of alerts.flatMap((x) => x.actors))
      for (const l of linkOf.get(actorKey(a)) ?? []) links.push(l);
    const incidents = groupIncidents(alerts, {
      links,
      scenarioOf: (ep) => scenarios.get(ep) ?? '',
      ...(this.o.sensitiveOf === undefined ? {} : { sensitiveOf: this.o.sensitiveOf }),
    });
    if (this.o.responder !== null && incidents.length > 0) {
      await this.o.responder.ingest(incidents, 'kafka');
      // Every decision of these incidents, not only the new ones: if this stage died after storing and
      // before publishing, the replay publishes them (consumers deduplicate by decision id).
      const ids = new Set(incidents.map((i) => i.id));
      const decisions = (await this.o.responder.store.decisions()).filter(
        (d) => d.incidentId !== undefined && ids.has(d.incidentId),
      );
      if (decisions.length > 0)
        await this.sendChunked(
          decisions.map((d) => ({
            topic: this.topics.decisions,
            key: Buffer.from(d.id),
            value: Buffer.from(JSON.stringify(d)),
          })),
        );
      this.stats.decisions += decisions.length;
    }
    // Counted once stored (tests and benchmarks wait on these).
    this.stats.segmentsStored++;
    if (seg.startsWith('end:')) this.stats.endsStored++;
    this.stats.alerts += alerts.length;
    this.stats.incidents += incidents.length;
    this.o.onIncidents?.(seg, incidents.length, alerts);
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const s of this.streams) await s.close().catch(() => undefined);
    for (const c of this.consumers) await new Promise<void>((resolve) => c.close(true, () => resolve()));
    await Promise.race([Promise.all(this.loops), sleep(2000)]);
    const p = this.producer;
    if (p !== undefined) await new Promise<void>((resolve) => p.close(true, () => resolve()));
  }
}

function headerOf(m: Msg, name: string): string | undefined {
  for (const [k, v] of m.headers ?? []) if (k.toString() === name) return v.toString();
  return undefined;
}
