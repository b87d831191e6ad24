/**
 * Enrichment for features: an ApiEvent becomes a FeatureEvent with its endpoint (method + template, decided
 * online by the inventory's templater: id-shaped segments at once, word positions once they prove
 * high-cardinality), its scenario, the last numeric id in its path, and the hashes of the sensitive values
 * its response carried. Both engines read FeatureEvents — the stream engine directly, the batch engine from
 * the store, where they are written as columns — so they see the same endpoint for every event.
 */
import type { ApiEvent } from '../core/event.js';
import { inferScenario } from '../inventory/scenario.js';
import { Templater } from '../inventory/templater.js';
import type { SensitiveScanner } from '../sensitive/scanner.js';

export interface FeatureEvent {
  ts: number;
  /** Arrival order: breaks ties in time, the same in both engines. */
  seq: number;
  ip: string;
  device: string | null;
  token: string | null;
  user: string | null;
  host: string | null;
  method: string;
  path: string;
  /** `GET /api/v1/products/{id}` */
  endpoint: string;
  scenario: string;
  status: number;
  latencyMs: number | null;
  bytesOut: number | null;
  bytesIn: number | null;
  userAgent: string | null;
  /** The last all-digit path segment (≤ 15 digits), for sequential-id scores. */
  numericId: number | null;
  /** Hashes of sensitive values found in the response (empty without a scanner or a body). */
  sensitive: string[];
}

/** The last all-digit segment of a path, or null. */
export function numericIdOf(path: string): number | null {
  let end = path.length;
  while (end > 0) {
    const start = path.lastIndexOf('/', end - 1) + 1;
    const n = end - start;
    if (n > 0 && n <= 15) {
      let digits = true;
      for (let i = start; i < end; i++) {
        const c = path.charCodeAt(i);
        if (c < 48 || c > 57) {
          digits = false;
          break;
        }
      }
      if (digits) return Number(path.slice(start, end));
    }
    end = start - 1;
  }
  return null;
}

export class Enricher {
  private readonly templater = new Templater();
  private readonly endpoints = new Map<string, { endpoint: string; scenario: string }>();
  private seq: number;
  /** `firstSeq`: where arrival numbers start (a store appended to again continues after its highest). */
  constructor(
    private readonly scanner: SensitiveScanner | null = null,
    firstSeq = 0,
  ) {
    this.seq = firstSeq;
  }

  enrich(e: ApiEvent): FeatureEvent {
    const key = this.templater.add(e.host ?? '', e.path, e.status !== 404);
    const name = `${e.method} ${key}`;
    // One string instance per endpoint: engines look endpoints up in maps many times per event, and V8
    // hashes a string once per instance.
    let known = this.endpoints.get(name);
    if (known === undefined) {
      known = {
        endpoint: name,
        scenario: inferScenario({
          method: e.method,
          template: key,
          queryParams: [],
          bodyParams: [],
          responses: { contentTypes: {} },
        }),
      };
      if (this.endpoints.size < 100_000) this.endpoints.set(name, known);
    }
    const endpoint = known.endpoint;
    const scenario = known.scenario;
    let sensitive: string[] = [];
    if (this.scanner !== null && e.responseBody !== undefined)
      sensitive = this.scanner.scanEvent(e).response.map((f) => f.hash);
    return {
      ts: e.ts,
      seq: this.seq++,
      ip: e.ip,
      device: e.device,
      token: e.token,
      user: e.user,
      host: e.host,
      method: e.method,
      path: e.path,
      endpoint,
      scenario,
      status: e.status,
      latencyMs: e.latencyMs,
      bytesOut: e.bytesOut,
      bytesIn: e.bytesIn,
      userAgent: e.userAgent,
      numericId: numericIdOf(e.path),
      sensitive,
    };
  }
}
