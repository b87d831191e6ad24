/** FormatSpecs built from a compiled program: fixed presets (auto-detected) and custom format strings. */
import type { FormatSpec, LineParser, ParserContext } from '../types.js';
import { detectFraction, LogFormatParser, type Program } from './program.js';

/** A preset: its program is compiled once, on first use, and shared by every parser made from it. */
export function presetFormat(name: string, description: string, compile: () => Program): FormatSpec {
  let program: Program | null = null;
  const get = (): Program => {
    program ??= compile();
    return program;
  };
  return {
    name,
    description,
    framing: 'line',
    create: (ctx: ParserContext): LineParser => new LogFormatParser(name, get(), ctx.normalizer),
    detect: (sample: string): number => detectFraction(get(), name, sample),
  };
}

/** A format given by the user's format string (`--log-format`); never auto-detected. */
export function customFormat(
  name: string,
  description: string,
  what: string,
  compile: (format: string) => Program,
): FormatSpec {
  return {
    name,
    description,
    framing: 'line',
    requires: 'logFormat',
    create: (ctx: ParserContext): LineParser => {
      if (ctx.logFormat === undefined || ctx.logFormat.trim() === '') {
        throw new Error(`format '${name}' needs ${what}`);
      }
      return new LogFormatParser(name, compile(ctx.logFormat), ctx.normalizer);
    },
  };
}
