/** Every format apiwarden reads, and auto-detection from the first bytes of an input. */
import { Normalizer } from '../core/normalize.js';
import { isMalformed } from '../core/result.js';
import { albFormat } from './alb.js';
import { harFormat } from './har.js';
import {
  apisixFormat,
  cloudflareFormat,
  envoyFormat,
  jsonMappingFormat,
  kongFormat,
  traefikFormat,
} from './json/index.js';
import {
  apacheFormat,
  apacheVhostCombinedFormat,
  combinedFormat,
  commonFormat,
  nginxFormat,
  nginxMainFormat,
} from './logformat/index.js';
import type { FormatSpec, Parser, ParserContext } from './types.js';

/** In detection order: the more specific a format, the earlier (a tie goes to the earlier). */
export const FORMATS: readonly FormatSpec[] = [
  harFormat,
  apisixFormat,
  kongFormat,
  envoyFormat,
  traefikFormat,
  cloudflareFormat,
  albFormat,
  nginxMainFormat,
  combinedFormat,
  apacheVhostCombinedFormat,
  commonFormat,
  nginxFormat,
  apacheFormat,
  jsonMappingFormat,
];

export function findFormat(name: string): FormatSpec | undefined {
  return FORMATS.find((f) => f.name === name);
}

export const formatNames = (): string[] => FORMATS.map((f) => f.name);

/** Builds the parser of a named format, or says what is missing. */
export function buildParser(
  name: string,
  ctx: ParserContext,
): { ok: true; parser: Parser } | { ok: false; error: string } {
  const spec = findFormat(name);
  if (!spec)
    return { ok: false, error: `unknown format '${name}' (known: auto, ${formatNames().join(', ')})` };
  if (spec.requires === 'logFormat' && !ctx.logFormat) {
    return {
      ok: false,
      error: `format '${name}' needs a format string: pass --log-format '...' or set input.logFormat`,
    };
  }
  if (spec.requires === 'jsonMapping' && !ctx.jsonMapping) {
    return {
      ok: false,
      error: `format '${name}' needs a field mapping: set input.jsonMapping in the config file`,
    };
  }
  try {
    return { ok: true, parser: spec.create(ctx) };
  } catch (e) {
    // Compilers reject bad format strings by throwing with a message for the user.
    return { ok: false, error: `format '${name}': ${(e as Error).message}` };
  }
}

/** How many sample lines line-based detection tries. */
const DETECT_LINES = 50;

/** Fraction of the sample's first non-blank lines that a format's parser accepts. */
function tryLines(spec: FormatSpec, lines: string[]): number {
  if (spec.framing !== 'line' || lines.length === 0) return 0;
  const parser = spec.create({ normalizer: new Normalizer() });
  if (parser.framing !== 'line') return 0;
  let good = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!isMalformed(parser.parseLine(lines[i]!, { source: 'sample', line: i + 1 }))) good++;
  }
  return good / lines.length;
}

export interface Detection {
  format: string;
  confidence: number;
  /** Every candidate's score, best first, for `--verbose` and error messages. */
  scores: { format: string; confidence: number }[];
}

/**
 * Detects the format of a sample (the first bytes of an input, decoded). `truncated` says the sample was cut,
 * so its last line is partial and ignored. Needs a confidence of at least 0.5.
 */
export function detectFormat(
  sample: string,
  truncated: boolean,
): { ok: true; value: Detection } | { ok: false; error: string } {
  const all = sample.split('\n');
  if (truncated && all.length > 1) all.pop();
  const lines: string[] = [];
  for (const l of all) {
    const line = l.endsWith('\r') ? l.slice(0, -1) : l;
    if (line.trim() !== '') lines.push(line);
    if (lines.length >= DETECT_LINES) break;
  }
  if (lines.length === 0) return { ok: false, error: 'the input is empty: nothing to detect a format from' };
  const scores: { format: string; confidence: number }[] = [];
  for (const spec of FORMATS) {
    if (spec.requires) continue;
    const c = spec.detect ? spec.detect(sample) : tryLines(spec, lines);
    scores.push({ format: spec.name, confidence: Math.round(c * 1000) / 1000 });
  }
  // Stable sort keeps registry order among equal scores.
  scores.sort((a, b) => b.confidence - a.confidence);
  const best = scores[0]!;
  if (best.confidence < 0.5) {
    const tried = scores
      .slice(0, 4)
      .map((s) => `${s.format} ${Math.round(s.confidence * 100)}%`)
      .join(', ');
    return {
      ok: false,
      error: `could not recognize the format (best matches: ${tried}); pass --format, or --format nginx --log-format '...' for a custom log_format`,
    };
  }
  return { ok: true, value: { format: best.format, confidence: best.confidence, scores } };
}
