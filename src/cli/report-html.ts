/**
 * The self-contained HTML report of an analysis: inline SVG charts and tables, no script, no external
 * resource. Every string from traffic (paths, user agents, actor values, explanations) goes through `esc`,
 * so an attacker's `<script>` in a path is shown as text.
 */
import type { Incident } from '../detect/incidents.js';
import type { Anomaly } from '../detect/timeseries.js';
import type { Alert } from '../detect/types.js';

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function bars(title: string, points: readonly [number, number][], color: string): string {
  const w = 720;
  const h = 160;
  const pad = 30;
  if (points.length === 0) return `<h3>${esc(title)}</h3><p>no data</p>`;
  const max = Math.max(1, ...points.map((p) => p[1]));
  const bw = (w - pad * 2) / points.length;
  const rects = points
    .map(([t, v], i) => {
      const bh = ((h - pad * 2) * v) / max;
      const x = pad + i * bw;
      const label = `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')}: ${v}`;
      return `<rect x="${x.toFixed(1)}" y="${(h - pad - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${color}"><title>${esc(label)}</title></rect>`;
    })
    .join('');
  const first = new Date(points[0]![0]).toISOString().slice(0, 16).replace('T', ' ');
  const last = new Date(points[points.length - 1]![0]).toISOString().slice(0, 16).replace('T', ' ');
  return `<h3>${esc(title)}</h3><svg role="img" aria-label="${esc(title)}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#999"/>${rects}<text x="${pad}" y="${h - 8}" font-size="11">${esc(first)}</text><text x="${w - pad}" y="${h - 8}" font-size="11" text-anchor="end">${esc(last)}</text><text x="${pad}" y="${pad - 8}" font-size="11">max ${max}</text></svg>`;
}

export interface ReportInput {
  summary: Record<string, unknown>;
  alerts: readonly Alert[];
  incidents: readonly Incident[];
  anomalies: readonly Anomaly[];
  hourly: readonly [number, number][];
}

export function analysisReport(r: ReportInput): string {
  const hourOf = (t: number) => Math.floor(t / 3_600_000) * 3_600_000;
  const incHourly = new Map<number, number>();
  for (const [h] of r.hourly) incHourly.set(h, 0);
  for (const i of r.incidents)
    incHourly.set(hourOf(i.detectedTs), (incHourly.get(hourOf(i.detectedTs)) ?? 0) + 1);
  const byType = new Map<string, number>();
  for (const a of r.alerts) byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
  const endpoints = new Map<string, number>();
  for (const i of r.incidents) for (const e of i.endpoints) endpoints.set(e, (endpoints.get(e) ?? 0) + 1);
  const rows = r.incidents
    .slice(0, 500)
    .map(
      (i) =>
        `<tr><td class="sev-${esc(i.severity)}">${esc(i.severity)}</td><td>${esc(i.type)}</td><td>${esc(new Date(i.detectedTs).toISOString())}</td><td>${i.actors.length}: ${esc(
          i.actors
            .slice(0, 4)
            .map((a) => `${a.kind}:${a.value}`)
            .join(', '),
        )}${i.actors.length > 4 ? ' …' : ''}</td><td>${esc(i.endpoints.slice(0, 3).join(', '))}</td><td>${esc(i.explanation)}</td></tr>`,
    )
    .join('\n');
  const s = r.summary;
  const kv = (k: string, v: unknown) =>
    `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>apiwarden analysis</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top;word-break:break-word}th{background:#f5f5f5}.sev-critical{color:#fff;background:#7b1e1e}.sev-high{color:#fff;background:#c0392b}.sev-medium{background:#f5b041}.sev-low{background:#d6eaf8}</style>
</head><body>
<h1>apiwarden analysis</h1>
<table>${kv('inputs', s.inputs)}${kv('events', s.events)}${kv('malformed lines', s.malformed)}${kv('from', s.firstEvent)}${kv('to', s.lastEvent)}${kv('actors', s.actors)}${kv('endpoints', s.endpoints)}${kv('profile', s.profile)}${kv('incidents by type', s.incidents)}${kv('incidents by severity', s.severities)}</table>
${bars('Requests per hour', r.hourly, '#2e86c1')}
${bars(
  'Incidents detected per hour',
  [...incHourly].sort((a, b) => a[0] - b[0]),
  '#c0392b',
)}
<h3>Alerts by type</h3><table><tr><th>type</th><th>alerts</th></tr>${[...byType]
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `<tr><td>${esc(t)}</td><td>${n}</td></tr>`)
    .join('')}</table>
<h3>Most attacked endpoints</h3><table><tr><th>endpoint</th><th>incidents</th></tr>${[...endpoints]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([e, n]) => `<tr><td>${esc(e)}</td><td>${n}</td></tr>`)
    .join('')}</table>
<h3>Endpoint anomalies (${r.anomalies.length})</h3>
<table><tr><th>endpoint</th><th>metric</th><th>direction</th><th>from</th><th>to</th><th>peak</th><th>baseline</th><th>robust z</th></tr>${r.anomalies
    .slice(0, 200)
    .map(
      (a) =>
        `<tr><td>${esc(a.endpoint)}</td><td>${esc(a.metric)}</td><td>${esc(a.direction)}</td><td>${esc(new Date(a.startTs).toISOString())}</td><td>${esc(new Date(a.endTs).toISOString())}</td><td>${esc(Math.round(a.peak * 1000) / 1000)}</td><td>${esc(Math.round(a.baseline * 1000) / 1000)}</td><td>${esc(a.score.toFixed(1))}</td></tr>`,
    )
    .join('')}</table>
<h3>Incidents (${r.incidents.length}${r.incidents.length > 500 ? ', first 500' : ''})</h3>
<table><tr><th>severity</th><th>type</th><th>detected</th><th>actors</th><th>endpoints</th><th>explanation</th></tr>
${rows}
</table>
</body></html>
`;
}
