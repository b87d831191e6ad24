/**
 * Custom sensitive types from the config: a regular expression, an optional validator and optional context
 * keywords. All custom patterns with the same flags are joined into one alternation and run as one global
 * regex, so N custom types still cost one pass over the text.
 *
 * Patterns are written by the operator but run over attacker-controlled text, so a pattern is refused when it
 * could backtrack catastrophically: a repeated group that itself contains a repetition or an alternation
 * (`(a+)+`, `(\w|\d)*`), back-references, or a pattern that is measurably slow on probes of up to 512
 * characters.
 */
import type { Span } from './detect.js';
import type { CustomTypeConfig, ValidatorName } from './types.js';
import { VALIDATORS } from './validators.js';

export const MAX_PATTERN_CHARS = 1000;
export const MAX_CUSTOM_TYPES = 64;
/** Custom patterns see at most this much of one text (bodies are bounded by the capture size anyway). */
export const MAX_CUSTOM_TEXT = 1 << 20;
const CONTEXT_BEFORE = 48;
const CONTEXT_AFTER = 24;
/** Probe budget: a pattern that needs longer than this on the probes is refused. */
const PROBE_BUDGET_MS = 30;
const PROBE_CHARS = 512;

/** A repetition that can run long: `*`, `+`, `{n,}` or `{n,m}` with m > 10. */
function unboundedAt(src: string, i: number): { len: number; unbounded: boolean } | null {
  const c = src[i];
  if (c === '*' || c === '+') return { len: src[i + 1] === '?' ? 2 : 1, unbounded: true };
  if (c === '?') return { len: src[i + 1] === '?' ? 2 : 1, unbounded: false };
  if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}\??/.exec(src.slice(i, i + 24));
    if (m === null) return null;
    const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
    return { len: m[0].length, unbounded: max > 10 };
  }
  return null;
}

/**
 * Static checks of a pattern's source; returns the problem and its fix, or null. The regex must already
 * compile. Walks the source once, keeping per open group whether it holds a repetition or an alternation.
 */
function staticProblem(src: string): string | null {
  const stack: { rep: boolean; alt: boolean }[] = [{ rep: false, alt: false }];
  let i = 0;
  /** After an atom: a following repetition marks the group that holds it. */
  const quantified = () => {
    const q = unboundedAt(src, i);
    if (q !== null) {
      stack[stack.length - 1]!.rep = true;
      i += q.len;
    }
  };
  while (i < src.length) {
    const c = src[i]!;
    const top = stack[stack.length - 1]!;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      if (/[1-9]/.test(n) || n === 'k')
        return 'back-references (\\1, \\k<name>) are not allowed: they make matching slow on hostile input; repeat the sub-pattern instead';
      i += 2;
      quantified();
    } else if (c === '[') {
      // A character class: skip to its closing bracket (escapes inside do not close it).
      i++;
      if (src[i] === '^') i++;
      if (src[i] === ']') i++;
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      i++;
      quantified();
    } else if (c === '(') {
      if (src.startsWith('(?<', i) && src[i + 3] !== '=' && src[i + 3] !== '!')
        return 'named groups (?<name>...) are not allowed (patterns are joined into one regex); use (?:...) or (...) instead';
      stack.push({ rep: false, alt: false });
      i += src[i + 1] === '?' ? (src[i + 2] === '<' ? 4 : 3) : 1;
    } else if (c === ')') {
      const inner = stack.length > 1 ? stack.pop()! : top;
      const parent = stack[stack.length - 1]!;
      i++;
      const q = unboundedAt(src, i);
      if (q !== null) {
        if (q.unbounded && (inner.rep || inner.alt))
          return `a repeated group contains ${inner.rep ? 'a repetition' : 'an alternation'} (like (a+)+ or (a|b)*), which can take exponential time on hostile input; repeat a character class instead (e.g. [\\w-]+ or \\d{4}(?:-\\d{4}){3})`;
        parent.rep = true;
        i += q.len;
      }
      parent.rep ||= inner.rep;
      parent.alt ||= inner.alt;
    } else if (c === '|') {
      top.alt = true;
      i++;
    } else {
      i++;
      quantified();
    }
  }
  return null;
}

/** Inputs on which badly written patterns backtrack: long runs of one class, and mixes of classes. */
const PROBE_UNITS = ['a', '1', ' ', 'aA1-_.@ ', 'a1', 'x'];
/** Fine steps while short (exponential blow-up shows by 24 characters), then doubling. */
const PROBE_SIZES = [8, 12, 16, 20, 24, 32, 48, 64, 128, 256, PROBE_CHARS];

/**
 * Runs the pattern over the probes at growing sizes (8 ... PROBE_CHARS characters) and stops as soon as the
 * budget is spent. A regex cannot be interrupted, so the sizes grow slowly: a pattern whose time grows like n^k
 * is caught at the first size where it exceeds the budget, after at most about budget × 2^k of work, and one
 * that grows like 2^n (should the static checks miss it) by about 24 characters, instead of hanging.
 */
function tooSlow(re: RegExp): boolean {
  const t0 = performance.now();
  for (const n of PROBE_SIZES) {
    for (const unit of PROBE_UNITS) {
      const probe = `${unit.repeat(Math.ceil(n / unit.length)).slice(0, n - 1)}!`;
      re.lastIndex = 0;
      while (re.exec(probe) !== null) {
        if (re.lastIndex === 0) break;
        if (performance.now() - t0 > PROBE_BUDGET_MS) return true;
      }
      if (performance.now() - t0 > PROBE_BUDGET_MS) return true;
    }
  }
  return false;
}

/**
 * Why a custom pattern cannot be used, with what to do about it, or null when it is fine: it must compile with
 * its flags, be at most MAX_PATTERN_CHARS long, not match the empty string, pass the static checks above, and
 * finish the probes within the budget.
 */
export function patternProblem(pattern: string, flags = ''): string | null {
  if (pattern.length > MAX_PATTERN_CHARS) return `is longer than ${MAX_PATTERN_CHARS} characters; shorten it`;
  let re: RegExp;
  try {
    re = new RegExp(pattern, `${flags}g`);
  } catch (e) {
    return `does not compile: ${(e as Error).message}; fix the JavaScript regular expression (no surrounding slashes)`;
  }
  const stat = staticProblem(pattern);
  if (stat !== null) return stat;
  re.lastIndex = 0;
  if (new RegExp(`^(?:${pattern})$`, flags).test(''))
    return 'matches the empty string; make it require at least one character (+ instead of *)';
  if (tooSlow(re))
    return `is too slow on hostile inputs of at most ${PROBE_CHARS} characters (over ${PROBE_BUDGET_MS} ms): it backtracks; avoid unbounded repetitions of overlapping classes in a row (like \\d*\\d*x) and bound lengths (\\d{6,12})`;
  return null;
}

/** The number of capturing groups of a pattern (it matches the empty string through the added `|`). */
function groupCount(pattern: string, flags: string): number {
  return new RegExp(`${pattern}|`, flags).exec('')!.length - 1;
}

interface Alternative {
  name: string;
  /** Index of the group wrapping this alternative in the joined regex. */
  group: number;
  /** Capturing groups inside the pattern: when there is one, its first is the value. */
  inner: number;
  validate: ((v: string) => boolean) | null;
  context: string[] | null;
}

interface Joined {
  re: RegExp;
  alts: Alternative[];
}

/** The compiled custom types: `scan` appends their spans for one text. */
export class CustomMatcher {
  private readonly joined: Joined[] = [];

  /** Throws on a type that `patternProblem` refuses (config validation reports those with the field). */
  constructor(types: readonly CustomTypeConfig[]) {
    if (types.length > MAX_CUSTOM_TYPES) throw new Error(`at most ${MAX_CUSTOM_TYPES} custom types`);
    const byFlags = new Map<string, CustomTypeConfig[]>();
    for (const t of types) {
      const problem = patternProblem(t.pattern, t.flags ?? '');
      if (problem !== null) throw new Error(`custom sensitive type '${t.name}': pattern ${problem}`);
      const flags = [...new Set(t.flags ?? '')].sort().join('');
      const list = byFlags.get(flags) ?? [];
      list.push(t);
      byFlags.set(flags, list);
    }
    for (const [flags, list] of byFlags) {
      const alts: Alternative[] = [];
      const parts: string[] = [];
      let group = 1;
      for (const t of list) {
        const inner = groupCount(t.pattern, flags);
        alts.push({
          name: t.name,
          group,
          inner,
          validate: t.validator === undefined ? null : VALIDATORS[t.validator as ValidatorName],
          context:
            t.context === undefined || t.context.length === 0 ? null : t.context.map((w) => w.toLowerCase()),
        });
        parts.push(`(${t.pattern})`);
        group += 1 + inner;
      }
      this.joined.push({ re: new RegExp(parts.join('|'), `${flags}g`), alts });
    }
  }

  get size(): number {
    return this.joined.length;
  }

  scan(text: string, key: string | null, out: Span[], maxSpans: number): void {
    const s = text.length > MAX_CUSTOM_TEXT ? text.slice(0, MAX_CUSTOM_TEXT) : text;
    const keyLower = key === null ? '' : key.toLowerCase();
    for (const { re, alts } of this.joined) {
      re.lastIndex = 0;
      let m = re.exec(s);
      while (m !== null && out.length < maxSpans) {
        if (m[0] === '') re.lastIndex++;
        const alt = alts.find((a) => m![a.group] !== undefined);
        if (alt !== undefined) {
          const value = alt.inner > 0 ? m[alt.group + 1] : m[alt.group];
          const start = m.index;
          const end = start + m[0].length;
          if (
            value !== undefined &&
            value !== '' &&
            (alt.validate === null || alt.validate(value)) &&
            (alt.context === null || contextNear(s, start, end, keyLower, alt.context))
          )
            out.push({ type: alt.name, kind: null, start, end, value });
        }
        m = re.exec(s);
      }
    }
  }
}

function contextNear(
  s: string,
  start: number,
  end: number,
  keyLower: string,
  words: readonly string[],
): boolean {
  for (const w of words) if (keyLower.includes(w)) return true;
  const before = s.slice(Math.max(0, start - CONTEXT_BEFORE), start).toLowerCase();
  const after = s.slice(end, Math.min(s.length, end + CONTEXT_AFTER)).toLowerCase();
  for (const w of words) if (before.includes(w) || after.includes(w)) return true;
  return false;
}
