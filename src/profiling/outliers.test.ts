import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../simulate/random.js';
import { EPS_FLOOR, periodOutliers } from './outliers.js';

describe('periodOutliers (1-D DBSCAN on log1p)', () => {
  it('finds a lone burst above a bulk of small counts', () => {
    const vals = [...Array.from({ length: 200 }, (_, i) => 1 + (i % 4)), 3000];
    const o = periodOutliers(vals);
    expect(o.inlierMax).toBe(4);
    expect(o.minOutlier).toBe(3000);
    expect(o.outliers).toBe(1);
  });

  it('keeps a crowd that is connected to the bulk (a flash sale) as normal', () => {
    const r = mulberry32(1);
    // 300 ordinary actors at 1-4, 60 at 4-12: a continuum, no gap wider than a factor of two.
    const vals = [
      ...Array.from({ length: 300 }, () => 1 + Math.floor(r() * 4)),
      ...Array.from({ length: 60 }, () => 4 + Math.floor(r() * 9)),
    ];
    const o = periodOutliers(vals);
    expect(o.minOutlier).toBeNull();
    expect(o.inlierMax).toBe(Math.max(...vals));
  });

  it('judges a separate crowd (a botnet at 40-60) as outliers, not as normal', () => {
    const r = mulberry32(2);
    const vals = [
      ...Array.from({ length: 300 }, () => 1 + Math.floor(r() * 3)),
      ...Array.from({ length: 40 }, () => 40 + Math.floor(r() * 21)),
    ];
    const o = periodOutliers(vals);
    expect(o.inlierMax).toBe(3);
    expect(o.outliers).toBe(40);
    expect(o.minOutlier).toBeGreaterThanOrEqual(40);
  });

  it('never splits small counts closer than the eps floor', () => {
    expect(Math.log1p(2) - Math.log1p(1)).toBeLessThan(EPS_FLOOR);
    const o = periodOutliers([1, 1, 1, 1, 1, 2, 2, 2, 3, 3]);
    expect(o.outliers).toBe(0);
    expect(o.inlierMax).toBe(3);
  });

  it('copes with empty and constant input', () => {
    expect(periodOutliers([])).toMatchObject({ n: 0, minOutlier: null, outliers: 0 });
    expect(periodOutliers([5, 5, 5, 5, 5, 5])).toMatchObject({ inlierMax: 5, minOutlier: null });
  });
});
