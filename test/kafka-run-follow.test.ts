/**
 * Live mode without Kafka: `apiwarden run --follow FILE` follows a log that grows (and is truncated, as
 * copytruncate rotation does), judges it in 1-second wall-clock segments against a learned profile, prints
 * incidents as JSON lines and stores them in the state. Checked: every appended line is judged (before and
 * after the truncation), incidents appear while the file is followed, and each printed incident is in the
 * state afterwards.
 */
import { appendFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStateStore } from '../src/respond/state.js';
import { bin, cli } from './support/cli.js';
import { until } from './support/kafka-workers.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-run-follow-'));
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('apiwarden run --follow', () => {
  it('rejects a run without --follow or --profile, naming the flag', async () => {
    const a = await cli(['run', join(dir, 'x.log'), '--profile', 'p.json']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--follow/);
    const b = await cli(['run', '--follow', join(dir, 'x.log')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--profile FILE is required/);
  });

  it('follows a growing, truncated log and stores the incidents it finds', async () => {
    const sim = join(dir, 'sim');
    const s = await bin([
      'simulate',
      '--out',
      sim,
      '--hours',
      '2',
      '--users',
      '400',
      '--seed',
      '11',
      '--formats',
      'combined',
      '--quiet',
    ]);
    expect(s.code, s.stderr).toBe(0);
    const input = join(sim, 'access.log');
    const learned = join(dir, 'learned');
    const a = await bin(['analyze', input, '--out', learned, '--quiet']);
    expect(a.code, a.stderr).toBe(0);
    const all = (await readFile(input, 'utf8')).split('\n').filter((l) => l !== '');
    const followed = join(dir, 'access.log');
    await writeFile(followed, '');
    const state = join(dir, 'state');
    const ac = new AbortController();
    let out = '';
    let err = '';
    const { PassThrough, Readable } = await import('node:stream');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const { main } = await import('../src/cli/main.js');
    const running = main(
      [
        'node',
        'apiwarden',
        'run',
        '--follow',
        followed,
        '--format',
        'combined',
        '--profile',
        join(learned, 'profile.json'),
        '--segment',
        '1s',
        '--state',
        state,
      ],
      { stdout, stderr, stdin: Readable.from([]), signal: ac.signal },
    );
    const judged = () => [...err.matchAll(/segment: (\d+) events/g)].reduce((n, m) => n + Number(m[1]), 0);
    const half = Math.floor(all.length / 2);
    for (let i = 0; i < half; i += 2000) {
      await appendFile(followed, `${all.slice(i, Math.min(i + 2000, half)).join('\n')}\n`);
      await sleep(50);
    }
    await until(
      'the first half to be judged',
      () => judged() >= half,
      60_000,
      () => err.slice(-2000),
    );
    // copytruncate: the file is emptied in place, then written again from its start.
    await truncate(followed, 0);
    await sleep(1_000);
    for (let i = half; i < all.length; i += 2000) {
      await appendFile(followed, `${all.slice(i, Math.min(i + 2000, all.length)).join('\n')}\n`);
      await sleep(50);
    }
    await until(
      'every line to be judged',
      () => judged() >= all.length,
      60_000,
      () => err.slice(-2000),
    );
    await until(
      'an incident on stdout',
      () => out.includes('"id":"'),
      10_000,
      () => err.slice(-2000),
    );
    ac.abort();
    expect(await running).toBe(0);
    expect(judged()).toBe(all.length);
    const printed = out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { id: string; type: string });
    expect(printed.length).toBeGreaterThan(0);
    const store = await FileStateStore.open(state);
    const stored = new Set((await store.incidents()).map((i) => i.id));
    await store.close();
    for (const p of printed) expect(stored.has(p.id), p.id).toBe(true);
  }, 180_000);
});
