import { describe, expect, it } from 'vitest';
import { generateLines } from '../../../bench/gen.js';
import { context, readCase } from '../../../test/support/golden.js';
import type { EventOptions } from '../../core/options.js';
import { Malformed } from '../../core/result.js';
import type { FormatSpec } from '../types.js';
import { type JsonObject, type PickedJsonParser, parseJsonLine } from './common.js';
import { apisixFormat, kongFormat, traefikFormat } from './index.js';
import { isPickedMap, JsonPick, OBJECT, type PickSpec, StringMapSpec } from './scan.js';

// ---------------------------------------------------------------------------------------------------------
// A reference for what a pick must give, written against JSON.parse's object (not the scanner's code).

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The line as JSON.parse reads it (BOM dropped, as parseJsonLine does), or null unless it is an object. */
function parsedObject(line: string): JsonObject | null {
  const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** A string map that qualifies for the restricted form: no A-Z in a name, only string values. */
const simpleMap = (m: JsonObject): boolean =>
  Object.entries(m).every(([k, v]) => !/[A-Z]/.test(k) && typeof v === 'string');

/** Slot values as comparable data: a restricted map becomes `{ picked: <plain copy> }`. */
function comparable(values: readonly unknown[]): unknown[] {
  return values.map((v) => (isPickedMap(v) ? { picked: Object.fromEntries(Object.entries(v)) } : v));
}

/** What the slots must hold for `o` (see PickSpec). `escaped` says the line has backslashes somewhere. */
function expected(
  spec: PickSpec,
  o: JsonObject,
  out: unknown[],
  got: readonly unknown[],
  escaped: boolean,
): void {
  for (const key of Object.keys(spec)) {
    const s = spec[key]!;
    const x = Object.hasOwn(o, key) ? o[key] : undefined;
    if (typeof s === 'number') {
      out[s] = x;
    } else if (s instanceof StringMapSpec) {
      // A map whose names hold escapes comes out whole though it is simple: fine when the line has escapes.
      if (isObject(x) && simpleMap(x) && (isPickedMap(got[s.slot]) || !escaped)) {
        const picked: [string, string][] = [];
        for (const name of s.names) {
          if (Object.hasOwn(x, name) && x[name] !== s.omit) picked.push([name, x[name] as string]);
        }
        out[s.slot] = { picked: Object.fromEntries(picked) };
      } else {
        out[s.slot] = x;
      }
    } else if (isObject(x)) {
      out[s[0]] = OBJECT;
      expected(s[1], x, out, got, escaped);
    } else {
      out[s[0]] = x;
    }
  }
}

function slotCount(spec: PickSpec): number {
  let n = 0;
  for (const s of Object.values(spec)) {
    if (typeof s === 'number') n = Math.max(n, s + 1);
    else if (s instanceof StringMapSpec) n = Math.max(n, s.slot + 1);
    else n = Math.max(n, s[0] + 1, slotCount(s[1]));
  }
  return n;
}

/** Asserts that the pick accepts `line` exactly when JSON.parse gives an object, with the same values. */
function check(pick: JsonPick, spec: PickSpec, line: string): boolean {
  const o = parsedObject(line);
  const got = pick.scan(line);
  expect([line, got !== null]).toEqual([line, o !== null]);
  if (o === null || got === null) return false;
  const want = new Array<unknown>(slotCount(spec)).fill(undefined);
  expected(spec, o, want, got, line.includes('\\'));
  expect([line, comparable(got)]).toEqual([line, want]);
  // Whole objects are JSON.parse's own, prototype included (toStrictEqual trips over "constructor" keys).
  for (let k = 0; k < want.length; k++) {
    if (isObject(want[k]) && !isPickedMap(got[k])) {
      expect(Object.getPrototypeOf(got[k])).toBe(Object.getPrototypeOf(want[k]));
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// A seeded generator of JSON text in every form the grammar allows.

/** xorshift32: a small seeded PRNG, so every run tests the same cases. */
class Rand {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const KEYS = [
  'a',
  'b',
  'client_ip',
  'request',
  'headers',
  'method',
  'host',
  'user-agent',
  'Host',
  'x',
  '',
  '__proto__',
  'constructor',
  'é',
  '😀',
  'REDACTED',
];
const TEXT_CHARS = [
  ...'abcXYZ019 -_.:/?&=%+',
  '"',
  '\\',
  '/',
  '\u0000',
  '\u0001',
  '\b',
  '\t',
  '\n',
  '\f',
  '\r',
  '\u001f',
  '\u007f',
  'é',
  '€',
  '😀',
  '\ud800',
  '\udc00',
  '\u2028',
  '\ufeff',
  '\uffff',
];
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};
const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '1e5',
  '1E-7',
  '0.5',
  '-12.750',
  '12345678901234567890',
  '9007199254740993',
  '1741939200001233000',
  '9999999999999999999',
  '18446744073709551615',
  '-1.5e+300',
  '1e400',
  '-1e-400',
  '4.9e-324',
  '0.1',
  '123456789012345',
  '1234567890123456',
  '0.000001',
  '100',
  '1e0',
  '2E+2',
  '-0.0',
  '0.30000000000000004',
  '47.102',
];

const text = (r: Rand, max = 10): string => {
  let s = '';
  const n = r.int(max + 1);
  for (let k = 0; k < n; k++) s += r.pick(TEXT_CHARS);
  return s;
};

const hex4 = (r: Rand, c: number): string => {
  const h = c.toString(16).padStart(4, '0');
  return `\\u${r.chance(0.5) ? h : h.toUpperCase()}`;
};

/** `s` as a JSON string, each character written raw or escaped at random (escaped where it must be). */
function jsonString(r: Rand, s: string): string {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const ch = s[k]!;
    const c = s.charCodeAt(k);
    const short = SHORT_ESCAPES[ch];
    if (c < 0x20 || ch === '"' || ch === '\\')
      out += short !== undefined && r.chance(0.7) ? short : hex4(r, c);
    else if (r.chance(0.1)) out += short !== undefined && r.chance(0.5) ? short : hex4(r, c);
    else out += ch;
  }
  return `${out}"`;
}

function number(r: Rand): string {
  if (r.chance(0.4)) return r.pick(NUMBERS);
  const digits = (n: number) => Array.from({ length: n }, () => r.int(10)).join('');
  let s = r.chance(0.3) ? '-' : '';
  s += r.chance(0.2) ? '0' : `${1 + r.int(9)}${digits(r.int(19))}`;
  if (r.chance(0.4)) s += `.${digits(1 + r.int(18))}`;
  if (r.chance(0.2)) s += `${r.pick(['e', 'E'])}${r.pick(['', '+', '-'])}${digits(1 + r.int(3))}`;
  return s;
}

const ws = (r: Rand): string => (r.chance(0.75) ? '' : r.pick([' ', '\t', '\n', '\r', ' \r\n\t ', '  ']));

function value(r: Rand, depth: number, key = ''): string {
  // Keys a spec reads get objects more often, so that nested levels and maps are exercised.
  const nested = (key === 'request' || key === 'headers' || key === 'a') && depth < 4 && r.chance(0.7);
  const k = nested ? 6 : r.int(depth < 4 ? 10 : 6);
  if (k <= 2) return jsonString(r, key === 'headers' || r.chance(0.5) ? r.pick(KEYS) : text(r));
  if (k <= 4) return number(r);
  if (k === 5) return r.pick(['true', 'false', 'null']);
  if (k <= 7) return object(r, depth + 1, key === 'headers');
  const items = Array.from({ length: r.int(4) }, () => ws(r) + value(r, depth + 1) + ws(r));
  return `[${items.join(',') || ws(r)}]`;
}

function object(r: Rand, depth: number, headers = false): string {
  const members = Array.from({ length: r.int(depth === 0 ? 10 : 6) }, () => {
    const key = r.chance(0.85) ? r.pick(KEYS) : text(r, 4);
    // Header maps hold mostly strings, so that the restricted form is taken often.
    const v =
      headers && r.chance(0.85) ? jsonString(r, r.chance(0.3) ? 'REDACTED' : text(r)) : value(r, depth, key);
    return `${ws(r)}${jsonString(r, key)}${ws(r)}:${ws(r)}${v}${ws(r)}`;
  });
  return `{${members.join(',') || ws(r)}}`;
}

const SPEC: PickSpec = {
  a: 0,
  client_ip: 1,
  request: [
    2,
    {
      method: 3,
      headers: new StringMapSpec(4, ['host', 'user-agent', '__proto__', 'constructor', ''], 'REDACTED'),
      request: [5, { a: 6, b: 7 }],
    },
  ],
  headers: new StringMapSpec(8, ['host', 'x', 'é', 'REDACTED']),
  '': 9,
  ['__proto__']: 10,
  '😀': 11,
  b: [12, {}],
};

/** Valid lines: mostly objects, some other JSON values, with whitespace around and sometimes a BOM. */
function validLines(seed: number, n: number): string[] {
  const r = new Rand(seed);
  return Array.from({ length: n }, () => {
    const body = r.chance(0.9) ? object(r, 0) : value(r, 1);
    return `${r.chance(0.05) ? '\ufeff' : ''}${ws(r)}${body}${ws(r)}`;
  });
}

const INSERTS = [
  ',',
  ']',
  '}',
  '{',
  '[',
  '"',
  '\\',
  ' ',
  '0',
  '-',
  '.',
  'e',
  '+',
  ':',
  "'",
  'x',
  't',
  'n',
  '/',
  '\u0000',
  '\u001f',
  '\u00a0',
  '\ufeff',
];

/** Lines that are mostly invalid: a valid line with one character dropped, added or changed, or cut short. */
function mutate(r: Rand, line: string): string {
  const at = r.int(line.length + 1);
  switch (r.int(4)) {
    case 0:
      return line.slice(0, at) + line.slice(at + 1);
    case 1:
      return line.slice(0, at) + r.pick(INSERTS) + line.slice(at);
    case 2:
      return line.slice(0, at) + r.pick(INSERTS) + line.slice(at + 1);
    default:
      return line.slice(0, at);
  }
}

describe('JsonPick: differential against JSON.parse', () => {
  const pick = new JsonPick(SPEC);

  it('accepts exactly the objects JSON.parse accepts and reads the same values', () => {
    let accepted = 0;
    for (const line of validLines(1, 4000)) if (check(pick, SPEC, line)) accepted++;
    // The generator must really produce objects (and the odd non-object value).
    expect(accepted).toBeGreaterThan(3000);
  });

  it('rejects mutated and truncated lines exactly when JSON.parse does', () => {
    const r = new Rand(2);
    let rejected = 0;
    let accepted = 0;
    for (const line of validLines(3, 3000)) {
      for (let k = 0; k < 4; k++) {
        if (check(pick, SPEC, mutate(r, line))) accepted++;
        else rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(5000);
    expect(accepted).toBeGreaterThan(500);
  });

  it('agrees on the classic mistakes', () => {
    const cases = [
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":-}',
      '{"a":1e}',
      '{"a":1e+}',
      '{"a":-01}',
      '{"a":0x10}',
      '{"a":1,}',
      '{"a":[1,]}',
      '{,"a":1}',
      '{"a":1,,"b":2}',
      "{'a':1}",
      '{"a":\'x\'}',
      '{"a":"tab\there"}',
      '{"a":"nl\nhere"}',
      '{"a":"nul\u0000"}',
      '{"a\u0001":1}',
      '{"a":tru}',
      '{"a":nul}',
      '{"a":falsey}',
      '{"a":True}',
      '{"a":NaN}',
      '{"a":Infinity}',
      '{"a":-Infinity}',
      '{"a":undefined}',
      '{"a":1}// comment',
      '{"a":/* c */1}',
      '{"a":1} x',
      '{"a":1}}',
      '{"a":1}{}',
      '{"a":[1}',
      '{"a":{"b":1]}',
      '{"a":[[[]]}',
      '{"a":"\\x41"}',
      '{"a":"\\u12"}',
      '{"a":"\\u12G4"}',
      '{"a":"\\U0041"}',
      '{"a":"\\',
      '{"a":"\\"}',
      '{"a" 1}',
      '{"a"::1}',
      '{a:1}',
      '{"a":1 "b":2}',
      '{"a":"x""b"}',
      '{"a":\u00a01}',
      '\u00a0{"a":1}',
      ' \ufeff{"a":1}',
      '{"a":1}\u0000',
      '{"a":1}\u000b',
      '',
      ' ',
      '{',
      '}',
      '"{}"',
      '[{}]',
      'null',
      '{"a":"\u2028\ud800\udfff"}',
      '\ufeff{"a":1}\r',
      '\t{ "a" : [ 1 , { "b" : null } ] }\n',
    ];
    for (const line of cases) check(pick, SPEC, line);
  });

  it('reads numbers as JSON.parse does, -0 and epoch nanoseconds included', () => {
    const r = new Rand(4);
    const spec: PickSpec = { a: 0 };
    const p = new JsonPick(spec);
    for (let k = 0; k < 20000; k++) {
      const n = k < NUMBERS.length ? NUMBERS[k]! : r.chance(0.9) ? number(r) : mutate(r, number(r));
      check(p, spec, `{"a":${n}}`);
    }
    expect(p.scan('{"a":-0}')![0]).toBe(-0);
    expect(p.scan('{"a":1741939200001233000}')![0]).toBe(1741939200001233000);
  });

  it('reads strings as JSON.parse does: escapes, \\u00XX, surrogate pairs and lone halves', () => {
    const r = new Rand(5);
    const spec: PickSpec = { a: 0, b: 1 };
    const p = new JsonPick(spec);
    for (let k = 0; k < 20000; k++) {
      const s = jsonString(r, text(r, 30));
      check(p, spec, `{"a":${s},"b":${s.length > 2 && r.chance(0.5) ? mutate(r, s) : s}}`);
    }
    expect(p.scan('{"a":"\\ud83d\\ude00 \\ud800 \\u0000\\n\\/"}')![0]).toBe('😀 \ud800 \u0000\n/');
  });

  it('skips nesting of any depth without recursing', () => {
    const spec: PickSpec = { a: 0, z: 1 };
    const p = new JsonPick(spec);
    const deep = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    expect(p.scan(`{"x":${deep},"z":1}`)).toEqual([undefined, 1]);
    expect(p.scan(`{"x":${deep.slice(1)},"z":1}`)).toBeNull();
    // A wanted value that deep is built by JSON.parse.
    expect(Array.isArray(p.scan(`{"a":${deep}}`)![0])).toBe(true);
    const objects = `${'{"k":'.repeat(50000)}1${'}'.repeat(50000)}`;
    expect(p.scan(`{"x":${objects},"z":2}`)).toEqual([undefined, 2]);
    expect(p.scan(`{"x":${objects}`)).toBeNull();
  });
});

describe('JsonPick: semantics', () => {
  it('a repeated key keeps its last value; a repeated object forgets what the earlier one gave', () => {
    const p = new JsonPick({ a: 0, o: [1, { x: 2, y: 3 }] });
    expect(p.scan('{"a":1,"a":"two"}')).toEqual(['two', undefined, undefined, undefined]);
    expect(p.scan('{"o":{"x":1,"y":2},"o":{"y":3}}')).toEqual([undefined, OBJECT, undefined, 3]);
    expect(p.scan('{"o":{"x":1},"o":[1]}')).toEqual([undefined, [1], undefined, undefined]);
    expect(p.scan('{"o":5,"o":{"x":"back"}}')).toEqual([undefined, OBJECT, 'back', undefined]);
  });

  it('never takes a wanted key from a subtree it does not read', () => {
    const p = new JsonPick({ a: 0, o: [1, { x: 2 }] });
    expect(p.scan('{"z":{"a":1,"o":{"x":2}},"w":[{"a":3}],"o":{"z":{"x":4}}}')).toEqual([
      undefined,
      OBJECT,
      undefined,
    ]);
  });

  it('matches keys written with escapes', () => {
    const p = new JsonPick({ client_ip: 0, ü: 1 });
    expect(p.scan('{"client\\u005fip":"1.2.3.4","\\u00fc":2}')).toEqual(['1.2.3.4', 2]);
  });

  it('restricts simple string maps and gives anything else whole', () => {
    const p = new JsonPick({
      h: new StringMapSpec(0, ['host', 'constructor', '__proto__', 'authorization'], 'REDACTED'),
    });
    const picked = (line: string) => {
      const v = p.scan(line)![0];
      expect(isPickedMap(v)).toBe(true);
      return v as Record<string, string>;
    };
    const m = picked('{"h":{"host":"a","accept":"*/*","host":"b","authorization":"REDACTED"}}');
    expect({ ...m }).toEqual({ host: 'b' });
    expect(picked('{"h":{"authorization":"x","authorization":"REDACTED"}}').authorization).toBeUndefined();
    expect(picked('{"h":{"authorization":"REDACTED","authorization":"Basic x"}}').authorization).toBe(
      'Basic x',
    );
    // Names are data: no prototype members, and `__proto__` is just a key.
    const proto = picked('{"h":{"__proto__":"p","accept":"x"}}');
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(proto.constructor).toBeUndefined();
    expect(picked('{"h":{"constructor":"c"}}').constructor).toBe('c');
    expect({ ...picked('{"h":{}}') }).toEqual({});
    // Upper case, escapes, or non-string values: the whole object, as JSON.parse makes it.
    for (const h of ['{"Host":"a"}', '{"host":["a","b"]}', '{"h\\u006fst":"a"}', '{"x":1,"host":"a"}']) {
      const v = p.scan(`{"h":${h}}`)![0];
      expect(isPickedMap(v)).toBe(false);
      expect(v).toEqual(JSON.parse(h));
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    }
    expect(p.scan('{"h":"host"}')![0]).toBe('host');
    expect(p.scan('{"h":{"Host":"a",}}')).toBeNull();
    expect(p.scan('{"h":{"host":"a\u0001"}}')).toBeNull();
  });

  it('reads what JSON.parse made the same way', () => {
    const spec: PickSpec = { a: 0, o: [1, { x: 2 }], h: new StringMapSpec(3, ['host']) };
    const p = new JsonPick(spec);
    expect(p.read({ a: 1, o: { x: 'y' }, h: { Host: 'z' } })).toEqual([1, OBJECT, 'y', { Host: 'z' }]);
    expect(p.read({ o: [1] })).toEqual([undefined, [1], undefined, undefined]);
    expect(p.read(JSON.parse('{"__proto__":1}'))).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('refuses a spec that reuses a slot', () => {
    expect(() => new JsonPick({ a: 0, b: [0, {}] })).toThrow(/slot/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The presets: scanning must give exactly what the JSON.parse path gives.

const origin = { source: 't.jsonl', line: 7 };
const PRESETS: [FormatSpec, string][] = [
  [apisixFormat, 'apisix-basic'],
  [kongFormat, 'kong-basic'],
  [traefikFormat, 'traefik-basic'],
];
const OPTIONS: Partial<EventOptions>[] = [
  {},
  { captureHeaders: true },
  { captureBodies: true },
  { deviceHeader: 'constructor', apiKeyHeaders: ['x-api-key', 'X-Token'] },
];

/** Whatever the line, the scanned result equals the JSON.parse path's (same Malformed for broken lines). */
function sameAsJsonParse(parser: PickedJsonParser, line: string): void {
  const o = parseJsonLine(line);
  const want = o instanceof Malformed ? o : parser.fromObject(o, origin);
  expect([line, parser.parseLine(line, origin)]).toEqual([line, want]);
}

const fileLines = (name: string) =>
  readCase(name, 'input.jsonl')
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));

describe('presets: scanned lines give what JSON.parse gives', () => {
  for (const [spec, golden] of PRESETS) {
    it(`${spec.name}: golden and generated lines, intact and mutated, under several options`, () => {
      const r = new Rand(6);
      const lines = [...fileLines(golden), ...generateLines(spec.name as 'kong', 300, 11)];
      for (const options of OPTIONS) {
        const parser = spec.create(context({}, options)) as PickedJsonParser;
        for (const line of lines) {
          sameAsJsonParse(parser, line);
          sameAsJsonParse(parser, mutate(r, line));
        }
      }
    });
  }

  it('a wanted key given twice: the last one wins', () => {
    const p = kongFormat.create(context()) as PickedJsonParser;
    const line =
      '{"client_ip":"198.51.100.1","started_at":1709633472123,"latencies":{"request":5},' +
      '"request":{"method":"DELETE","uri":"/old","headers":{"host":"old.example","user-agent":"old"},"size":1},' +
      '"response":{"status":500},"client_ip":"198.51.100.2","started_at":1709633472999,' +
      '"request":{"uri":"/v1/new","headers":{"host":"api.example","host":"new.example"}},' +
      '"response":{"status":201,"size":9}}';
    const e = p.parseLine(line, origin);
    expect(e).toMatchObject({
      ip: '198.51.100.2',
      ts: 1709633472999,
      method: '-',
      host: 'new.example',
      path: '/v1/new',
      status: 201,
      bytesIn: null,
      bytesOut: 9,
      userAgent: null,
    });
    sameAsJsonParse(p, line);
  });

  it('a wanted key inside a subtree the preset does not read is not taken', () => {
    const a = apisixFormat.create(context()) as PickedJsonParser;
    const line =
      '{"route":{"client_ip":"6.6.6.6","request":{"method":"POST"}},"client_ip":"198.51.100.1",' +
      '"start_time":1709633472123,"upstream":{"start_time":1},"request":{"method":"GET","uri":"/a",' +
      '"querystring":{"uri":"/evil","headers":{"host":"evil"}},"headers":{"host":"api.example"}},' +
      '"response":{"status":200,"headers":{"status":500}},"server":{"response":{"status":404}}}';
    expect(a.parseLine(line, origin)).toMatchObject({
      ip: '198.51.100.1',
      method: 'GET',
      host: 'api.example',
      path: '/a',
      status: 200,
    });
    sameAsJsonParse(a, line);
    const t = traefikFormat.create(context()) as PickedJsonParser;
    const tl =
      '{"StartUTC":"2024-03-05T10:11:12Z","nested":{"ClientHost":"6.6.6.6","request_User-Agent":"evil"},' +
      '"ClientHost":"192.0.2.1","DownstreamStatus":200,"RequestPath":"/"}';
    expect(t.parseLine(tl, origin)).toMatchObject({ ip: '192.0.2.1', userAgent: null });
    sameAsJsonParse(t, tl);
  });

  it('the fallbacks between fields still apply', () => {
    const a = apisixFormat.create(context()) as PickedJsonParser;
    const k = kongFormat.create(context()) as PickedJsonParser;
    const t = traefikFormat.create(context()) as PickedJsonParser;
    // Without a Host header the absolute URL names host and path.
    const noHost =
      '"request":{"method":"GET","uri":"/u?a=1","url":"https://api.example:8443/v2/x?b=2","headers":{}},' +
      '"response":{"status":200}';
    const fromUrl = { host: 'api.example:8443', path: '/v2/x', query: { b: '2' } };
    expect(
      a.parseLine(`{"client_ip":"192.0.2.1","start_time":1709633472123,${noHost}}`, origin),
    ).toMatchObject(fromUrl);
    expect(
      k.parseLine(`{"client_ip":"192.0.2.1","started_at":1709633472123,${noHost}}`, origin),
    ).toMatchObject(fromUrl);
    // Kong: very old versions logged only `request_uri`; `authenticated_entity` names the consumer otherwise.
    expect(
      k.parseLine(
        '{"client_ip":"192.0.2.1","started_at":1709633472123,"request":{"request_uri":"http://h.example/o"},' +
          '"response":{"status":204},"authenticated_entity":{"id":"cred-1","consumer_id":"c-9"}}',
        origin,
      ),
    ).toMatchObject({ host: 'h.example', path: '/o', user: 'c-9' });
    // Traefik: StartLocal and OriginStatus when StartUTC and DownstreamStatus are missing.
    expect(
      t.parseLine(
        '{"StartLocal":"2024-03-05T10:11:12Z","ClientAddr":"192.0.2.7:4000","OriginStatus":502,"Duration":2500000}',
        origin,
      ),
    ).toMatchObject({ ts: Date.UTC(2024, 2, 5, 10, 11, 12), ip: '192.0.2.7', status: 502, latencyMs: 2.5 });
  });

  it('lines that are not JSON objects get parseJsonLine’s reasons', () => {
    for (const [spec] of PRESETS) {
      const p = spec.create(context()) as PickedJsonParser;
      for (const line of [
        '[1,2]',
        '"x"',
        '42',
        'null',
        'true',
        '',
        '   ',
        '{"a":1',
        '{"a":1,}',
        'GET / HTTP/1.1',
      ]) {
        expect([spec.name, line, p.parseLine(line, origin)]).toEqual([spec.name, line, parseJsonLine(line)]);
      }
    }
  });

  it('header maps of every shape give the draft JSON.parse gives', () => {
    const headers = [
      '{"host":"a.example","user-agent":"UA/1","authorization":"REDACTED","x-api-key":"k-1"}',
      '{"Host":"a.example","User-Agent":"UA/1","Cookie":["sid=s-1","b=2"]}',
      '{"host":"a","Host":"b","host":"c"}',
      '{"host":"a","authorization":"Bearer t-1","authorization":"REDACTED"}',
      '{"h\\u006fst":"a.example","x-device-id":"d-1"}',
      '{"constructor":"c-1","__proto__":"p","toString":"t"}',
      '{"x-forwarded-for":"203.0.113.9, 10.0.0.1","x-real-ip":"203.0.113.8","cookie":"device_id=dv; session=s"}',
      '{"host":1,"user-agent":null,"referer":true}',
      '{}',
    ];
    const notMaps = ['[]', '"host"', 'null'];
    // Traefik logs each header as a `request_<Name>` key of the entry.
    const traefikLine = (h: string) => {
      const members = h.slice(1, -1).replace(/"([^"]+)":/g, '"request_$1":');
      const core = '"StartUTC":"2024-03-05T10:11:12Z","ClientHost":"10.0.0.2","DownstreamStatus":200';
      return `{${core}${members === '' ? '' : `,${members}`}}`;
    };
    const gatewayLine = (h: string) =>
      `{"client_ip":"10.0.0.2","start_time":1709633472123,"started_at":1709633472123,` +
      `"request":{"method":"GET","uri":"/x","headers":${h}},"response":{"status":200,"headers":${h}}}`;
    for (const options of OPTIONS) {
      for (const [spec] of PRESETS) {
        const p = spec.create(context({}, options)) as PickedJsonParser;
        const lines =
          spec.name === 'traefik' ? headers.map(traefikLine) : [...headers, ...notMaps].map(gatewayLine);
        for (const line of lines) {
          expect([line, parsedObject(line) !== null]).toEqual([line, true]);
          sameAsJsonParse(p, line);
        }
      }
    }
  });
});
