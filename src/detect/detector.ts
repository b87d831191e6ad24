/**
 * One interface for every detector: it sees enriched events and/or closed feature windows, and reports
 * findings (src/detect/alerts.ts). A detector is named after the behaviour it finds.
 */
import type { ActorKind } from '../core/event.js';
import type { IntelCategory } from '../enrich/intel-index.js';
import type { FeatureEvent } from '../features/enrich.js';
import type { Snapshot } from '../features/stream.js';
import type { Profile } from '../profiling/profile.js';
import type { Finding } from './alerts.js';
import type { ActorRef } from './types.js';

/** What threat intel says about an address and a user agent: the categories of the lists that name them. */
export interface IntelCategories {
  readonly address: readonly IntelCategory[];
  readonly agent: readonly IntelCategory[];
}

export interface DetectorContext {
  readonly profile: Profile;
  /** The scenario of an endpoint seen in traffic ('' when unknown). */
  scenarioOf(endpoint: string): string;
  /** First and last event time of an actor (undefined: never seen). */
  span(kind: ActorKind, value: string): { first: number; last: number } | undefined;
  /** Distinct tokens and devices seen from an IP in the current hour (a NAT or an office carries many). */
  identitiesBehind(ip: string): number;
  /**
   * Actors of other kinds tied to this one: the user a token or device authenticated as, and the addresses
   * that carried a token at or after `since`.
   */
  linked(kind: ActorKind, value: string, since: number): ActorRef[];
  /** Users an IP logged in as (successful authentication answered for that user), at most a few. */
  loggedIn(ip: string): string[];
  /**
   * Threat intel (docs/intel.md) as input features: the categories of the lists naming the address and the
   * agent (`null`: no agent to look up). Absent when no intel is configured. A detector may use them as
   * features next to behaviour, never as the only reason for a finding.
   */
  intelOf?(ip: string, userAgent: string | null): IntelCategories;
  emit(f: Finding): void;
}

export interface Detector {
  readonly name: string;
  onEvent?(e: FeatureEvent): void;
  onSnapshot?(s: Snapshot): void;
  /** End of input: report what is still pending. */
  finish?(): void;
}
