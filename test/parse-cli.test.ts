import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenId } from '../src/core/identity.js';
import { bin, cli } from './support/cli.js';

const L = [
  '203.0.113.9 - - [05/Mar/2024:10:11:12 +0000] "GET /api/v1/products/42?ref=home HTTP/1.1" 200 1534 "https://shop.example/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36"',
  '2001:db8::7 - alice [05/Mar/2024:10:11:13 +0000] "POST /api/v1/auth/login HTTP/1.1" 401 87 "-" "python-requests/2.31.0"',
  '198.51.100.4 - - [05/Mar/2024:10:11:14 +0000] "GET /api/v1/search?q=%E4%B8%AD&access_token=SECRET-TOKEN-123 HTTP/1.1" 200 900 "-" "curl/8.5.0"',
];
const GARBAGE = 'this is not a log line at all';
const BAD_TIME = '203.0.113.9 - - [35/Mar/2024:10:11:12 +0000] "GET / HTTP/1.1" 200 1 "-" "-"';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-cli-'));
});

async function tmpFile(name: string, content: string | Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

const jsonl = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('apiwarden parse', () => {
  it('detects combined, writes JSON lines and a JSON summary', async () => {
    const input = await tmpFile('access.log', `${L.join('\n')}\n`);
    const out = join(dir, 'events.jsonl');
    const r = await cli(['parse', input, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      format: 'combined',
      detected: true,
      events: 3,
      malformed: 0,
      records: 3,
    });
    const events = jsonl(await readFile(out, 'utf8'));
    expect(events.map((e) => [e.ip, e.method, e.path, e.status])).toEqual([
      ['203.0.113.9', 'GET', '/api/v1/products/42', 200],
      ['2001:db8::7', 'POST', '/api/v1/auth/login', 401],
      ['198.51.100.4', 'GET', '/api/v1/search', 200],
    ]);
    expect(events[1]!.user).toBe('alice');
    expect(events[2]!.token).toBe(tokenId('SECRET-TOKEN-123'));
    expect(events[2]!.query).toEqual({ q: '中', access_token: `[token:${tokenId('SECRET-TOKEN-123')}]` });
    expect(events[0]!.origin).toEqual({ source: input, line: 1 });
    expect(await readFile(out, 'utf8')).not.toContain('SECRET-TOKEN-123');
  });

  it('skips, counts and quarantines malformed lines with their line numbers, and goes on', async () => {
    const input = await tmpFile('mixed.log', [L[0], GARBAGE, '', BAD_TIME, L[1], `${L[2]}`].join('\r\n'));
    const q = join(dir, 'q.jsonl');
    const r = await cli(['parse', input, '--format', 'combined', '--quarantine', q, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ events: 3, malformed: 2, blank: 1, records: 6 });
    expect(s.malformedByReason).toEqual({ format_mismatch: 1, bad_timestamp: 1 });
    const kept = jsonl(await readFile(q, 'utf8'));
    expect(kept.map((k) => [k.line, k.reason])).toEqual([
      [2, 'format_mismatch'],
      [4, 'bad_timestamp'],
    ]);
    expect(kept[0]!.record).toBe(GARBAGE);
    expect(kept[0]!.source).toBe(input);
  });

  it('scrubs credentials from quarantined lines', async () => {
    const bad =
      '203.0.113.9 - - [xx] "GET /a?access_token=RAWSECRET99 HTTP/1.1" 200 1 "-" "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"';
    const input = await tmpFile('secret.log', `${bad}\n`);
    const q = join(dir, 'q2.jsonl');
    const r = await cli(['parse', input, '--format', 'combined', '--quarantine', q, '--quiet']);
    expect(r.code).toBe(0);
    const text = await readFile(q, 'utf8');
    expect(text).not.toContain('RAWSECRET99');
    expect(text).not.toContain('eyJzdWIiOiIxIn0');
  });

  it('keeps only --max-quarantine records but counts all', async () => {
    const input = await tmpFile(
      'junk.log',
      `${Array.from({ length: 50 }, (_, i) => `junk ${i}`).join('\n')}\n`,
    );
    const q = join(dir, 'q3.jsonl');
    const r = await cli([
      'parse',
      input,
      '-f',
      'combined',
      '--quarantine',
      q,
      '--max-quarantine',
      '5',
      '--json',
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ malformed: 50, quarantine: { path: q, kept: 5 } });
    expect(jsonl(await readFile(q, 'utf8'))).toHaveLength(5);
  });

  it('reads gzip, directories and globs oldest first', async () => {
    const logs = join(dir, 'logs');
    await mkdir(logs);
    await writeFile(join(logs, 'access.log.1.gz'), gzipSync(`${L[0]}\n`));
    await writeFile(join(logs, 'access.log'), `${L[1]}\n`);
    await utimes(join(logs, 'access.log.1.gz'), 1000, 1000);
    await utimes(join(logs, 'access.log'), 2000, 2000);
    const r = await cli(['parse', logs, '--out', '-']);
    expect(r.code).toBe(0);
    expect(jsonl(r.stdout).map((e) => e.path)).toEqual(['/api/v1/products/42', '/api/v1/auth/login']);
    expect(r.stderr).toContain('parsed 2 records from 2 inputs');
    const g = await cli(['parse', join(logs, '*.gz'), '--json']);
    expect(JSON.parse(g.stdout)).toMatchObject({ events: 1, format: 'combined' });
  });

  it('reads stdin, with auto-detection', async () => {
    const r = await cli(['parse', '-', '--out', '-', '--quiet'], `${L.join('\n')}\n`);
    expect(r.code).toBe(0);
    expect(jsonl(r.stdout)).toHaveLength(3);
    expect(r.stderr).toBe('');
  });

  it('reads gzip on stdin', async () => {
    const r = await cli(['parse', '--json'], gzipSync(`${L.join('\n')}\n`));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'combined', events: 3 });
  });

  it('writes Parquet that DuckDB reads', async () => {
    const input = await tmpFile('p.log', `${L.join('\n')}\n`);
    const out = join(dir, 'events.parquet');
    const r = await cli(['parse', input, '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const inst = await DuckDBInstance.create(':memory:');
    const conn = await inst.connect();
    const rows = (
      await conn.runAndReadAll(`SELECT ip, path, status, token FROM '${out}' ORDER BY ts`)
    ).getRowObjectsJson();
    conn.closeSync();
    inst.closeSync();
    expect(rows.map((x) => x.path)).toEqual(['/api/v1/products/42', '/api/v1/auth/login', '/api/v1/search']);
    expect(rows[2]!.token).toBe(tokenId('SECRET-TOKEN-123'));
  });

  it('handles an empty file', async () => {
    const input = await tmpFile('empty.log', '');
    const r = await cli(['parse', input, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: 0, malformed: 0 });
  });

  it('counts an absurdly long line as malformed without stopping', async () => {
    const input = await tmpFile('long.log', `${L[0]}\n${'x'.repeat(3_000_000)}\n${L[1]}\n`);
    const r = await cli(['parse', input, '-f', 'combined', '--quarantine', 'none', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({
      events: 2,
      malformed: 1,
      malformedByReason: { line_too_long: 1 },
    });
  });

  it('follows a growing file until aborted', async () => {
    const input = await tmpFile('live.log', `${L[0]}\n`);
    const ac = new AbortController();
    const run = cli(['parse', input, '--follow', '-f', 'combined', '--json'], '', ac.signal);
    await new Promise((r) => setTimeout(r, 400));
    await appendFile(input, `${L[1]}\n`);
    await new Promise((r) => setTimeout(r, 600));
    ac.abort();
    const r = await run;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: 2 });
  });
});

describe('errors are one line with a non-zero exit', () => {
  it('missing file', async () => {
    const r = await cli(['parse', join(dir, 'nope.log')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^apiwarden: .*nope\.log.*no such file/);
  });

  it('unknown format', async () => {
    const input = await tmpFile('u.log', `${L[0]}\n`);
    const r = await cli(['parse', input, '--format', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^apiwarden: unknown format 'bogus' \(known: auto, .*combined/);
  });

  it('unrecognizable input', async () => {
    const input = await tmpFile('what.txt', 'hello\nworld\n');
    const r = await cli(['parse', input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^apiwarden: could not recognize the format .*--format/);
  });

  it('bad config names the field', async () => {
    const conf = await tmpFile('bad.yaml', 'events:\n  trustedProxies: [banana]\n');
    const r = await cli(['parse', '-c', conf, join(dir, 'access.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('events.trustedProxies[0]: expected an IP address or CIDR');
  });

  it('bad option values', async () => {
    expect((await cli(['parse', '--max-quarantine', 'lots', 'x'])).code).toBe(2);
    expect((await cli(['parse', 'x.log', '--out', 'x.csv'])).stderr).toMatch(/unknown output type/);
    expect((await cli(['parse', 'x.log', '--trusted-proxies', '10.0.0.0/99'])).stderr).toMatch(
      /--trusted-proxies/,
    );
    expect((await cli(['parse', 'x.log', '--format', 'nginx'])).stderr).toMatch(/needs a format string/);
  });
});

describe('help', () => {
  it('documents every parse option', async () => {
    const r = await cli(['parse', '--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--format',
      '--log-format',
      '--config',
      '--out',
      '--follow',
      '--quarantine',
      '--max-quarantine',
      '--trusted-proxies',
      '--device-header',
      '--capture-headers',
      '--capture-bodies',
      '--max-body-bytes',
      '--max-line-bytes',
      '--quiet',
      '--json',
      '--no-progress',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stdout).toContain('apisix');
  });

  it('the built binary runs: --help, --version, formats, a missing file without a stack trace', async () => {
    const h = await bin(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('parse');
    expect((await bin(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await bin(['formats'])).stdout).toContain('combined');
    const m = await bin(['parse', '/nonexistent/access.log']);
    expect(m.code).toBe(1);
    expect(m.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('the demo simulates a day, parses it, shows the ground truth, analyzes it and scores it', {
    timeout: 300_000,
  }, async () => {
    const out = join(dir, 'demo');
    const r = await bin(['demo', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^severity +type +actors/m);
    expect(r.stdout).toMatch(/^campaign +detected +type/m);
    expect(r.stdout).toMatch(/^crawler +yes +ok/m);
    expect(r.stdout).toMatch(/benign actors flagged: \d+ of \d+/);
    expect(existsSync(join(out, 'analysis', 'report.html'))).toBe(true);
    expect(r.stdout).toContain('format     apisix');
    expect(r.stdout).toMatch(/malformed {2}0\n/);
    expect(r.stdout).toContain('top requests');
    expect(r.stdout).toMatch(/ground truth[^\n]*\n {2}crawler /);
    const labels = JSON.parse(await readFile(join(out, 'labels.json'), 'utf8'));
    expect(labels.campaigns).toHaveLength(9);
  });
});
