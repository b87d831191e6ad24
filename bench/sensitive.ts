/**
 * Sensitive-data scanning throughput on one core. Run: `npm run bench:sensitive [-- --hours H --users U
 * --repeat R]`.
 *
 * Prints one JSON object on stdout (progress on stderr):
 * - `corpora`: what is scanned. `responses` are the simulator's response bodies (JSON with profiles, cards,
 *   exports, listings, errors: the realistic mix); `prose` is 4 KiB chunks of English and Chinese text with
 *   numbers, dates, versions, prices and hex ids but no personal data; `listings` are product listing bodies.
 * - `scan`: MB/s (UTF-8 bytes / 1e6 / best second of `--repeat` passes) of `scanText` per corpus, of
 *   `scanBody` (JSON.parse + walk + scan) over the responses, and of bare `JSON.parse` (the ceiling for
 *   `scanBody`).
 * - `naiveRegex`: the same corpora through 17 independent global regexes run one after another, without
 *   validators (the design the scanner avoids), for comparison.
 * - `findings`: findings per type in the responses (a sanity check that the run scanned what it should).
 * - `egress`: `EgressTracker.observe` per response, events/s.
 */

import { EgressTracker } from '../src/sensitive/egress.js';
import { SensitiveScanner } from '../src/sensitive/scanner.js';
import { Rng } from '../src/simulate/random.js';
import { arg } from './args.js';
import { benchSimulation } from './events.js';

const hours = Number(arg('--hours', '12'));
const users = Number(arg('--users', '3000'));
const repeat = Number(arg('--repeat', '3'));
const log = (s: string) => process.stderr.write(`${s}\n`);

// --- Corpora ------------------------------------------------------------------------------------------------

const t0 = performance.now();
const sim = benchSimulation(hours, users);
const responses: { actor: string; ts: number; body: string }[] = [];
const listings: string[] = [];
for (const batch of sim.run()) {
  for (const r of batch) {
    if (!r.responseBody) continue;
    responses.push({ actor: r.actor, ts: r.ts, body: r.responseBody });
    if (r.route >= 0 && r.responseBody.startsWith('{"page"') && r.responseBody.includes('"price"'))
      listings.push(r.responseBody);
  }
}
log(`simulated ${responses.length} responses in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** Prose without personal data: the numbers in it are prices, dates, counts, versions and ids. */
function prose(bytes: number): string[] {
  const r = new Rng(7);
  const words =
    'the a of to and in is for on that with as by this be are from at or an it not was have which has we all can more will one about system request response service latency error cache user order product price shipping update release version build deploy cluster region traffic window rate limit'.split(
      ' ',
    );
  const zh =
    '系统 请求 响应 服务 延迟 错误 缓存 用户 订单 商品 价格 发货 更新 版本 部署 集群 区域 流量 窗口 限流'.split(
      ' ',
    );
  const chunks: string[] = [];
  let total = 0;
  while (total < bytes) {
    let s = '';
    while (s.length < 4096) {
      const k = r.int(0, 9);
      if (k < 6) s += `${r.pick(words)} `;
      else if (k === 6) s += `${r.pick(zh)}`;
      else if (k === 7) s += `${r.int(1, 9999)}.${r.int(10, 99)} `;
      else if (k === 8)
        s += r.pick([
          `2026-03-${String(r.int(1, 28)).padStart(2, '0')} `,
          `v${r.int(1, 9)}.${r.int(0, 20)}.${r.int(0, 99)} `,
          `${r.hex(12)} `,
          `#${r.int(100, 99999)} `,
          `${r.uuid()} `,
        ]);
      else s += r.pick(['. ', ', ', '; ', '(', ') ', ': ', '\n']);
    }
    chunks.push(s);
    total += Buffer.byteLength(s);
  }
  return chunks;
}

const responseBodies = responses.map((r) => r.body);
const corpora: Record<string, string[]> = {
  responses: responseBodies,
  prose: prose(32 << 20),
  listings,
};
const bytesOf = (xs: readonly string[]) => xs.reduce((n, s) => n + Buffer.byteLength(s), 0);
const sizes = Object.fromEntries(
  Object.entries(corpora).map(([k, v]) => [k, { texts: v.length, bytes: bytesOf(v) }]),
);

// --- Timing -------------------------------------------------------------------------------------------------

/** Best wall time of `repeat` passes (after one warm-up pass), in seconds. */
function best(fn: () => number): { sec: number; out: number } {
  let out = fn();
  let sec = Number.POSITIVE_INFINITY;
  for (let k = 0; k < repeat; k++) {
    const s = performance.now();
    out = fn();
    sec = Math.min(sec, (performance.now() - s) / 1000);
  }
  return { sec, out };
}

const mbps = (bytes: number, sec: number) => Math.round((bytes / 1e6 / sec) * 10) / 10;

const scanner = new SensitiveScanner();
const scan: Record<string, { mbPerSec: number; bestSec: number; findings: number }> = {};
for (const [name, texts] of Object.entries(corpora)) {
  const r = best(() => {
    let n = 0;
    for (const t of texts) n += scanner.scanText(t).length;
    return n;
  });
  scan[`scanText.${name}`] = {
    mbPerSec: mbps(sizes[name]!.bytes, r.sec),
    bestSec: round(r.sec),
    findings: r.out,
  };
  log(`scanText ${name}: ${scan[`scanText.${name}`]!.mbPerSec} MB/s`);
}
{
  const r = best(() => {
    let n = 0;
    for (const t of responseBodies) n += scanner.scanBody(t, 'response').length;
    return n;
  });
  scan['scanBody.responses'] = {
    mbPerSec: mbps(sizes.responses!.bytes, r.sec),
    bestSec: round(r.sec),
    findings: r.out,
  };
  const p = best(() => {
    let n = 0;
    for (const t of responseBodies) {
      try {
        n += JSON.parse(t) === null ? 0 : 1;
      } catch {
        // Some bodies are plain text.
      }
    }
    return n;
  });
  scan['jsonParse.responses'] = {
    mbPerSec: mbps(sizes.responses!.bytes, p.sec),
    bestSec: round(p.sec),
    findings: 0,
  };
  log(`scanBody responses: ${scan['scanBody.responses']!.mbPerSec} MB/s`);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

// --- The design the scanner avoids: one regex per type, one after another --------------------------------

const NAIVE = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
  /(?<!\d)1[3-9]\d{9}(?!\d)/g,
  /\+\d[\d ()-]{7,18}\d/g,
  /(?<!\d)\d{17}[\dXx](?!\d)/g,
  /(?<!\d)\d{13,19}(?!\d)/g,
  /\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b/g,
  /\b\d{3}-\d{2}-\d{4}\b/g,
  /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g,
  /\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7}\b/g,
  /\beyJ[\w-]+\.[\w-]+\.[\w-]*/g,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g,
  /\b[spr]k_live_[A-Za-z0-9]{24,}\b/g,
  /\bAIza[\w-]{35}\b/g,
  /\bxox[baprs]-[\w-]{10,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/g,
  /\b(?:password|passwd|pwd|secret)["']?\s*[:=]\s*["']?[^"'&\s]+/gi,
];
const naiveRegex: Record<string, { mbPerSec: number; matches: number }> = {};
for (const [name, texts] of Object.entries(corpora)) {
  const r = best(() => {
    let n = 0;
    for (const t of texts) for (const re of NAIVE) for (const _ of t.matchAll(re)) n++;
    return n;
  });
  naiveRegex[name] = { mbPerSec: mbps(sizes[name]!.bytes, r.sec), matches: r.out };
  log(`naive regexes ${name}: ${naiveRegex[name]!.mbPerSec} MB/s`);
}

// --- Findings and egress ------------------------------------------------------------------------------------

const findings: Record<string, number> = {};
const perResponse = responseBodies.map((b) => scanner.scanBody(b, 'response'));
for (const fs of perResponse) for (const f of fs) findings[f.type] = (findings[f.type] ?? 0) + 1;

let records = 0;
const e0 = performance.now();
const tracker = new EgressTracker();
for (let i = 0; i < responses.length; i++)
  records += tracker.observe(responses[i]!.actor, responses[i]!.ts, perResponse[i]!).length;
records += tracker.flush().length;
const egressSec = (performance.now() - e0) / 1000;

process.stdout.write(
  `${JSON.stringify(
    {
      node: process.version,
      options: { hours, users, repeat },
      corpora: sizes,
      scan,
      naiveRegex,
      findings,
      egress: { events: responses.length, records, eventsPerSec: Math.round(responses.length / egressSec) },
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  )}\n`,
);
