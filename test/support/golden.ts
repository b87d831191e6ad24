/**
 * Golden-file harness for parsers: `testdata/parsers/<case>/` holds an input file and `expected.json`
 * ({ format, options?, events: ApiEvent[], malformed: [{ line, reason }] }). Expected files are written and
 * reviewed by hand; set GOLDEN_WRITE=1 only to print what a parser produces, never to bless it blindly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiEvent } from '../../src/core/event.js';
import { Normalizer } from '../../src/core/normalize.js';
import { DEFAULT_EVENT_OPTIONS, type EventOptions } from '../../src/core/options.js';
import { isMalformed } from '../../src/core/result.js';
import type { Parser, ParserContext } from '../../src/parsers/types.js';

export const TESTDATA = join(import.meta.dirname, '..', '..', 'testdata');

export interface GoldenRun {
  events: ApiEvent[];
  malformed: { line: number; reason: string }[];
}

/** Runs a parser over a whole file the way the pipeline does (line framing: split on \n, strip \r). */
export function runParser(parser: Parser, text: string, source = 'input'): GoldenRun {
  const events: ApiEvent[] = [];
  const malformed: { line: number; reason: string }[] = [];
  if (parser.framing === 'document') {
    parser.parseDocument(text, source, {
      event: (e) => events.push(e),
      malformed: (line, m) => malformed.push({ line, reason: m.reason }),
    });
    return { events, malformed };
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    const r = parser.parseLine(line, { source, line: i + 1 });
    if (isMalformed(r)) malformed.push({ line: i + 1, reason: r.reason });
    else events.push(r);
  });
  return { events, malformed };
}

/** Builds a context with default event options, optionally overridden (e.g. captureBodies). */
export function context(
  extra: Partial<ParserContext> = {},
  options: Partial<EventOptions> = {},
): ParserContext {
  return { normalizer: new Normalizer({ ...DEFAULT_EVENT_OPTIONS, ...options }), ...extra };
}

/** JSON round-trip: what the JSONL output would contain (drops undefined, null-prototype objects compare plain). */
export const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Lists the golden case folders whose name starts with a prefix. */
export function goldenCases(prefix: string): string[] {
  return readdirSync(join(TESTDATA, 'parsers'))
    .filter((d) => d.startsWith(prefix))
    .sort();
}

export function readCase(name: string, file: string): string {
  return readFileSync(join(TESTDATA, 'parsers', name, file), 'utf8');
}
