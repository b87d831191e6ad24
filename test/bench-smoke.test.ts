/**
 * Keeps the parse benchmark runnable: a tiny run of the built bench (built by `pretest`) must print one
 * valid JSON report in which every generated line parsed. No timing is asserted: speed lives in bench/.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

const run = promisify(execFile);

describe('bench/parse', () => {
  it('prints a JSON report where every generated line of every format parses', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(ROOT, 'dist', 'bench', 'parse.js'), '--lines', '5000', '--repeat', '1', '--no-e2e'],
      { cwd: ROOT, maxBuffer: 16 << 20 },
    );
    const report = JSON.parse(stdout) as {
      formats: Record<string, { events: number; malformed: number; linesPerSec: number }>;
    };
    const names = Object.keys(report.formats).sort();
    expect(names).toEqual(['alb', 'apisix', 'cloudflare', 'combined', 'envoy', 'kong', 'traefik']);
    for (const name of names) {
      expect(report.formats[name]!.malformed, name).toBe(0);
      expect(report.formats[name]!.events, name).toBe(5000);
      expect(report.formats[name]!.linesPerSec, name).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('bench/models', () => {
  it("prints a JSON report with our fit/score times and ROC-AUCs, and scikit-learn's when it is installed", async () => {
    // Tiny run; scikit-learn (/usr/bin/python3) takes a few seconds here. Without it, sklearn is null and
    // the reason must be a missing interpreter or module, never a failure of bench/models_sklearn.py.
    const { stdout } = await run(
      process.execPath,
      [join(ROOT, 'dist', 'bench', 'models.js'), '--sizes', '2000', '--repeat', '1'],
      { cwd: ROOT, maxBuffer: 16 << 20 },
    );
    type Side = { fitSec: number; scoreSec: number; rocAuc: number };
    const report = JSON.parse(stdout) as {
      sklearn: { sklearn: string } | null;
      sklearnReason: string | null;
      results: Record<
        string,
        Record<
          string,
          {
            ours: Side;
            sklearn: Side | null;
            ratios: { fit: number; score: number } | null;
            labels?: { identicalShare: number };
          }
        >
      >;
    };
    expect(Object.keys(report.results).sort()).toEqual(['dbscan', 'iforest', 'kmeans', 'ocsvm', 'ocsvmRff']);
    for (const [name, bySize] of Object.entries(report.results)) {
      const r = bySize['2000']!;
      expect(r.ours.fitSec, name).toBeGreaterThan(0);
      expect(r.ours.scoreSec, name).toBeGreaterThan(0);
      expect(r.ours.rocAuc, name).toBeGreaterThan(0.6);
      if (report.sklearn) {
        expect(r.sklearn!.rocAuc, name).toBeGreaterThan(0.6);
        expect(r.ratios!.fit, name).toBeGreaterThan(0);
      }
    }
    if (report.sklearn) {
      // Same data, same parameters: DBSCAN labels and the exact One-Class SVM's ranking agree with sklearn's.
      expect(report.results.dbscan!['2000']!.labels!.identicalShare).toBe(1);
      expect(report.results.ocsvm!['2000']!.sklearn!.rocAuc).toBeCloseTo(
        report.results.ocsvm!['2000']!.ours.rocAuc,
        3,
      );
    } else expect(report.sklearnReason).toMatch(/not found|import failed/);
  }, 120_000);
});
