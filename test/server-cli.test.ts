/**
 * `apiwarden serve` as a command, in this process: the help, the first start printing the admin token once
 * (and a second start on the same data directory printing none, the old token still working), a graceful
 * stop on the abort signal (what SIGINT does), and usage errors. `serve --input` as the real binary (a child
 * process, SIGINT): it learns a profile from a simulated log with malformed lines, replays it through
 * ingest, and the incidents, the malformed counts, the quarantine and the event store are read back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { ATTACK_TYPES } from '../src/simulate/attacks.js';
import { DEFAULT_START, Simulation, writeSimulation } from '../src/simulate/simulate.js';
import { eventsRelation } from '../src/store/events.js';
import { cli, ROOT } from './support/cli.js';

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
      '--segment-clock',
      '--input',
      '--format',
      '--speed',
      '--as-fast-as-possible',
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

/** The real binary serving; resolves once `ready` matches its stderr. */
async function spawnServe(args: string[], ready: RegExp, timeoutMs = 50_000) {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'apiwarden.js'), 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '' },
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  child.stdout!.resume();
  const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  const end = Date.now() + timeoutMs;
  while (!ready.test(err)) {
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`serve did not get ready: ${err}`);
    }
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    if (code !== undefined) throw new Error(`serve exited with ${code}: ${err}`);
  }
  return {
    url: /listening on (http:\/\/[\d.:]+)/.exec(err)![1]!,
    token: /admin API token[^:]*: (awt_\S+)/.exec(err)?.[1],
    stderr: () => err,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

describe('apiwarden serve --input', () => {
  let logDir: string;
  let lines: number;
  beforeAll(async () => {
    // Three simulated hours with every campaign (at 0.4x their size), as a combined access log, split in two: a plain file and a
    // gzip one with two malformed lines at known places (its lines 3 and 5).
    const sim = join(dir, 'sim');
    await writeSimulation(
      new Simulation({
        seed: 3,
        start: DEFAULT_START + 10 * 3_600_000,
        hours: 3,
        users: 1500,
        attacks: ATTACK_TYPES,
        attackScale: 0.4,
        warmupHours: 1,
      }),
      { dir: sim, formats: ['combined'], gzip: false },
    );
    const all = (await readFile(join(sim, 'access.log'), 'utf8')).split('\n').filter((l) => l !== '');
    lines = all.length;
    logDir = join(dir, 'logs');
    await mkdir(logDir, { recursive: true });
    const cut = Math.floor(all.length / 2);
    await writeFile(join(logDir, 'access.log.1'), `${all.slice(0, cut).join('\n')}\n`);
    const second = all.slice(cut);
    const withBad = [
      ...second.slice(0, 2),
      'this is not a log line',
      second[2],
      '<script>alert(1)</script>',
      ...second.slice(3),
    ];
    await writeFile(join(dir, 'part2.log'), `${withBad.join('\n')}\n`);
    await pipeline(
      createReadStream(join(dir, 'part2.log')),
      createGzip(),
      createWriteStream(join(logDir, 'access.log.2.gz')),
    );
  }, 60_000);

  it('learns a profile from the input, replays it through ingest, and serves incidents; malformed lines are counted and quarantined; the store gets the events', async () => {
    const data = join(dir, 'input-data');
    const store = join(dir, 'input-store');
    const s = await spawnServe(
      ['--port', '0', '--data-dir', data, '--store', store, '--input', logDir, '--segment', '5m'],
      /serving on/,
    );
    const err = s.stderr();
    expect(err).toMatch(/no profile stored: learning one from 2 files first \(format combined, detected/);
    expect(err).toMatch(/learned the profile \(#1\) and the inventory/);
    expect(err).toMatch(/segments of 5 min 0 s on the event clock/);
    expect(err).toMatch(
      /replayed [\d,]+ records in .*: [\d,]+ events, 0 blank, 2 malformed \(format_mismatch 2/,
    );
    const h = { authorization: `Bearer ${s.token}` };
    const get = async (p: string) =>
      // biome-ignore lint/suspicious/noExplicitAny: the test reads answers loosely
      (await fetch(`${s.url}${p}`, { headers: h })).json() as Promise<Record<string, any>>;
    const pipe = await get('/api/v1/pipeline');
    expect(pipe.ingest.events).toBe(lines);
    expect(pipe.ingest.malformed).toEqual({ format_mismatch: 2 });
    expect(pipe.pipeline.eventsJudged).toBe(lines);
    expect(pipe.pipeline.eventsStored).toBe(lines);
    expect(pipe.pipeline.segments).toBeGreaterThan(10);
    const incidents = await get('/api/v1/incidents?limit=500');
    expect(incidents.total).toBeGreaterThan(0);
    expect(new Set((incidents.items as { type: string }[]).map((i) => i.type)).size).toBeGreaterThanOrEqual(
      3,
    );
    expect((await get('/api/v1/profile')).profile).toBeDefined();
    expect((await get('/api/v1/inventory')).inventory.endpoints.length).toBeGreaterThan(10);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/apiwarden_ingest_malformed_total\{reason="format_mismatch"\} 2/);
    expect(await s.stop()).toBe(0);
    expect(s.stderr()).toMatch(/SIGINT: stopping[\s\S]*stopped/);

    // The quarantine names the gzip file and the lines as they are in it; the attacker string is data.
    const q = (await readFile(join(data, 'ingest-quarantine.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(q.map((r) => [r.source, r.line, r.record])).toEqual([
      [join(logDir, 'access.log.2.gz'), 3, 'this is not a log line'],
      [join(logDir, 'access.log.2.gz'), 5, '<script>alert(1)</script>'],
    ]);

    // Every replayed event is in the event store (backtests and analyze --store read it).
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const n = Number(
      (await c.runAndReadAll(`SELECT count(*) FROM ${eventsRelation(store)}`)).getRows()[0]![0],
    );
    c.closeSync();
    db.closeSync();
    expect(n).toBe(lines);

    // A second start judges against the stored profile: nothing is learned again.
    const again = await spawnServe(
      ['--port', '0', '--data-dir', data, '--input', join(logDir, 'access.log.1')],
      /serving on/,
    );
    expect(again.stderr()).toMatch(/judging against the stored profile #1/);
    expect(again.stderr()).not.toMatch(/learning one/);
    expect(await again.stop()).toBe(0);
  }, 58_000);

  it('replays at --speed on the log clock, and refuses options that need --input', async () => {
    // Three requests 10 s apart on the log clock: at 10x the replay takes about 2 s.
    const t = (s: number) => `[02/Mar/2026:10:00:${String(s).padStart(2, '0')} +0000]`;
    const log = join(dir, 'slow.log');
    await writeFile(
      log,
      `${[0, 10, 20]
        .map((sec) => `203.0.113.9 - - ${t(sec)} "GET /api/v1/products/${sec} HTTP/1.1" 200 512 "-" "curl/8"`)
        .join('\n')}\n`,
    );
    const s = await spawnServe(
      ['--port', '0', '--data-dir', join(dir, 'slow-data'), '--input', log, '--speed', '10'],
      /serving on/,
    );
    const took = /replayed 3 records in ([\d.]+) (ms|s)/.exec(s.stderr());
    expect(took, s.stderr()).not.toBeNull();
    const sec = took![2] === 's' ? Number(took![1]) : Number(took![1]) / 1000;
    expect(sec).toBeGreaterThanOrEqual(1.8);
    expect(sec).toBeLessThan(10);
    expect(await s.stop()).toBe(0);

    const bad = await cli(['serve', '--speed', '10', '--data-dir', join(dir, 'never')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--speed goes with --input/);
    const missing = await cli(['serve', '--input', join(dir, 'nope.log'), '--data-dir', join(dir, 'never2')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--input: .*nope\.log/);
    expect(existsSync(join(dir, 'never2'))).toBe(false);
    const clock = await cli(['serve', '--segment-clock', 'lunar', '--data-dir', join(dir, 'never3')]);
    expect(clock.code).toBe(2);
    expect(clock.stderr).toMatch(/--segment-clock must be 'wall' or 'event'/);
  }, 40_000);
});
