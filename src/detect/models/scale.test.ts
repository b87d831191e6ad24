import { describe, expect, it } from 'vitest';
import { Scaler } from './scale.js';
import { fixture, uniform } from './testing.js';
import { fromRows, type Matrix, matrix } from './types.js';

interface ScaleFixture {
  sklearn: string;
  x: number[][];
  standard: number[][];
  robust: number[][];
  robustLog1: number[][];
}

function expectClose(got: Matrix, want: number[][], digits: number): void {
  expect(got.rows).toBe(want.length);
  for (let i = 0; i < got.rows; i++)
    for (let j = 0; j < got.cols; j++) expect(got.data[i * got.cols + j]).toBeCloseTo(want[i]![j]!, digits);
}

describe('Scaler', () => {
  const fx = fixture<ScaleFixture>('scale.json');
  const x = fromRows(fx.x);

  it('equals scikit-learn StandardScaler and RobustScaler (testdata/models/scale.json)', () => {
    expectClose(Scaler.fit(x, { method: 'standard' }).transform(x), fx.standard, 12);
    expectClose(Scaler.fit(x, { method: 'robust' }).transform(x), fx.robust, 12);
    expectClose(Scaler.fit(x).transform(x), fx.robust, 12);
    // log1p on column 1 before scaling, as scikit-learn on np.log1p of that column.
    expectClose(Scaler.fit(x, { method: 'robust', log1p: [1] }).transform(x), fx.robustLog1, 12);
  });

  it('computes centre and scale by hand on a small column', () => {
    const y = fromRows([[1], [2], [3], [4], [10]]);
    const std = Scaler.fit(y, { method: 'standard' });
    expect(std.center[0]).toBe(4);
    expect(std.scale[0]).toBe(Math.sqrt((9 + 4 + 1 + 0 + 36) / 5));
    const rob = Scaler.fit(y, { method: 'robust' });
    expect(rob.center[0]).toBe(3);
    expect(rob.scale[0]).toBe(2); // q75 = 4, q25 = 2
    expect(Array.from(rob.transform(y).data)).toEqual([-1, -0.5, 0, 0.5, 3.5]);
    // Interpolated quartiles: positions 0.75 and 2.25 of [1, 2, 3, 10] give 1.75 and 4.75.
    const z = Scaler.fit(fromRows([[10], [1], [3], [2]]), { method: 'robust' });
    expect(z.center[0]).toBe(2.5);
    expect(z.scale[0]).toBe(3);
  });

  it('falls back to the standard deviation when the IQR is 0, and to 1 for a constant column', () => {
    const y = fromRows([
      [5, 7],
      [5, 7],
      [5, 7],
      [5, 7],
      [9, 7],
    ]);
    const s = Scaler.fit(y, { method: 'robust' });
    expect(s.center[0]).toBe(5);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt((4 * 0.8 ** 2 + 3.2 ** 2) / 5), 15);
    expect(s.scale[1]).toBe(1);
    expect(Scaler.fit(y, { method: 'standard' }).scale[1]).toBe(1);
    expect(Array.from(s.transform(y).data.filter((_, i) => i % 2 === 1))).toEqual([0, 0, 0, 0, 0]);
  });

  it('applies log1p to the chosen columns (sign-preserving for negatives)', () => {
    const y = fromRows([
      [0, 0],
      [Math.E - 1, Math.E - 1],
      [-(Math.E - 1), 3],
    ]);
    const s = Scaler.fit(y, { method: 'standard', log1p: true });
    expect(Array.from(s.log)).toEqual([1, 1]);
    const row = new Float64Array(2);
    s.transformRow([Math.E - 1, 0], 0, row, 0);
    expect(row[0]).toBeCloseTo((1 - s.center[0]!) / s.scale[0]!, 14);
    expect(s.center[0]).toBeCloseTo(0, 15); // log1p values 0, 1, -1
    const only = Scaler.fit(y, { log1p: [1] });
    expect(Array.from(only.log)).toEqual([0, 1]);
  });

  it('transforms a row in place and round-trips through JSON', () => {
    const y = uniform(200, 3, 4, -10, 100);
    const s = Scaler.fit(y, { method: 'robust', log1p: [2] });
    const back = Scaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(back.toJSON()).toEqual(s.toJSON());
    const a = s.transform(y);
    expect(Array.from(back.transform(y).data)).toEqual(Array.from(a.data));
    const copy = Float64Array.from(y.data);
    for (let i = 0; i < y.rows; i++) s.transformRow(copy, i * 3, copy, i * 3);
    expect(Array.from(copy)).toEqual(Array.from(a.data));
    expect(s.transform(matrix(0, 3)).rows).toBe(0);
  });

  it('rejects bad input and malformed JSON with clear errors', () => {
    expect(() => Scaler.fit(matrix(0, 2))).toThrow(/empty matrix/);
    const nan = uniform(5, 2, 1);
    nan.data[3] = Number.NaN;
    expect(() => Scaler.fit(nan)).toThrow(/row 1, column 1 is NaN/);
    expect(() => Scaler.fit(uniform(5, 2, 1), { log1p: [2] })).toThrow(/log1p column 2/);
    expect(() => Scaler.fit(uniform(5, 2, 1), { method: 'minmax' as 'robust' })).toThrow(/method must be/);
    const s = Scaler.fit(uniform(5, 2, 1));
    expect(() => s.transform(uniform(5, 3, 1))).toThrow(/3 columns, the model has 2/);
    const good = s.toJSON();
    expect(() => Scaler.fromJSON({ ...good, kind: 'x' })).toThrow(/field "kind"/);
    expect(() => Scaler.fromJSON({ ...good, scale: [1] })).toThrow(/field "scale" must have 2 values/);
    expect(() => Scaler.fromJSON({ ...good, scale: [1, -1] })).toThrow(/field "scale" value 1 must be > 0/);
    expect(() => Scaler.fromJSON({ ...good, log1p: [0, 2] })).toThrow(/field "log1p"/);
    expect(() => Scaler.fromJSON({ ...good, method: 'x' })).toThrow(/field "method"/);
    expect(() => Scaler.fromJSON({ ...good, center: [] })).toThrow(/field "center"/);
  });
});
