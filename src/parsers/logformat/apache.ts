/**
 * Apache `LogFormat` (mod_log_config) front-end: turns a format string into a program. Apache escapes `"`
 * as `\"`, `\` as `\\` and non-printable bytes as `\xhh`.
 */
import type { FormatSpec } from '../types.js';
import {
  compileProgram,
  type FieldSpec,
  K_BYTES_IN,
  K_BYTES_OUT,
  K_BYTES_OUT_CLF,
  K_COOKIE,
  K_FORWARDED_FOR,
  K_HEADER,
  K_HOST,
  K_LATENCY_MS,
  K_LATENCY_S,
  K_LATENCY_US,
  K_METHOD,
  K_PATH,
  K_PEER,
  K_PROTOCOL,
  K_QUERY_Q,
  K_REAL_IP,
  K_REFERER,
  K_REQUEST,
  K_RESPONSE_HEADER,
  K_SKIP,
  K_STATUS,
  K_TARGET,
  K_TIME_CLF,
  K_TIME_EPOCH_MS,
  K_TIME_EPOCH_US,
  K_TIME_PART,
  K_USER,
  K_USER_AGENT,
  type Program,
  TimeFormat,
  type Token,
} from './program.js';
import { customFormat, presetFormat } from './spec.js';

export const APACHE_COMMON = '%h %l %u %t "%r" %>s %b';
export const APACHE_COMBINED = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"';
export const APACHE_VHOST_COMBINED = '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"';

const CLF_STRFTIME = '%d/%b/%Y:%H:%M:%S %z';

const field = (kind: number, label: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  kind,
  name: '',
  label,
  ...extra,
});

/** `%{X}t`: the time in a strftime format or as one of Apache's named forms. */
function timeField(arg: string, label: string): FieldSpec {
  const fmt = arg.replace(/^(begin|end):/, '');
  switch (fmt) {
    case 'sec':
      return field(K_TIME_PART, label, { time: TimeFormat.part('s') });
    case 'msec':
      return field(K_TIME_EPOCH_MS, label, { rank: 1 });
    case 'usec':
      return field(K_TIME_EPOCH_US, label, { rank: 0 });
    case 'msec_frac':
      return field(K_TIME_PART, label, { time: TimeFormat.part('frac3'), width: 3 });
    case 'usec_frac':
      return field(K_TIME_PART, label, { time: TimeFormat.part('frac6'), width: 6 });
    case CLF_STRFTIME:
      return field(K_TIME_CLF, label, { rank: 2, spaces: 1, width: 26 });
  }
  const time = TimeFormat.compile(fmt);
  return field(K_TIME_PART, label, { time, spaces: time.spaces, width: time.width });
}

/** `%{X}i`: a request header; the ones the draft has fields for go there. */
function requestHeader(arg: string, label: string): FieldSpec {
  const name = arg.toLowerCase();
  switch (name) {
    case 'referer':
      return field(K_REFERER, label);
    case 'user-agent':
      return field(K_USER_AGENT, label);
    case 'x-forwarded-for':
      return field(K_FORWARDED_FOR, label, { list: true });
    case 'x-real-ip':
      return field(K_REAL_IP, label);
    case 'host':
      return field(K_HOST, label, { rank: 0 });
  }
  return field(K_HEADER, label, { name });
}

/** What one directive (letter, optional `{arg}`, `<` / `>`) becomes. */
function apacheDirective(
  letter: string,
  arg: string | null,
  final: boolean | null,
  label: string,
): FieldSpec {
  switch (letter) {
    case 'a':
      // %a is the client (after mod_remoteip); %{c}a the connection's peer.
      return field(K_PEER, label, { rank: arg === 'c' ? 2 : 0 });
    case 'h':
      return field(K_PEER, label, { rank: arg === 'c' ? 3 : 1 });
    case 'u':
      return field(K_USER, label);
    case 't':
      return arg === null
        ? field(K_TIME_CLF, label, { rank: 2, spaces: 1, width: 26 })
        : timeField(arg, label);
    case 'r':
      return field(K_REQUEST, label);
    case 'm':
      return field(K_METHOD, label);
    case 'U':
      return field(K_PATH, label, { lead: '/' });
    case 'q':
      return field(K_QUERY_Q, label);
    case 'H':
      return field(K_PROTOCOL, label);
    case 'V':
      return field(K_HOST, label, { rank: 1 });
    case 'v':
      return field(K_HOST, label, { rank: 2 });
    case 's':
      // %>s is the final status; %s / %<s the original one of an internally redirected request.
      return field(K_STATUS, label, { rank: final === true ? 0 : 1, width: 3 });
    case 'b':
      return field(K_BYTES_OUT_CLF, label, { rank: 0 });
    case 'B':
      return field(K_BYTES_OUT, label, { rank: 0 });
    case 'O':
      return field(K_BYTES_OUT, label, { rank: 1 });
    case 'I':
      return field(K_BYTES_IN, label);
    case 'D':
      return field(K_LATENCY_US, label, { rank: 0 });
    case 'T': {
      const unit = arg ?? 's';
      if (unit === 'us') return field(K_LATENCY_US, label, { rank: 0 });
      if (unit === 'ms') return field(K_LATENCY_MS, label, { rank: 1 });
      if (unit === 's') return field(K_LATENCY_S, label, { rank: 2 });
      throw new Error(`${label}: unknown time unit '${unit}' (known: s, ms, us)`);
    }
    case 'i':
      if (arg === null) throw new Error(`${label} needs a header name: %{Name}i`);
      return requestHeader(arg, label);
    case 'o':
      if (arg === null) throw new Error(`${label} needs a header name: %{Name}o`);
      return field(K_RESPONSE_HEADER, label, { name: arg.toLowerCase() });
    case 'C':
      if (arg === null) throw new Error(`${label} needs a cookie name: %{Name}C`);
      return field(K_COOKIE, label, { name: arg });
    // Consumed and ignored: local address, identd, env / notes, ports, pid, keep-alives, log id,
    // handler, connection status, file name, bytes transferred.
    case 'A':
    case 'l':
    case 'e':
    case 'n':
    case 'p':
    case 'P':
    case 'k':
    case 'L':
    case 'R':
    case 'X':
    case 'f':
    case 'S':
      return field(K_SKIP, label);
  }
  throw new Error(`unknown LogFormat directive ${label}`);
}

/** Splits a LogFormat string into literal text and directives. */
export function tokenizeApache(format: string): Token[] {
  const out: Token[] = [];
  let lit = '';
  let i = 0;
  const n = format.length;
  while (i < n) {
    const ch = format[i]!;
    if (ch !== '%') {
      lit += ch;
      i++;
      continue;
    }
    const start = i;
    i++;
    if (format[i] === '%') {
      lit += '%';
      i++;
      continue;
    }
    // Modifiers in any order: status conditions (`!200,304`), `<` / `>`, `{arg}`.
    let arg: string | null = null;
    let final: boolean | null = null;
    let letter: string | null = null;
    while (i < n && letter === null) {
      const c = format[i]!;
      if (c === '!' || c === ',' || (c >= '0' && c <= '9')) {
        i++;
      } else if (c === '<' || c === '>') {
        final = c === '>';
        i++;
      } else if (c === '{') {
        const close = format.indexOf('}', i + 1);
        if (close === -1) throw new Error(`unclosed '{' at position ${i + 1} of the LogFormat`);
        arg = format.slice(i + 1, close);
        i = close + 1;
      } else if (c === '^') {
        // %{X}^ti / %{X}^to: request / response trailers.
        letter = format.slice(i, i + 3);
        if (letter !== '^ti' && letter !== '^to') throw new Error(`unknown LogFormat directive %${letter}`);
        i += 3;
      } else {
        letter = c;
        i++;
      }
    }
    if (letter === null) throw new Error(`the LogFormat ends inside a directive at position ${start + 1}`);
    const label = format.slice(start, i);
    if (lit !== '') out.push(lit);
    lit = '';
    const prev = out[out.length - 1];
    if (letter === 'q' && prev !== undefined && typeof prev !== 'string' && prev.kind === K_PATH) {
      // `%U%q`, the usual way to log path and query apart: one request-target.
      out[out.length - 1] = field(K_TARGET, `${prev.label}${label}`, { lead: '/' });
      continue;
    }
    if (letter === '^ti' || letter === '^to') {
      out.push(field(K_SKIP, label));
    } else if (letter === 't' && arg === null) {
      // %t is `[10/Oct/2000:13:55:36 -0700]`, brackets included.
      out.push('[', apacheDirective('t', null, final, label), ']');
    } else {
      out.push(apacheDirective(letter, arg, final, label));
    }
  }
  if (lit !== '') out.push(lit);
  return out;
}

/** Apache configuration string escapes: `\"`, `\\`, `\n`, `\t`. */
function unescapeConfig(s: string): string {
  return s.replace(/\\(["'\\nt])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** The first `"..."` argument of a directive line (or bare word), from position i. */
function configArgs(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const q = text[i];
    if (q === '"' || q === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== q) j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new Error('cannot read the LogFormat directive: unbalanced quotes');
      args.push(unescapeConfig(text.slice(i + 1, j)));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/\s/.test(text[j]!)) j++;
      args.push(text.slice(i, j));
      i = j;
    }
  }
  return args;
}

/**
 * Accepts the format alone (`%h %l %u %t "%r" %>s %b`), as written in httpd.conf (`"%h ... \"%r\" ..."`,
 * quotes escaped), or as a whole `LogFormat "..." name` / `CustomLog path "..."` directive.
 */
export function readApacheLogFormat(text: string): string {
  const t = text.trim();
  const m = /^(LogFormat|CustomLog)\s/i.exec(t);
  if (m) {
    const args = configArgs(t.slice(m[0].length));
    const format = m[1]!.toLowerCase() === 'customlog' ? args[1] : args[0];
    if (format === undefined || format === '') throw new Error(`the ${m[1]} directive has no format string`);
    return format;
  }
  // Wrapped in quotes as in httpd.conf: the first unescaped quote after the opening one is the last char.
  if (t.length >= 2 && t.startsWith('"')) {
    let j = 1;
    while (j < t.length && t[j] !== '"') j += t[j] === '\\' ? 2 : 1;
    if (j === t.length - 1) return unescapeConfig(t.slice(1, -1));
  }
  return unescapeConfig(t);
}

/** Compiles an Apache LogFormat. Throws an Error with a message for the user when it cannot be used. */
export function compileApacheLogFormat(text: string): Program {
  const format = readApacheLogFormat(text);
  return compileProgram(tokenizeApache(format), 'backslash', format, {
    time: '%t or %{format}t',
    status: '%>s',
    address: '%h, %a or %{X-Forwarded-For}i',
  });
}

export const apacheFormat: FormatSpec = customFormat(
  'apache',
  'Apache httpd with a custom LogFormat (--log-format)',
  'the LogFormat string: --log-format \'%h %l %u %t "%r" %>s %b\'',
  (format) => compileApacheLogFormat(format),
);

export const apacheVhostCombinedFormat: FormatSpec = presetFormat(
  'apache-combined-vhost',
  "Apache's vhost_combined: %v:%p before the combined fields, bytes as %O",
  () => compileApacheLogFormat(APACHE_VHOST_COMBINED),
);
