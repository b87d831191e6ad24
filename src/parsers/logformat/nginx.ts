/**
 * nginx `log_format` front-end: turns a format string (or a whole `log_format` directive) into a program.
 * Variables map onto the EventDraft; unknown variables are consumed and ignored.
 */
import type { FormatSpec } from '../types.js';
import {
  compileProgram,
  type Escape,
  type FieldSpec,
  K_ARG,
  K_BYTES_IN,
  K_BYTES_OUT,
  K_COOKIE,
  K_FORWARDED_FOR,
  K_HEADER,
  K_HOST,
  K_LATENCY_LIST_S,
  K_LATENCY_S,
  K_METHOD,
  K_PATH,
  K_PEER,
  K_PROTOCOL,
  K_QUERY,
  K_REAL_IP,
  K_REFERER,
  K_REQUEST,
  K_REQUEST_BODY,
  K_RESPONSE_HEADER,
  K_SKIP,
  K_STATUS,
  K_TARGET,
  K_TIME_CLF,
  K_TIME_EPOCH_S,
  K_TIME_ISO,
  K_USER,
  K_USER_AGENT,
  type Program,
  type Token,
} from './program.js';
import { customFormat, presetFormat } from './spec.js';

/** nginx's `escape=` parameter of `log_format`. */
export type NginxEscape = 'default' | 'json' | 'none';

export interface NginxOptions {
  /** Overrides an `escape=` given in the format text. */
  escape?: NginxEscape;
}

/** The `main` format of nginx's default nginx.conf. */
export const NGINX_MAIN =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" ' +
  '"$http_user_agent" "$http_x_forwarded_for"';

const field = (kind: number, label: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  kind,
  name: '',
  label,
  ...extra,
});

/** What a variable (name lower-cased) becomes. */
function nginxVariable(name: string, label: string): FieldSpec {
  switch (name) {
    case 'remote_addr':
      return field(K_PEER, label, { rank: 0 });
    case 'realip_remote_addr':
      return field(K_PEER, label, { rank: 1 });
    case 'remote_user':
      return field(K_USER, label);
    case 'msec':
      return field(K_TIME_EPOCH_S, label, { rank: 0, width: 14 });
    case 'time_iso8601':
      return field(K_TIME_ISO, label, { rank: 1, width: 25 });
    case 'time_local':
      return field(K_TIME_CLF, label, { rank: 2, spaces: 1, width: 26 });
    case 'request':
      return field(K_REQUEST, label);
    case 'request_method':
      return field(K_METHOD, label);
    case 'request_uri':
      return field(K_TARGET, label, { lead: '/' });
    case 'uri':
      return field(K_PATH, label, { rank: 0, lead: '/' });
    case 'document_uri':
      return field(K_PATH, label, { rank: 1, lead: '/' });
    case 'args':
      return field(K_QUERY, label, { rank: 0 });
    case 'query_string':
      return field(K_QUERY, label, { rank: 1 });
    case 'server_protocol':
      return field(K_PROTOCOL, label);
    case 'host':
      return field(K_HOST, label, { rank: 0 });
    case 'http_host':
      return field(K_HOST, label, { rank: 1 });
    case 'server_name':
      return field(K_HOST, label, { rank: 2 });
    case 'status':
      return field(K_STATUS, label, { width: 3 });
    case 'body_bytes_sent':
      return field(K_BYTES_OUT, label, { rank: 0 });
    case 'bytes_sent':
      return field(K_BYTES_OUT, label, { rank: 1 });
    case 'request_length':
      return field(K_BYTES_IN, label);
    case 'request_time':
      return field(K_LATENCY_S, label, { rank: 0 });
    case 'upstream_response_time':
      return field(K_LATENCY_LIST_S, label, { rank: 1, list: true });
    case 'http_referer':
      return field(K_REFERER, label);
    case 'http_user_agent':
      return field(K_USER_AGENT, label);
    case 'http_x_forwarded_for':
      return field(K_FORWARDED_FOR, label, { rank: 0, list: true });
    case 'proxy_add_x_forwarded_for':
      // `$http_x_forwarded_for, $remote_addr`: walking it from the right finds the client as well.
      return field(K_FORWARDED_FOR, label, { rank: 1, list: true });
    case 'http_x_real_ip':
      return field(K_REAL_IP, label);
    case 'content_length':
      return field(K_HEADER, label, { name: 'content-length' });
    case 'content_type':
      return field(K_HEADER, label, { name: 'content-type' });
    case 'request_body':
      return field(K_REQUEST_BODY, label);
  }
  if (name.startsWith('http_') && name.length > 5) {
    return field(K_HEADER, label, { name: name.slice(5).replace(/_/g, '-') });
  }
  if (name.startsWith('sent_http_') && name.length > 10) {
    return field(K_RESPONSE_HEADER, label, { name: name.slice(10).replace(/_/g, '-') });
  }
  if (name.startsWith('cookie_') && name.length > 7) return field(K_COOKIE, label, { name: name.slice(7) });
  if (name.startsWith('arg_') && name.length > 4) return field(K_ARG, label, { name: name.slice(4) });
  // Anything else is consumed and ignored; upstream variables are lists (`a, b : c`).
  return field(K_SKIP, label, { list: name.startsWith('upstream_') });
}

const isNameChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** Splits a format string into literal text and variables (`$name`, `${name}`). */
export function tokenizeNginx(format: string): Token[] {
  const out: Token[] = [];
  let lit = '';
  let i = 0;
  while (i < format.length) {
    const c = format.charCodeAt(i);
    if (c !== 36 /* $ */) {
      lit += format[i];
      i++;
      continue;
    }
    let name: string;
    let label: string;
    if (format.charCodeAt(i + 1) === 123 /* { */) {
      const close = format.indexOf('}', i + 2);
      if (close === -1) throw new Error(`unclosed '\${' at position ${i + 1} of the log_format`);
      name = format.slice(i + 2, close);
      if (name === '' || ![...name].every((ch) => isNameChar(ch.charCodeAt(0)))) {
        throw new Error(`invalid variable name '\${${name}}' in the log_format`);
      }
      label = `\${${name}}`;
      i = close + 1;
    } else {
      let e = i + 1;
      while (e < format.length && isNameChar(format.charCodeAt(e))) e++;
      if (e === i + 1) {
        // A `$` not starting a variable is literal text.
        lit += '$';
        i++;
        continue;
      }
      name = format.slice(i + 1, e);
      label = `$${name}`;
      i = e;
    }
    if (lit !== '') out.push(lit);
    lit = '';
    out.push(nginxVariable(name.toLowerCase(), label));
  }
  if (lit !== '') out.push(lit);
  return mergeTargets(out);
}

/**
 * `$uri$is_args$args` (the usual way to log path and query apart) is one request-target: `$is_args` is `?`
 * or nothing, so the three cannot be cut apart, but together they are exactly the target.
 */
function mergeTargets(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const [a, b, c] = [tokens[i]!, tokens[i + 1], tokens[i + 2]];
    if (
      typeof a !== 'string' &&
      a.kind === K_PATH &&
      b !== undefined &&
      typeof b !== 'string' &&
      /^\$\{?is_args\}?$/i.test(b.label) &&
      c !== undefined &&
      typeof c !== 'string' &&
      c.kind === K_QUERY
    ) {
      out.push(field(K_TARGET, `${a.label}${b.label}${c.label}`, { lead: '/' }));
      i += 2;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * Reads nginx configuration strings: `'...'` / `"..."` with nginx's escapes (`\"`, `\'`, `\\`, `\t`, `\r`,
 * `\n`), bare words, an optional final `;`. Returns null if the text is not only that.
 */
function configWords(text: string): { word: string; quoted: boolean }[] | null {
  const words: { word: string; quoted: boolean }[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === ';') {
      if (text.slice(i + 1).trim() !== '') return null;
      break;
    }
    if (c === "'" || c === '"') {
      let w = '';
      let j = i + 1;
      for (; j < n && text[j] !== c; j++) {
        if (text[j] === '\\' && j + 1 < n) {
          const e = text[j + 1]!;
          if (e === '"' || e === "'" || e === '\\') {
            w += e;
            j++;
            continue;
          }
          if (e === 't' || e === 'r' || e === 'n') {
            w += e === 't' ? '\t' : e === 'r' ? '\r' : '\n';
            j++;
            continue;
          }
        }
        w += text[j];
      }
      if (j >= n) return null;
      words.push({ word: w, quoted: true });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n && !' \t\r\n;'.includes(text[j]!)) j++;
    words.push({ word: text.slice(i, j), quoted: false });
    i = j;
  }
  return words;
}

const ESCAPES: Record<string, Escape> = { default: 'backslash', json: 'json', none: 'none' };

function escapeOf(word: string): Escape {
  const v = word.slice('escape='.length);
  const e = ESCAPES[v];
  if (e === undefined) throw new Error(`unknown log_format escape '${v}' (known: default, json, none)`);
  return e;
}

/**
 * Accepts the format string alone (`$remote_addr - ...`), with an `escape=` prefix, as nginx.conf strings
 * (`'$remote_addr - ' '"$request" ...'`), or as a whole directive (`log_format main escape=json '...';`).
 */
export function readNginxLogFormat(text: string): { format: string; escape: Escape } {
  let rest = text.trim();
  let esc: Escape = 'backslash';
  if (/^log_format\s/.test(rest)) {
    const words = configWords(rest);
    if (words === null) throw new Error('cannot read the log_format directive: unbalanced quotes');
    let i = 1;
    if (i < words.length && !words[i]!.quoted && !words[i]!.word.startsWith('escape=')) i++; // the name
    if (i < words.length && !words[i]!.quoted && words[i]!.word.startsWith('escape=')) {
      esc = escapeOf(words[i]!.word);
      i++;
    }
    const format = words
      .slice(i)
      .map((w) => w.word)
      .join('');
    if (format === '') throw new Error('the log_format directive has no format string');
    return { format, escape: esc };
  }
  const m = /^escape=(\S*)\s+/.exec(rest);
  if (m) {
    esc = escapeOf(`escape=${m[1]}`);
    rest = rest.slice(m[0].length);
  }
  if (rest.startsWith("'")) {
    const words = configWords(rest);
    if (words?.every((w) => w.quoted)) return { format: words.map((w) => w.word).join(''), escape: esc };
  }
  return { format: rest, escape: esc };
}

/** Compiles an nginx log_format. Throws an Error with a message for the user when it cannot be used. */
export function compileNginxLogFormat(text: string, options: NginxOptions = {}): Program {
  const read = readNginxLogFormat(text);
  const escaping = options.escape !== undefined ? ESCAPES[options.escape]! : read.escape;
  return compileProgram(tokenizeNginx(read.format), escaping, read.format, {
    time: '$time_local, $time_iso8601 or $msec',
    status: '$status',
    address: '$remote_addr, $http_x_forwarded_for or $http_x_real_ip',
  });
}

export const nginxMainFormat: FormatSpec = presetFormat(
  'nginx-main',
  'nginx\'s default `main` log_format: combined plus "$http_x_forwarded_for"',
  () => compileNginxLogFormat(NGINX_MAIN),
);

export const nginxFormat: FormatSpec = customFormat(
  'nginx',
  'nginx with a custom log_format (--log-format)',
  "the log_format string: --log-format '$remote_addr ...'",
  (format) => compileNginxLogFormat(format),
);
