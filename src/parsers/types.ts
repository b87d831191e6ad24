/**
 * The Parser interface. A parser cuts one format's fields into an EventDraft and hands it to the shared
 * Normalizer; it never normalizes paths, resolves proxies or extracts identities itself.
 */
import type { ApiEvent, Origin } from '../core/event.js';
import type { Normalizer } from '../core/normalize.js';
import type { Malformed } from '../core/result.js';
import type { Framing } from '../sources/types.js';

/** A format whose records are single lines (access logs, JSON lines). */
export interface LineParser {
  readonly format: string;
  readonly framing: 'line';
  /** Parses one line (without its newline). Never throws on bad input: returns Malformed. */
  parseLine(line: string, origin: Origin): ApiEvent | Malformed;
}

/** Receives what a document parser finds. `position` is the 1-based entry index inside the document. */
export interface DocumentSink {
  event(e: ApiEvent): void;
  malformed(position: number, m: Malformed, sample: string): void;
}

/** A format whose record is a whole document (HAR). Events carry `origin.line` = entry index. */
export interface DocumentParser {
  readonly format: string;
  readonly framing: 'document';
  parseDocument(doc: string, source: string, sink: DocumentSink): void;
}

export type Parser = LineParser | DocumentParser;

/** What building a parser may need: the shared normalizer and the format's own options. */
export interface ParserContext {
  normalizer: Normalizer;
  /** A custom nginx `log_format` / Apache `LogFormat` string (formats `nginx`, `apache`). */
  logFormat?: string;
  /** Field paths for the generic `json` format (see src/parsers/json/mapping.ts). */
  jsonMapping?: Record<string, string>;
}

/** A format the registry knows: how to build its parser and how sure it is that a sample is in it. */
export interface FormatSpec {
  readonly name: string;
  /** One line for `--help` and docs/formats.md. */
  readonly description: string;
  readonly framing: Framing;
  /** Formats that need options (a log_format string, a mapping) say which, and are not auto-detected. */
  readonly requires?: 'logFormat' | 'jsonMapping';
  create(ctx: ParserContext): Parser;
  /**
   * Confidence in [0, 1] that the sample (the first lines / bytes of the input) is in this format. Omitted
   * for formats that are detected by trying their parser on the sample lines.
   */
  detect?(sample: string): number;
}
