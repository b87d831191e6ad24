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
