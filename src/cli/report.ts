/**
 * A first look at traffic, aggregated on the fly (bounded memory): what `apiwarden demo` prints until the
 * inventory and detection stages land. Counts are exact; top lists keep every key, so this is for samples.
 */
import type { ApiEvent } from '../core/event.js';
import type { EventSink } from '../sinks/types.js';
import { int } from './human.js';

const top = (m: Map<string, number>, n: number) =>
  [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class TrafficReport implements EventSink {
  events = 0;
  readonly endpoints = new Map<string, number>();
  readonly statusClasses = new Map<string, number>();
  readonly ips = new Map<string, number>();
  readonly ipErrors = new Map<string, number>();
  readonly tokens = new Set<string>();
  readonly users = new Set<string>();
  readonly devices = new Set<string>();

  async write(events: readonly ApiEvent[]): Promise<void> {
    for (const e of events) {
      this.events++;
      bump(this.endpoints, `${e.method} ${e.path}`);
      bump(this.statusClasses, `${Math.floor(e.status / 100)}xx`);
      bump(this.ips, e.ip);
      if (e.status >= 400 && e.status < 500) bump(this.ipErrors, e.ip);
      if (e.token) this.tokens.add(e.token);
      if (e.user) this.users.add(e.user);
      if (e.device) this.devices.add(e.device);
    }
  }

  async close(): Promise<void> {}

  /** Plain text; every string from traffic is cut and shown as data (no terminal escapes pass through). */
  render(): string {
    const safe = (s: string) => JSON.stringify(s.length > 70 ? `${s.slice(0, 69)}…` : s).slice(1, -1);
    const table = (title: string, rows: [string, number][]) =>
      [`${title}`, ...rows.map(([k, v]) => `  ${int(v).padStart(8)}  ${safe(k)}`)].join('\n');
    const classes = [...this.statusClasses]
      .sort()
      .map(([k, v]) => `${k} ${int(v)}`)
      .join(', ');
    return [
      `events ${int(this.events)}; status ${classes}`,
      `actors: ${int(this.ips.size)} IPs, ${int(this.tokens.size)} tokens, ${int(this.users.size)} users, ${int(this.devices.size)} devices`,
      table('top requests', top(this.endpoints, 10)),
      table('busiest IPs', top(this.ips, 5)),
      table('IPs with most 4xx', top(this.ipErrors, 5)),
      '',
    ].join('\n');
  }
}
