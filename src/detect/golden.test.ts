/**
 * Golden fixtures for the detectors (testdata/detect/<case>/{events.jsonl, expected.json}): the events are
 * learned from (pass 1) and judged (pass 2) as `apiwarden analyze` does; the alerts must be exactly the
 * expected ones — type, detector and actors. testdata/detect/make.mjs wrote the events.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../features/enrich.js';
import { groupIncidents } from './incidents.js';
import { DetectionRun, ProfilingRun } from './run.js';

const ROOT = join(import.meta.dirname, '..', '..', 'testdata', 'detect');

function loadEvents(file: string): FeatureEvent[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l, i) => ({
      seq: i,
      device: null,
      token: null,
      user: null,
      host: 'shop.example',
      latencyMs: 20,
      bytesIn: null,
      sensitive: [],
      ...(JSON.parse(l) as Partial<FeatureEvent>),
    })) as FeatureEvent[];
}

function analyze(events: readonly FeatureEvent[]) {
  const learn = new ProfilingRun();
  for (const e of events) learn.push(e);
  const run = new DetectionRun(learn.build());
  for (const e of events) run.push(e);
  const alerts = run.finish();
  return { alerts, incidents: groupIncidents(alerts), stats: run.stats() };
}

const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

describe('detection golden fixtures', () => {
  it('has fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(4));
  for (const name of cases) {
    it(name, () => {
      const { alerts, stats } = analyze(loadEvents(join(ROOT, name, 'events.jsonl')));
      const expected = JSON.parse(readFileSync(join(ROOT, name, 'expected.json'), 'utf8'));
      const got = alerts.map((a) => ({
        type: a.type,
        detector: a.detector,
        actors: a.actors.map((x) => `${x.kind}:${x.value}`).sort(),
      }));
      expect(got).toEqual(expected.alerts);
      if (expected.verifiedCrawlerFindings !== undefined)
        expect(stats.verifiedCrawlerFindings).toBeGreaterThanOrEqual(expected.verifiedCrawlerFindings);
    });
  }
});

describe('detection is deterministic', () => {
  it('gives the same alert and incident ids on the same input', () => {
    const events = loadEvents(join(ROOT, 'credential_stuffing', 'events.jsonl'));
    const a = analyze(events);
    const b = analyze(events);
    expect(a.alerts.map((x) => x.id)).toEqual(b.alerts.map((x) => x.id));
    expect(a.incidents.map((x) => x.id)).toEqual(b.incidents.map((x) => x.id));
    expect(a.alerts.length).toBeGreaterThan(0);
  });
});

describe('actor links for the incident graph', () => {
  it('ties a device to every account it used, a token to its user and carriers, an address to its logins', () => {
    const base = loadEvents(join(ROOT, 'burst', 'events.jsonl')).slice(0, 50);
    const learn = new ProfilingRun();
    for (const e of base) learn.push(e);
    const run = new DetectionRun(learn.build());
    const t = base[0]!.ts;
    const ev = (over: Partial<FeatureEvent>): FeatureEvent => ({ ...base[1]!, ts: t + 1, ...over });
    run.push(ev({ ip: '198.51.100.7', device: 'dev-1', user: 'alice', token: 'aaaaaaaaaaaaaaaa' }));
    run.push(ev({ ip: '198.51.100.8', device: 'dev-1', user: 'bob', token: 'bbbbbbbbbbbbbbbb' }));
    run.push(ev({ ip: '198.51.100.9', token: 'aaaaaaaaaaaaaaaa', user: 'alice' }));
    run.push(ev({ ip: '198.51.100.9', scenario: 'authentication', status: 200, user: 'carol' }));
    const key = ([a, b]: [{ kind: string; value: string }, { kind: string; value: string }]) =>
      `${a.kind}:${a.value}>${b.kind}:${b.value}`;
    const links = run
      .links([
        { kind: 'device', value: 'dev-1' },
        { kind: 'token', value: 'aaaaaaaaaaaaaaaa' },
        { kind: 'ip', value: '198.51.100.9' },
      ])
      .map(key);
    expect(links).toEqual([
      'device:dev-1>user:alice',
      'device:dev-1>user:bob',
      'token:aaaaaaaaaaaaaaaa>user:alice',
      'token:aaaaaaaaaaaaaaaa>ip:198.51.100.7',
      'token:aaaaaaaaaaaaaaaa>ip:198.51.100.9',
      'ip:198.51.100.9>user:carol',
    ]);
  });
});
