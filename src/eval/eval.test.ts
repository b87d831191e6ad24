import { describe, expect, it } from 'vitest';
import { evaluate, rocAucSparse } from './eval.js';

describe('rocAucSparse', () => {
  it('counts absent lines as score 0 and ties at half, leaving out lines of neither class', () => {
    // Lines 1..6: positives 1, 2; negatives 3, 4, 5; line 6 is neither. Scores: 1 → 0.9, 3 → 0.5; the rest 0.
    const scores = new Map([
      [1, 0.9],
      [3, 0.5],
      [6, 1],
    ]);
    const auc = rocAucSparse(
      scores,
      6,
      (l) => l <= 2,
      (l) => l >= 3 && l <= 5,
    );
    // Pairs (pos, neg): 1 beats 3, 4, 5 (3); 2 ties 4 and 5 (1) and loses to 3 (0): 4 of 6.
    expect(auc).toBeCloseTo(4 / 6, 12);
    expect(
      rocAucSparse(
        scores,
        6,
        () => false,
        () => true,
      ),
    ).toBeNaN();
  });
});

describe('evaluate', () => {
  it('scores recall, latency and benign actors from incidents', () => {
    const r = evaluate(
      {
        start: '2026-03-02T00:00:00Z',
        end: '2026-03-03T00:00:00Z',
        campaigns: [
          {
            id: 'burst',
            firstSeen: '2026-03-02T10:00:00Z',
            lastSeen: '2026-03-02T10:02:00Z',
            requests: 10,
            actors: { ips: ['203.0.113.1', '203.0.113.2'], tokens: [], users: [], devices: [] },
          },
        ],
      },
      [
        {
          id: 'inc-1',
          type: 'high_frequency',
          actors: [{ kind: 'ip', value: '203.0.113.1' }],
          detectedTs: Date.parse('2026-03-02T10:03:00Z'),
        },
        { id: 'inc-2', type: 'scanner', actors: [{ kind: 'ip', value: '198.51.100.9' }], detectedTs: 0 },
      ],
      102,
    );
    expect(r.campaigns[0]).toMatchObject({
      detected: true,
      typeMatched: true,
      recall: 0.5,
      latencyMs: 180_000,
    });
    expect(r.campaigns[0]!.missed).toEqual(['ip:203.0.113.2']);
    expect(r.benign).toMatchObject({ actors: 100, flagged: 1, share: 0.01 });
  });
});
