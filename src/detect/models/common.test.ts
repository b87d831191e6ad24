import { describe, expect, it } from 'vitest';
import { checkFitMatrix, JsonReader, Rng, topContributions } from './common.js';
import { matrix } from './types.js';

describe('Rng', () => {
  it('is deterministic by seed and uniform-ish in [0, 1)', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const va = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(va);
    expect(Array.from({ length: 1000 }, () => c.next())).not.toEqual(va);
    expect(Math.min(...va)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...va)).toBeLessThan(1);
    const mean = va.reduce((s, v) => s + v, 0) / va.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    // Fixed first values: a change of the generator changes every seeded model.
    expect(new Rng(0).next()).toBe(new Rng(0).next());
    expect(new Rng(2 ** 40).next()).not.toBe(new Rng(0).next());
  });

  it('draws integers in range and normals with about unit variance', () => {
    const r = new Rng(1);
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 5000; i++) counts[r.int(5)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < 20000; i++) {
      const g = r.gaussian();
      s += g;
      s2 += g * g;
    }
    expect(Math.abs(s / 20000)).toBeLessThan(0.05);
    expect(Math.abs(s2 / 20000 - 1)).toBeLessThan(0.05);
  });

  it('rejects a non-integer seed', () => {
    expect(() => new Rng(1.5)).toThrow(/seed must be a safe integer/);
  });
});

describe('topContributions', () => {
  it('orders by weight, then column, drops zero weights, names columns', () => {
    const w = new Float64Array([0.2, 0, 0.5, 0.2]);
    const row = [10, 11, 12, 13];
    expect(topContributions(w, row, undefined, undefined, 't')).toEqual([
      { index: 2, value: 12, weight: 0.5 },
      { index: 0, value: 10, weight: 0.2 },
      { index: 3, value: 13, weight: 0.2 },
    ]);
    expect(topContributions(w, row, 1, ['a', 'b', 'c', 'd'], 't')).toEqual([
      { index: 2, name: 'c', value: 12, weight: 0.5 },
    ]);
    expect(topContributions(w, row, 0, undefined, 't')).toEqual([]);
  });
});

describe('input checks', () => {
  it('name the problem', () => {
    expect(() => checkFitMatrix(matrix(2, 0), 'x')).toThrow(/x: empty matrix \(2 x 0\)/);
    expect(() => checkFitMatrix({ rows: 1, cols: 2, data: [1, 2] as unknown as Float64Array }, 'x')).toThrow(
      /expected a Matrix/,
    );
  });

  it('JsonReader names the field', () => {
    const r = new JsonReader({ kind: 'k', version: 1, a: 1.5, b: [1, 'x'], c: true }, 'k', 1);
    expect(() => r.int('a')).toThrow(/k.fromJSON: field "a" must be an integer, got 1.5/);
    expect(() => r.f64('b')).toThrow(/field "b" value 1 must be a finite number, got "x"/);
    expect(() => r.num('missing')).toThrow(
      /field "missing" must be a finite number, got undefined \(missing\)/,
    );
    expect(r.bool('c')).toBe(true);
    expect(() => new JsonReader([], 'k', 1)).toThrow(/expected an object/);
    expect(() => new JsonReader({ kind: 'k' }, 'k', 1)).toThrow(/field "version" must be 1/);
  });
});
