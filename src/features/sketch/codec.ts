/**
 * Byte encoding shared by the sketches' `serialize()` / `deserialize()`: LEB128 varints (unsigned, up to
 * 2^53 - 1 so that counts never lose precision), zig-zag for signed deltas, little-endian 32- and 64-bit
 * fields. The writer grows its buffer by doubling; the reader never throws, it marks itself failed and
 * returns zeros, so a truncated or corrupted input becomes one error value at the end instead of an
 * exception somewhere in the middle.
 */

/** The first byte of every serialized sketch: bumped when a layout changes, checked when reading. */
export const FORMAT_VERSION = 1;

/** The second byte: which sketch (and which representation of it) follows. */
export const KIND_HLL_SPARSE = 1;
export const KIND_HLL_DENSE = 2;
export const KIND_DISTINCT_EXACT = 3;
export const KIND_DISTINCT_HLL = 4;
export const KIND_QUANTILE = 5;

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /**
   * Unsigned LEB128. Division instead of shifts above 2^31, because JavaScript's bit operators work on 32
   * bits and counts may exceed that.
   */
  varint(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** Zig-zag: small negative and positive deltas both become small varints. */
  svarint(v: number): void {
    this.varint(v < 0 ? -2 * v - 1 : 2 * v);
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** The written bytes, copied into an exactly-sized array. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private pos = 0;
  /** Set when a read ran past the end or a varint was too long; reads then return 0. */
  failed = false;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get done(): boolean {
    return this.pos === this.buf.length;
  }

  private need(n: number): boolean {
    if (this.failed || this.pos + n > this.buf.length) {
      this.failed = true;
      return false;
    }
    return true;
  }

  u8(): number {
    if (!this.need(1)) return 0;
    return this.buf[this.pos++]!;
  }

  u32(): number {
    if (!this.need(4)) return 0;
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    if (!this.need(8)) return 0;
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (!this.need(1)) return 0;
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    // Eight 7-bit groups already hold 56 bits; anything longer was not written by ByteWriter.
    this.failed = true;
    return 0;
  }

  svarint(): number {
    const z = this.varint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  bytes(n: number): Uint8Array {
    if (!this.need(n)) return new Uint8Array(0);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
