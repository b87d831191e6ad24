/**
 * Spatial indexes for Euclidean neighbour queries: a KD-tree (any number of columns) and, below, a uniform
 * grid for a fixed radius over 1- or 2-column data (DBSCAN's fast path).
 *
 * A KD-tree over the rows of a row-major Float64Array, for radius and nearest-neighbour queries in
 * Euclidean distance (DBSCAN's neighbourhoods and its nearest-core-point score).
 *
 * Build: nodes split at the median of their widest column (quickselect) until at most `leafSize` rows
 * remain, so the depth is about log2(n / leafSize). The points are copied in leaf order into one array
 * (a leaf's rows are contiguous in memory) and every node keeps its bounding box. Queries prune a node
 * whose box is farther than the radius and, for radius queries, take a node whose box lies entirely inside
 * the ball without testing its points one by one.
 *
 * Distances are compared squared: a point is within radius r of q when sum_j (q_j - p_j)^2 <= r^2, summed
 * over columns in order (scikit-learn's KDTree compares the same "reduced distance"). Box pruning and the
 * whole-box shortcut give exactly the answers of that test applied to every point (rounding is monotone).
 *
 * API:
 *   KDTree.build(data, rows, cols, leafSize = 16) -> tree
 *   tree.radius(q, qOffset, r, out: IndexList) -> count       (original row indices, unordered)
 *   tree.countWithin(q, qOffset, r, limit = Infinity) -> count   (stops counting at `limit`)
 *   tree.nearest(q, qOffset) -> original row index (tree.lastDist2: its squared distance; -1 if empty)
 *   tree.kthNearestDist2(q, qOffset, k) -> squared distance to the k-th nearest point (a point at q counts)
 *   new IndexList() -> a growable Int32Array of results: .items, .length, .clear()
 *   Grid.build(data, rows, cols, r) -> grid | null; grid.radius(q, qOffset, out) -> count  (see Grid)
 */

/** A growable list of row indices, reused across queries. */
export class IndexList {
  items: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.items = new Int32Array(Math.max(1, capacity));
  }

  clear(): void {
    this.length = 0;
  }

  push(v: number): void {
    if (this.length === this.items.length) this.grow(this.length + 1);
    this.items[this.length++] = v;
  }

  grow(min: number): void {
    let cap = this.items.length * 2;
    while (cap < min) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.items.subarray(0, this.length));
    this.items = next;
  }

  toArray(): number[] {
    return Array.from(this.items.subarray(0, this.length));
  }
}

export class KDTree {
  readonly rows: number;
  readonly cols: number;
  /** The points in leaf order (row-major, rows x cols). */
  readonly points: Float64Array;
  /** Original row index of each point in `points`. */
  readonly index: Int32Array;
  /** Per node: first and one-past-last point, children (-1 at leaves), box (lo then hi, cols each). */
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly box: Float64Array;
  /** Squared distance of the last `nearest` answer. */
  lastDist2 = Infinity;
  private stack: Int32Array;
  private bounds: Float64Array;
  /** Max-heap of the k smallest squared distances (kthNearestDist2), grown on demand. */
  private heap = new Float64Array(0);

  private constructor(
    rows: number,
    cols: number,
    points: Float64Array,
    index: Int32Array,
    start: Int32Array,
    end: Int32Array,
    left: Int32Array,
    right: Int32Array,
    box: Float64Array,
    depth: number,
  ) {
    this.rows = rows;
    this.cols = cols;
    this.points = points;
    this.index = index;
    this.start = start;
    this.end = end;
    this.left = left;
    this.right = right;
    this.box = box;
    this.stack = new Int32Array(depth + 4);
    this.bounds = new Float64Array(depth + 4);
  }

  get nodes(): number {
    return this.start.length;
  }

  static build(data: Float64Array, rows: number, cols: number, leafSize = 16): KDTree {
    if (
      !Number.isInteger(rows) ||
      rows < 0 ||
      !Number.isInteger(cols) ||
      cols < 1 ||
      data.length < rows * cols
    )
      throw new RangeError(`KDTree.build: bad shape ${rows} x ${cols} for ${data.length} values`);
    if (!Number.isInteger(leafSize) || leafSize < 1)
      throw new RangeError(`KDTree.build: leafSize must be an integer >= 1, got ${leafSize}`);
    const idx = new Int32Array(rows);
    for (let i = 0; i < rows; i++) idx[i] = i;
    const cap = rows <= leafSize ? 1 : 2 * Math.ceil(rows / leafSize) * 2;
    const start = new Int32Array(cap);
    const end = new Int32Array(cap);
    const left = new Int32Array(cap);
    const right = new Int32Array(cap);
    const box = new Float64Array(cap * 2 * cols);
    let nodes = 0;
    let maxDepth = 0;
    // Work stack of (node, depth).
    const work: number[] = [];
    nodes = 1;
    start[0] = 0;
    end[0] = rows;
    work.push(0, 0);
    while (work.length > 0) {
      const depth = work.pop()!;
      const node = work.pop()!;
      if (depth > maxDepth) maxDepth = depth;
      const s = start[node]!;
      const e = end[node]!;
      const bo = node * 2 * cols;
      for (let j = 0; j < cols; j++) {
        box[bo + j] = Infinity;
        box[bo + cols + j] = -Infinity;
      }
      for (let p = s; p < e; p++) {
        const o = idx[p]! * cols;
        for (let j = 0; j < cols; j++) {
          const v = data[o + j]!;
          if (v < box[bo + j]!) box[bo + j] = v;
          if (v > box[bo + cols + j]!) box[bo + cols + j] = v;
        }
      }
      left[node] = -1;
      right[node] = -1;
      if (e - s <= leafSize) continue;
      let dim = 0;
      let spread = -1;
      for (let j = 0; j < cols; j++) {
        const w = box[bo + cols + j]! - box[bo + j]!;
        if (w > spread) {
          spread = w;
          dim = j;
        }
      }
      if (!(spread > 0)) continue; // all points equal: one leaf
      const mid = (s + e) >>> 1;
      select(idx, data, cols, dim, s, e - 1, mid);
      const l = nodes++;
      const r = nodes++;
      start[l] = s;
      end[l] = mid;
      start[r] = mid;
      end[r] = e;
      left[node] = l;
      right[node] = r;
      work.push(r, depth + 1, l, depth + 1);
    }
    const points = new Float64Array(rows * cols);
    for (let p = 0; p < rows; p++) points.set(data.subarray(idx[p]! * cols, idx[p]! * cols + cols), p * cols);
    return new KDTree(
      rows,
      cols,
      points,
      idx,
      start.slice(0, nodes),
      end.slice(0, nodes),
      left.slice(0, nodes),
      right.slice(0, nodes),
      box.slice(0, nodes * 2 * cols),
      maxDepth,
    );
  }

  /** Squared distance from q to the node's box (0 inside). */
  private minDist2(node: number, q: Float64Array, qo: number): number {
    const cols = this.cols;
    const box = this.box;
    const bo = node * 2 * cols;
    let d = 0;
    for (let j = 0; j < cols; j++) {
      const v = q[qo + j]!;
      const lo = box[bo + j]!;
      const hi = box[bo + cols + j]!;
      if (v < lo) {
        const t = lo - v;
        d += t * t;
      } else if (v > hi) {
        const t = v - hi;
        d += t * t;
      }
    }
    return d;
  }

  /** Squared distance from q to the farthest corner of the node's box. */
  private maxDist2(node: number, q: Float64Array, qo: number): number {
    const cols = this.cols;
    const box = this.box;
    const bo = node * 2 * cols;
    let d = 0;
    for (let j = 0; j < cols; j++) {
      const v = q[qo + j]!;
      const a = v - box[bo + j]!;
      const b = box[bo + cols + j]! - v;
      const t = Math.max(a, b);
      d += t * t;
    }
    return d;
  }

  /** Appends to `out` the original indices of the points within `r` of q (inclusive); returns how many. */
  radius(q: Float64Array, qo: number, r: number, out: IndexList): number {
    if (this.rows === 0) return 0;
    const r2 = r * r;
    const { cols, points, index, start, end, left, right } = this;
    const stack = this.stack;
    let sp = 0;
    stack[sp++] = 0;
    let found = 0;
    while (sp > 0) {
      const node = stack[--sp]!;
      if (this.minDist2(node, q, qo) > r2) continue;
      const s = start[node]!;
      const e = end[node]!;
      if (this.maxDist2(node, q, qo) <= r2) {
        const n = e - s;
        if (out.length + n > out.items.length) out.grow(out.length + n);
        out.items.set(index.subarray(s, e), out.length);
        out.length += n;
        found += n;
        continue;
      }
      if (left[node]! >= 0) {
        stack[sp++] = right[node]!;
        stack[sp++] = left[node]!;
        continue;
      }
      for (let p = s; p < e; p++) {
        const po = p * cols;
        let d = 0;
        for (let j = 0; j < cols; j++) {
          const t = q[qo + j]! - points[po + j]!;
          d += t * t;
        }
        if (d <= r2) {
          out.push(index[p]!);
          found++;
        }
      }
    }
    return found;
  }

  /** Number of points within `r` of q (inclusive), counting no further once `limit` is reached. */
  countWithin(q: Float64Array, qo: number, r: number, limit = Infinity): number {
    if (this.rows === 0) return 0;
    const r2 = r * r;
    const { cols, points, start, end, left, right } = this;
    const stack = this.stack;
    let sp = 0;
    stack[sp++] = 0;
    let count = 0;
    while (sp > 0) {
      const node = stack[--sp]!;
      if (this.minDist2(node, q, qo) > r2) continue;
      const s = start[node]!;
      const e = end[node]!;
      if (this.maxDist2(node, q, qo) <= r2) {
        count += e - s;
        if (count >= limit) return count;
        continue;
      }
      if (left[node]! >= 0) {
        stack[sp++] = right[node]!;
        stack[sp++] = left[node]!;
        continue;
      }
      for (let p = s; p < e; p++) {
        const po = p * cols;
        let d = 0;
        for (let j = 0; j < cols; j++) {
          const t = q[qo + j]! - points[po + j]!;
          d += t * t;
        }
        if (d <= r2 && ++count >= limit) return count;
      }
    }
    return count;
  }

  /**
   * Original index of the point nearest to q (the lowest index among equally near points), or -1 when the
   * tree is empty; its squared distance is left in `lastDist2`.
   */
  nearest(q: Float64Array, qo: number): number {
    this.lastDist2 = Infinity;
    if (this.rows === 0) return -1;
    const { cols, points, index, start, end, left, right } = this;
    const stack = this.stack;
    const bounds = this.bounds;
    let best = -1;
    let bestD = Infinity;
    let sp = 0;
    stack[sp] = 0;
    bounds[sp++] = this.minDist2(0, q, qo);
    while (sp > 0) {
      const node = stack[--sp]!;
      if (bounds[sp]! > bestD) continue;
      const l = left[node]!;
      if (l >= 0) {
        const r = right[node]!;
        const dl = this.minDist2(l, q, qo);
        const dr = this.minDist2(r, q, qo);
        // Nearer child on top of the stack, so it is searched first.
        if (dl <= dr) {
          stack[sp] = r;
          bounds[sp++] = dr;
          stack[sp] = l;
          bounds[sp++] = dl;
        } else {
          stack[sp] = l;
          bounds[sp++] = dl;
          stack[sp] = r;
          bounds[sp++] = dr;
        }
        continue;
      }
      for (let p = start[node]!, e = end[node]!; p < e; p++) {
        const po = p * cols;
        let d = 0;
        for (let j = 0; j < cols; j++) {
          const t = q[qo + j]! - points[po + j]!;
          d += t * t;
        }
        if (d < bestD || (d === bestD && index[p]! < best)) {
          bestD = d;
          best = index[p]!;
        }
      }
    }
    this.lastDist2 = bestD;
    return best;
  }

  /**
   * Squared distance from q to its k-th nearest point, ties counted (k >= 1): a point of the tree equal to q
   * counts, at distance 0, so for q one of the tree's rows and k = minPts this is its DBSCAN core distance
   * squared (the row is a core point for every eps at or above its square root). Infinity when the tree
   * holds fewer than k points. A max-heap keeps the k smallest distances seen; nodes farther than the
   * heap's top are pruned once it is full.
   */
  kthNearestDist2(q: Float64Array, qo: number, k: number): number {
    if (!Number.isInteger(k) || k < 1)
      throw new RangeError(`KDTree.kthNearestDist2: k must be an integer >= 1, got ${k}`);
    if (this.rows < k) return Infinity;
    if (this.heap.length < k) this.heap = new Float64Array(k);
    const heap = this.heap;
    let size = 0;
    const { cols, points, start, end, left, right } = this;
    const stack = this.stack;
    const bounds = this.bounds;
    let sp = 0;
    stack[sp] = 0;
    bounds[sp++] = this.minDist2(0, q, qo);
    while (sp > 0) {
      const node = stack[--sp]!;
      if (size === k && bounds[sp]! >= heap[0]!) continue;
      const l = left[node]!;
      if (l >= 0) {
        const r = right[node]!;
        const dl = this.minDist2(l, q, qo);
        const dr = this.minDist2(r, q, qo);
        if (dl <= dr) {
          stack[sp] = r;
          bounds[sp++] = dr;
          stack[sp] = l;
          bounds[sp++] = dl;
        } else {
          stack[sp] = l;
          bounds[sp++] = dl;
          stack[sp] = r;
          bounds[sp++] = dr;
        }
        continue;
      }
      for (let p = start[node]!, e = end[node]!; p < e; p++) {
        const po = p * cols;
        let d = 0;
        for (let j = 0; j < cols; j++) {
          const t = q[qo + j]! - points[po + j]!;
          d += t * t;
        }
        if (size < k) {
          // Sift up.
          let i = size++;
          while (i > 0) {
            const parent = (i - 1) >> 1;
            if (heap[parent]! >= d) break;
            heap[i] = heap[parent]!;
            i = parent;
          }
          heap[i] = d;
        } else if (d < heap[0]!) {
          // Replace the largest and sift down.
          let i = 0;
          for (;;) {
            const a = 2 * i + 1;
            if (a >= k) break;
            const b = a + 1;
            const c = b < k && heap[b]! > heap[a]! ? b : a;
            if (heap[c]! <= d) break;
            heap[i] = heap[c]!;
            i = c;
          }
          heap[i] = d;
        }
      }
    }
    return heap[0]!;
  }
}

/** Quickselect: reorders idx[lo..hi] so that idx[k] holds the k-th smallest by column `dim`. */ /** Quickselect: reorders idx[lo..hi] so that idx[k] holds the k-th smallest by column `dim`. */
function select(
  idx: Int32Array,
  data: Float64Array,
  cols: number,
  dim: number,
  lo: number,
  hi: number,
  k: number,
): void {
  while (hi > lo) {
    // Median of three as pivot.
    const mid = (lo + hi) >>> 1;
    const a = data[idx[lo]! * cols + dim]!;
    const b = data[idx[mid]! * cols + dim]!;
    const c = data[idx[hi]! * cols + dim]!;
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (data[idx[i]! * cols + dim]! < pivot) i++;
      while (data[idx[j]! * cols + dim]! > pivot) j--;
      if (i <= j) {
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * A uniform grid over 1- or 2-column points for a fixed query radius r, built so that
 *   - any two points in the same cell are within r of each other (the cell side is r / sqrt(cols), less a
 *     relative 1e-6 margin that absorbs the rounding of the cell computation), and
 *   - every point within r of a point lies in a cell at most 2 cells away in each column,
 * which lets DBSCAN count and connect whole cells instead of single points. Points are stored sorted by
 * cell (row-major cell order; by row index inside a cell), cells carry the bounding box of their points,
 * and `nbrStart`/`nbr` list, per cell, the non-empty cells within that 5 x 5 (or 5) block, itself included.
 *
 * `Grid.build` returns null when the grid would need 2^20 or more cells along a column (the margin argument
 * needs fewer); callers then use the KD-tree.
 *
 * API:
 *   Grid.build(data, rows, cols, r) -> grid | null
 *   grid.radius(q, qOffset, out: IndexList) -> count   (original indices within r of q, inclusive)
 *   grid.cells, grid.cellStart, grid.cellX, grid.cellY, grid.nbrStart, grid.nbr, grid.box, grid.points,
 *   grid.index (original index per sorted position), grid.cellOf (cell per original index)
 */
export class Grid {
  static readonly MAX_CELLS_PER_COLUMN = 1 << 20;
  readonly rows: number;
  readonly cols: number;
  readonly r: number;
  readonly r2: number;
  readonly side: number;
  readonly minX: number;
  readonly minY: number;
  readonly nx: number;
  readonly ny: number;
  readonly points: Float64Array;
  readonly index: Int32Array;
  readonly cellOf: Int32Array;
  readonly cellStart: Int32Array;
  readonly cellX: Int32Array;
  readonly cellY: Int32Array;
  readonly nbrStart: Int32Array;
  readonly nbr: Int32Array;
  /** Per cell: minX, minY, maxX, maxY (Y entries 0 for one column). */
  readonly box: Float64Array;

  private constructor(
    rows: number,
    cols: number,
    r: number,
    side: number,
    minX: number,
    minY: number,
    nx: number,
    ny: number,
    points: Float64Array,
    index: Int32Array,
    cellOf: Int32Array,
    cellStart: Int32Array,
    cellX: Int32Array,
    cellY: Int32Array,
    box: Float64Array,
  ) {
    this.rows = rows;
    this.cols = cols;
    this.r = r;
    this.r2 = r * r;
    this.side = side;
    this.minX = minX;
    this.minY = minY;
    this.nx = nx;
    this.ny = ny;
    this.points = points;
    this.index = index;
    this.cellOf = cellOf;
    this.cellStart = cellStart;
    this.cellX = cellX;
    this.cellY = cellY;
    this.box = box;
    // Neighbour lists: per cell and per row offset, the cells in [x - 2, x + 2] of that row (binary search).
    const cells = cellX.length;
    const start = new Int32Array(cells + 1);
    let list = new Int32Array(Math.max(16, cells * 9));
    let len = 0;
    for (let c = 0; c < cells; c++) {
      start[c] = len;
      if (len + 25 > list.length) {
        const next = new Int32Array(list.length * 2);
        next.set(list.subarray(0, len));
        list = next;
      }
      len = this.near(cellX[c]!, cellY[c]!, list, len);
    }
    start[cells] = len;
    this.nbrStart = start;
    this.nbr = list.slice(0, len);
  }

  get cells(): number {
    return this.cellX.length;
  }

  /** Writes the non-empty cells within 2 cells of (x, y) to out[at..] in cell order (at most 25); returns the new end. */
  private near(x: number, y: number, out: Int32Array, at: number): number {
    const { nx, ny, cellX, cellY } = this;
    const cells = cellX.length;
    const dyMax = this.cols === 2 ? 2 : 0;
    for (let dy = -dyMax; dy <= dyMax; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= ny) continue;
      const x0 = Math.max(x - 2, 0);
      const x1 = Math.min(x + 2, nx - 1);
      if (x0 > x1) continue;
      // First cell with (cellY, cellX) >= (yy, x0).
      let lo = 0;
      let hi = cells;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cellY[mid]! < yy || (cellY[mid]! === yy && cellX[mid]! < x0)) lo = mid + 1;
        else hi = mid;
      }
      for (let c = lo; c < cells && cellY[c] === yy && cellX[c]! <= x1; c++) out[at++] = c;
    }
    return at;
  }

  static build(data: Float64Array, rows: number, cols: number, r: number): Grid | null {
    if (cols !== 1 && cols !== 2) throw new RangeError(`Grid.build: 1 or 2 columns, got ${cols}`);
    if (!(r > 0) || r === Infinity)
      throw new RangeError(`Grid.build: radius must be finite and > 0, got ${r}`);
    if (rows === 0) return null;
    const side = (r / Math.sqrt(cols)) * (1 - 1e-6);
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = 0;
    let maxY = 0;
    if (cols === 2) {
      minY = Infinity;
      maxY = -Infinity;
    }
    for (let i = 0; i < rows; i++) {
      const x = data[i * cols]!;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (cols === 2) {
        const y = data[i * 2 + 1]!;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
    const spanX = Math.floor((maxX - minX) / side);
    const spanY = Math.floor((maxY - minY) / side);
    if (!(spanX < Grid.MAX_CELLS_PER_COLUMN && spanY < Grid.MAX_CELLS_PER_COLUMN)) return null;
    const nx = spanX + 1;
    const ny = spanY + 1;
    const cx = new Int32Array(rows);
    const cy = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      cx[i] = Math.floor((data[i * cols]! - minX) / side);
      if (cols === 2) cy[i] = Math.floor((data[i * 2 + 1]! - minY) / side);
    }
    // Stable LSD radix sort of the row indices by (cy, cx): counting sort by cx, then by cy.
    const byX = countingSort(null, cx, nx, rows);
    const order = cols === 2 ? countingSort(byX, cy, ny, rows) : byX;
    const points = new Float64Array(rows * cols);
    const cellOf = new Int32Array(rows);
    const starts = new Int32Array(rows + 1);
    const xs = new Int32Array(rows);
    const ys = new Int32Array(rows);
    const boxes = new Float64Array(rows * 4);
    let cells = 0;
    for (let p = 0; p < rows; p++) {
      const i = order[p]!;
      const x = data[i * cols]!;
      const y = cols === 2 ? data[i * 2 + 1]! : 0;
      points[p * cols] = x;
      if (cols === 2) points[p * 2 + 1] = y;
      const c = cells - 1;
      if (c < 0 || xs[c] !== cx[i] || ys[c] !== cy[i]) {
        starts[cells] = p;
        xs[cells] = cx[i]!;
        ys[cells] = cy[i]!;
        const b = cells * 4;
        boxes[b] = x;
        boxes[b + 1] = y;
        boxes[b + 2] = x;
        boxes[b + 3] = y;
        cells++;
      } else {
        const b = c * 4;
        if (x < boxes[b]!) boxes[b] = x;
        if (y < boxes[b + 1]!) boxes[b + 1] = y;
        if (x > boxes[b + 2]!) boxes[b + 2] = x;
        if (y > boxes[b + 3]!) boxes[b + 3] = y;
      }
      cellOf[i] = cells - 1;
    }
    starts[cells] = rows;
    return new Grid(
      rows,
      cols,
      r,
      side,
      minX,
      minY,
      nx,
      ny,
      points,
      order,
      cellOf,
      starts.slice(0, cells + 1),
      xs.slice(0, cells),
      ys.slice(0, cells),
      boxes.slice(0, cells * 4),
    );
  }

  /** Squared distance from q to cell c's bounding box (0 inside). */
  boxDist2(q: Float64Array, qo: number, c: number): number {
    const b = c * 4;
    const box = this.box;
    const x = q[qo]!;
    let d = 0;
    let t = x < box[b]! ? box[b]! - x : x > box[b + 2]! ? x - box[b + 2]! : 0;
    d += t * t;
    if (this.cols === 2) {
      const y = q[qo + 1]!;
      t = y < box[b + 1]! ? box[b + 1]! - y : y > box[b + 3]! ? y - box[b + 3]! : 0;
      d += t * t;
    }
    return d;
  }

  /** Appends to `out` the original indices of the points within r of q (inclusive); returns how many. */
  radius(q: Float64Array, qo: number, out: IndexList): number {
    const { cols, points, index, cellStart, r2 } = this;
    const x = Math.floor((q[qo]! - this.minX) / this.side);
    const y = cols === 2 ? Math.floor((q[qo + 1]! - this.minY) / this.side) : 0;
    // Far outside the grid nothing is within r.
    if (x < -2 || x > this.nx + 1 || y < -2 || y > this.ny + 1) return 0;
    const cells = new Int32Array(25);
    const m = this.near(x, y, cells, 0);
    let found = 0;
    for (let k = 0; k < m; k++) {
      const c = cells[k]!;
      if (this.boxDist2(q, qo, c) > r2) continue;
      for (let p = cellStart[c]!, e = cellStart[c + 1]!; p < e; p++) {
        let d: number;
        const t = q[qo]! - points[p * cols]!;
        d = t * t;
        if (cols === 2) {
          const u = q[qo + 1]! - points[p * 2 + 1]!;
          d += u * u;
        }
        if (d <= r2) {
          out.push(index[p]!);
          found++;
        }
      }
    }
    return found;
  }
}

/** Stable counting sort of `order` (identity when null) by key[i] in [0, buckets). */
function countingSort(order: Int32Array | null, key: Int32Array, buckets: number, n: number): Int32Array {
  const count = new Int32Array(buckets + 1);
  for (let i = 0; i < n; i++) count[key[i]! + 1] = count[key[i]! + 1]! + 1;
  for (let b = 0; b < buckets; b++) count[b + 1] = count[b + 1]! + count[b]!;
  const out = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const i = order ? order[p]! : p;
    const k = key[i]!;
    out[count[k]!] = i;
    count[k] = count[k]! + 1;
  }
  return out;
}
