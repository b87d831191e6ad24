/**
 * HTTP ingest, the parsing half (no I/O): one request body → events and the malformed records, counted by
 * reason. What log shippers send is accepted as it comes:
 *
 * - newline-delimited records, in any line format apiwarden reads (APISIX, Kong, Envoy, Traefik, Cloudflare
 *   JSON lines, combined / nginx / Apache access logs, ALB): Fluent Bit's `json_lines`, Vector's
 *   `newline_delimited` framing, `curl --data-binary @access.log`;
 * - a JSON array of records (Vector's default JSON batch, Fluent Bit's `format json`): each element is one
 *   record, an object (a JSON-lines record) or a string (a raw log line);
 * - an envelope around the record, as shippers that tail files wrap it: `{"message": "<line>", ...}`
 *   (Vector) or `{"log": "<line>", ...}` (Fluent Bit). `envelope=auto` (the default) unwraps when the first
 *   record is an object with a string `message` or `log` field (no JSON preset uses either key).
 *
 * The format is the `format` parameter or detected from the first records of the batch, as for files
 * (src/parsers/registry.ts). A record that does not parse is counted by reason and skipped; only a body whose
 * format cannot be told at all is refused as a whole.
 */
import type { ApiEvent } from '../core/event.js';
import { Normalizer } from '../core/normalize.js';
import type { EventOptions } from '../core/options.js';
import { isMalformed, Malformed, type MalformedReason } from '../core/result.js';
import { buildParser, detectFormat, findFormat } from '../parsers/registry.js';
import type { Parser } from '../parsers/types.js';

/** Records per batch that detection looks at. */
const SAMPLE_RECORDS = 50;
/** Malformed records described in the answer (all are counted). */
const MAX_ERRORS = 10;

export interface BatchError {
  /** 1-based record number in the batch. */
  record: number;
  reason: MalformedReason;
  detail?: string;
}

export interface Batch {
  format: string;
  detected: boolean;
  events: ApiEvent[];
  /**
   * The record each event was parsed from, as a line (an envelope unwrapped, an object as JSON), at the same
   * index as its event: references into the body, not copies (whoever keeps one copies and cuts it, see
   * traffic.ts). Null for events of a whole-document format (HAR).
   */
  lines: (string | null)[];
  records: number;
  blank: number;
  malformed: number;
  reasons: Partial<Record<MalformedReason, number>>;
  errors: BatchError[];
  /** Highest event time, or null without events. */
  maxTs: number | null;
}

export interface BatchRequest {
  /** A format name, or `auto`. */
  format: string;
  /** `auto`, `none`, or the name of the field holding the record. */
  envelope: string;
  /** Origin source of the events (`http`, `http:<token id>`). */
  source: string;
}

export interface BatchParserOptions {
  events?: EventOptions;
  logFormat?: string;
  jsonMapping?: Record<string, string>;
  /** Longer records are malformed (`line_too_long`). */
  maxLineBytes?: number;
  /** Called for each malformed record (the quarantine). */
  onMalformed?: (source: string, record: number, m: Malformed, sample: string) => void;
}

/** The whole body cannot be read (unknown or undetectable format): a 400 naming `field`. */
export class BatchRefused extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const ENVELOPE_FIELDS = ['message', 'log'] as const;

export class BatchParser {
  private readonly normalizer: Normalizer;
  private readonly parsers = new Map<string, Parser>();
  private readonly maxLineBytes: number;

  constructor(private readonly o: BatchParserOptions = {}) {
    this.normalizer = new Normalizer(o.events);
    this.maxLineBytes = o.maxLineBytes ?? 1_048_576;
  }

  /** The parser of a format, built once (parsers reuse a scratch draft; parsing is synchronous). */
  private parser(name: string): Parser {
    let p = this.parsers.get(name);
    if (p !== undefined) return p;
    const built = buildParser(name, {
      normalizer: this.normalizer,
      ...(this.o.logFormat === undefined ? {} : { logFormat: this.o.logFormat }),
      ...(this.o.jsonMapping === undefined ? {} : { jsonMapping: this.o.jsonMapping }),
    });
    if (!built.ok)
      throw new BatchRefused(
        'format',
        built.error
          .replace("pass --log-format '...' or set", 'set')
          .replace('in the config file', "in the server's config"),
      );
    p = built.parser;
    this.parsers.set(name, p);
    return p;
  }

  /** Parses one body. Throws BatchRefused only for what makes the whole body unreadable. */
  parse(text: string, req: BatchRequest): Batch {
    if (req.format !== 'auto') this.parser(req.format); // an unknown format or a missing option: a 400 first
    const out: Batch = {
      format: req.format,
      detected: false,
      events: [],
      lines: [],
      records: 0,
      blank: 0,
      malformed: 0,
      reasons: {},
      errors: [],
      maxTs: null,
    };
    const bad = (n: number, m: Malformed, sample: string) => {
      out.malformed++;
      out.reasons[m.reason] = (out.reasons[m.reason] ?? 0) + 1;
      if (out.errors.length < MAX_ERRORS)
        out.errors.push({
          record: n,
          reason: m.reason,
          ...(m.detail === undefined ? {} : { detail: m.detail }),
        });
      this.o.onMalformed?.(req.source, n, m, sample);
    };

    // Whole-document formats (HAR): the body is the document.
    if (req.format !== 'auto' && findFormat(req.format)?.framing === 'document') {
      const p = this.parser(req.format);
      if (p.framing !== 'document') throw new Error(`${req.format}: a document format with a line parser`);
      out.records = 1;
      p.parseDocument(text, req.source, {
        event: (e) => this.accept(out, e, null),
        malformed: (pos, m, sample) => bad(pos, m, sample),
      });
      return out;
    }

    const records = frame(text);
    out.records = records.length;
    const envelope =
      req.envelope === 'auto' ? sniffEnvelope(records) : req.envelope === 'none' ? null : req.envelope;
    const lines: (string | Malformed)[] = records.map((r) => toLine(r, envelope));

    let format = req.format;
    if (format === 'auto') {
      const sample: string[] = [];
      for (const l of lines) {
        if (typeof l === 'string' && l.trim() !== '') sample.push(l);
        if (sample.length >= SAMPLE_RECORDS) break;
      }
      if (sample.length === 0) {
        // Nothing but blank or unwrappable records: nothing to detect, nothing to parse.
        format = 'combined';
      } else {
        const d = detectFormat(sample.join('\n'), false);
        if (!d.ok)
          throw new BatchRefused(
            'format',
            `${d.error.split(';')[0]}; pass ?format=NAME (apiwarden formats lists them), or for a custom log_format set input.logFormat in the server's config and pass ?format=nginx or apache`,
          );
        format = d.value.format;
        out.detected = true;
      }
      out.format = format;
    }
    const parser = this.parser(format);
    if (parser.framing !== 'line')
      throw new BatchRefused(
        'format',
        `format '${format}' is a whole document: send it with ?format=${format}`,
      );
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      const n = i + 1;
      if (typeof l !== 'string') {
        bad(n, l, '');
        continue;
      }
      if (l.trim() === '') {
        out.blank++;
        continue;
      }
      if (l.length > this.maxLineBytes) {
        bad(n, new Malformed('line_too_long', `record of ${l.length} characters`), l.slice(0, 200));
        continue;
      }
      const r = parser.parseLine(l, { source: req.source, line: n });
      if (isMalformed(r)) bad(n, r, l);
      else this.accept(out, r, l);
    }
    return out;
  }

  private accept(out: Batch, e: ApiEvent, line: string | null): void {
    out.events.push(e);
    out.lines.push(line);
    if (out.maxTs === null || e.ts > out.maxTs) out.maxTs = e.ts;
  }
}

/** Records of a body: the elements of a JSON array, or its lines. */
function frame(text: string): unknown[] {
  const start = text.trimStart();
  if (start.startsWith('[')) {
    try {
      const v = JSON.parse(text) as unknown;
      if (Array.isArray(v)) return v;
    } catch {
      // Not one JSON document: a log line that starts with '[' (a custom log_format); read lines.
    }
  }
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

const asObject = (r: unknown): Record<string, unknown> | null => {
  if (typeof r === 'object' && r !== null && !Array.isArray(r)) return r as Record<string, unknown>;
  if (typeof r === 'string' && r.trimStart().startsWith('{')) {
    try {
      const v = JSON.parse(r) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  return null;
};

/** The envelope field of the first non-blank record, when it is an object with a string message/log. */
function sniffEnvelope(records: readonly unknown[]): string | null {
  const first = records.find((r) => !(typeof r === 'string' && r.trim() === ''));
  const o = first === undefined ? null : asObject(first);
  if (o === null) return null;
  for (const f of ENVELOPE_FIELDS) if (typeof o[f] === 'string') return f;
  return null;
}

const malformed = (reason: MalformedReason, detail: string) => new Malformed(reason, detail);

/** One record as a line for a line parser (unwrapped from its envelope when there is one). */
function toLine(r: unknown, envelope: string | null): string | Malformed {
  if (envelope !== null) {
    if (typeof r === 'string' && r.trim() === '') return r;
    const o = asObject(r);
    if (o === null) return malformed('not_an_object', `expected an object with a string "${envelope}" field`);
    const v = o[envelope];
    if (typeof v !== 'string') return malformed('missing_field', `no string "${envelope}" field`);
    return v.endsWith('\n') ? v.slice(0, v.endsWith('\r\n') ? -2 : -1) : v;
  }
  if (typeof r === 'string') return r;
  if (typeof r === 'object' && r !== null && !Array.isArray(r)) return JSON.stringify(r);
  return malformed('not_an_object', 'an array element must be an object or a string');
}
