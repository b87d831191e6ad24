/**
 * `apiwarden serve` as a command, in this process: the help, the first start printing the admin token once
 * (and a second start on the same data directory printing none, the old token still working), a graceful
 * stop on the abort signal (what SIGINT does), and usage errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { cli } from './support/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-serve-cli-'));
  delete process.env.DATABASE_URL;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts `apiwarden serve` and resolves once it listens; `stop()` aborts it and gives the exit code. */
async function serve(args: string[]) {
  const ac = new AbortController();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  const done = main(['node', 'apiwarden', 'serve', ...args], {
    stdout: new PassThrough(),
    stderr,
    stdin: Readable.from([]),
    signal: ac.signal,
  });
  const end = Date.now() + 60_000;
  let url: string | undefined;
  while (Date.now() < end) {
    url = /listening on (http:\/\/[\d.:]+)/.exec(err)?.[1];
    if (url !== undefined) break;
    const early = await Promise.race([done, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    if (early !== undefined) throw new Error(`serve exited with ${early}: ${err}`);
  }
  if (url === undefined) throw new Error(`serve did not start: ${err}`);
  return {
    url,
    stderr: () => err,
    stop: async () => {
      ac.abort();
      return done;
    },
  };
}

describe('apiwarden serve', () => {
  it('documents every option', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--host',
      '--port',
      '--data-dir',
      '--store',
      '--config',
      '--max-body-bytes',
      '--ingest-rate',
      '--segment',
      'DATABASE_URL',
    ])
      expect(r.stdout).toContain(opt);
  });

  it('prints the first admin token once, serves with it, stops gracefully; a second start prints none', async () => {
    const data = join(dir, 'data');
    const a = await serve(['--port', '0', '--data-dir', data]);
    const token = /admin API token[^:]*: (awt_\S+)/.exec(a.stderr())?.[1];
    expect(token).toBeDefined();
    expect(a.stderr().match(/awt_/g)).toHaveLength(1);
    const me = await fetch(`${a.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toMatchObject({ user: 'admin', role: 'admin' });
    expect(await a.stop()).toBe(0);
    expect(a.stderr()).toMatch(/stopping[\s\S]*stopped/);

    const b = await serve(['--port', '0', '--data-dir', data]);
    expect(b.stderr()).not.toMatch(/token|awt_/);
    const again = await fetch(`${b.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    expect(await b.stop()).toBe(0);
  }, 60_000);

  it('refuses bad options with usage errors', async () => {
    expect((await cli(['serve', '--port', '70000'])).code).toBe(2);
    const seg = await cli(['serve', '--segment', 'soon', '--data-dir', join(dir, 'never')]);
    expect(seg.code).toBe(2);
    expect(seg.stderr).toMatch(/--segment/);
  });
});
