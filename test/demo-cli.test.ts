/**
 * `apiwarden demo` as a command: every option documented in --help, usage errors before anything starts,
 * and a data directory that is not the demo's refused without touching it. The live run itself is
 * test/demo-live.test.ts (startLiveDemo on a real socket).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aw-demo-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('apiwarden demo', () => {
  it('documents every option', async () => {
    const r = await cli(['demo', '--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--host',
      '--port',
      '--speed',
      '--seed',
      '--users',
      '--data-dir',
      '--once',
      '--offline',
      '--out',
    ])
      expect(r.stdout).toContain(opt);
    const doc = await readFile(join(import.meta.dirname, '..', 'docs', 'demo.md'), 'utf8');
    for (const opt of [
      '--host',
      '--port',
      '--speed',
      '--seed',
      '--users',
      '--data-dir',
      '--once',
      '--offline',
    ])
      expect(doc).toContain(`\`${opt}`);
  });

  it('refuses bad values naming the option', async () => {
    for (const [args, flag] of [
      [['--speed', '0'], '--speed'],
      [['--speed', 'fast'], '--speed'],
      [['--port', '70000'], '--port'],
      [['--users', '10'], '--users'],
      [['--seed', '-1'], '--seed'],
    ] as const) {
      const r = await cli(['demo', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(flag);
    }
  });

  it('leaves a directory that is not a demo’s alone', async () => {
    const mine = join(dir, 'mine');
    await mkdir(mine);
    await writeFile(join(mine, 'important.db'), 'keep me');
    const r = await cli(['demo', '--data-dir', mine, '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not empty and holds no previous demo.*--data-dir/);
    expect(await readFile(join(mine, 'important.db'), 'utf8')).toBe('keep me');
    expect(existsSync(join(mine, 'demo.lock'))).toBe(false);
  });
});
