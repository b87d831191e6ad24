/**
 * The Kafka topology of `apiwarden worker` (docs/scaling.md): topic names, how an actor key maps to a keyed
 * partition, and the records that flow between the stages. Every value is JSON (UTF-8); keys are strings.
 *
 *   <input topic>  raw log lines or JSON events (any partitioning)      ─► router stage (group G)
 *   <p>.keyed      KeyedRecord: events fanned out to the owners of their actor keys, plus watermarks
 *                                                                       ─► detect stage (group G.detect)
 *   <p>.alerts     SegmentReport: a partition's alerts and link facts per segment
 *                                                                       ─► incident stage (group G.incidents)
 *   <p>.decisions  Decision records (the Responder's), for exporters and webhooks
 *   <p>.dead-letter  input records that could not be parsed, with the reason in headers
 */
import type { ApiEvent } from '../core/event.js';
import type { ActorRef, Alert } from '../detect/types.js';

export interface Topics {
  keyed: string;
  alerts: string;
  decisions: string;
  deadLetter: string;
}

export const DEFAULT_PREFIX = 'apiwarden';

export function topicsFor(prefix: string): Topics {
  return {
    keyed: `${prefix}.keyed`,
    alerts: `${prefix}.alerts`,
    decisions: `${prefix}.decisions`,
    deadLetter: `${prefix}.dead-letter`,
  };
}

/** The header that marks a control record on the input topic (value `end`: the end of a stretch). */
export const CONTROL_HEADER = 'apiwarden-control';

/** FNV-1a 32-bit of a string (UTF-16 code units): stable across processes and versions. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The keyed partition that owns an actor. */
export const ownerOf = (kind: string, value: string, partitions: number): number =>
  fnv1a(`${kind}\u001f${value}`) % partitions;

/** The keyed partition that runs the population detector (it sees every event). */
export const populationOwner = (partitions: number): number => fnv1a('~population') % partitions;

/** The distinct keyed partitions an event goes to: the owners of its ip, token, device, user, and population. */
export function targetsOf(e: ApiEvent, partitions: number, out: number[] = []): number[] {
  out.length = 0;
  const add = (p: number) => {
    if (!out.includes(p)) out.push(p);
  };
  add(ownerOf('ip', e.ip, partitions));
  if (e.token !== null) add(ownerOf('token', e.token, partitions));
  if (e.device !== null) add(ownerOf('device', e.device, partitions));
  if (e.user !== null) add(ownerOf('user', e.user, partitions));
  add(populationOwner(partitions));
  return out;
}

/**
 * A record of the keyed topic. `r`: the input partition it came from, `R`: how many the input topic has;
 * `o`: its input offset (for deduplication after a router replays).
 * - `e`: an event (`ts` its event time);
 * - `w`: a watermark: every later event from input partition `r` has `ts >= wm`;
 * - `i`: input partition `r` is idle (nothing for a while): do not wait for it;
 * - `x`: the end of a stretch on input partition `r` (`id` names the stretch).
 */
export type KeyedRecord =
  | { k: 'e'; r: number; R: number; o: number; ts: number; ev: ApiEvent }
  | { k: 'w'; r: number; R: number; wm: number }
  | { k: 'i'; r: number; R: number }
  | { k: 'x'; r: number; R: number; id: string };

/**
 * One keyed partition's result for one segment (possibly in several parts: `part` of `parts`). `through`:
 * the partition has reported everything before this event time (the segment's end; `END` for a stretch
 * closed by an end marker). `links`: the ties of actors this partition owns (the incident graph needs them
 * from the owner, who saw every event of the actor). `scenarios`: endpoint → scenario for its alerts.
 */
export interface SegmentReport {
  seg: string;
  through: number;
  p: number;
  P: number;
  part: number;
  parts: number;
  alerts: Alert[];
  links: [ActorRef, ActorRef][];
  scenarios: Record<string, string>;
}

/** `through` of a stretch closed by an end marker. */
export const END = 8.64e15;

/** Largest JSON value of a report part (the alerts topic is created to take 4 MB). */
export const REPORT_PART_BYTES = 900_000;
