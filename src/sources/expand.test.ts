import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandInputs } from './expand.js';

let dir: string;
const T0 = new Date('2025-01-01T00:00:00Z').getTime() / 1000;

/** Writes a file with an mtime of T0 + `age` seconds. */
async function file(rel: string, age: number, content = 'x\n'): Promise<string> {
  const path = join(dir, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  await utimes(path, T0 + age, T0 + age);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apiwarden-expand-'));
  // Rotated logs: the highest number is the oldest.
  await file('logs/access.log', 300);
  await file('logs/access.log.1', 200);
  await file('logs/access.log.2.gz', 100);
  await file('logs/error.log', 250);
  await file('logs/.hidden.log', 50);
  await file('logs/.git/config', 50);
  await file('logs/old/archive.log', 10);
  await file('ties/b.log', 5);
  await file('ties/a.log', 5);
  await file('ties/c.log', 1);
  // Copied without keeping mtimes: the rotation number still orders them.
  await file('copied/access.log', 7);
  await file('copied/access.log.1', 7);
  await file('copied/access.log.10.gz', 7);
  await file('copied/access.log.2.gz', 7);
  await mkdir(join(dir, 'empty'));
  await file('only-hidden/.x', 1);
  await file('odd/[literal].log', 1);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('expandInputs', () => {
  it('expands a directory recursively, skips hidden entries, sorts oldest first', async () => {
    const r = await expandInputs([join(dir, 'logs')]);
    expect(r).toEqual({
      ok: true,
      stdin: false,
      files: [
        join(dir, 'logs/old/archive.log'),
        join(dir, 'logs/access.log.2.gz'),
        join(dir, 'logs/access.log.1'),
        join(dir, 'logs/error.log'),
        join(dir, 'logs/access.log'),
      ],
    });
  });

  it('expands glob patterns relative to cwd and sorts by mtime', async () => {
    const r = await expandInputs(['logs/access.log*'], { cwd: dir });
    expect(r).toEqual({
      ok: true,
      stdin: false,
      files: ['logs/access.log.2.gz', 'logs/access.log.1', 'logs/access.log'],
    });
  });

  it('expands absolute glob patterns', async () => {
    const r = await expandInputs([join(dir, 'logs/*.log')]);
    expect(r.ok && r.files).toEqual([join(dir, 'logs/error.log'), join(dir, 'logs/access.log')]);
  });

  it('breaks mtime ties by name', async () => {
    const r = await expandInputs(['ties'], { cwd: dir });
    expect(r.ok && r.files).toEqual(['ties/c.log', 'ties/a.log', 'ties/b.log']);
  });

  it('breaks mtime ties of rotated files by rotation number, highest (oldest) first', async () => {
    const r = await expandInputs(['copied'], { cwd: dir });
    expect(r.ok && r.files).toEqual([
      'copied/access.log.10.gz',
      'copied/access.log.2.gz',
      'copied/access.log.1',
      'copied/access.log',
    ]);
  });

  it('merges plain paths, directories and patterns without duplicates', async () => {
    const r = await expandInputs(['ties/a.log', 'ties', 'ties/*.log'], { cwd: dir });
    expect(r.ok && r.files).toEqual(['ties/c.log', 'ties/a.log', 'ties/b.log']);
  });

  it('treats an existing path with glob characters literally', async () => {
    const r = await expandInputs(['odd/[literal].log'], { cwd: dir });
    expect(r.ok && r.files).toEqual(['odd/[literal].log']);
  });

  it('reports `-` as stdin', async () => {
    expect(await expandInputs(['-'])).toEqual({ ok: true, stdin: true, files: [] });
  });

  it('names a missing file', async () => {
    expect(await expandInputs(['nope.log'], { cwd: dir })).toEqual({
      ok: false,
      error: "cannot read 'nope.log': no such file",
    });
  });

  it('keeps missing files last when allowed (follow mode)', async () => {
    const r = await expandInputs(['later.log', 'ties/a.log'], { cwd: dir, allowMissing: true });
    expect(r.ok && r.files).toEqual(['ties/a.log', 'later.log']);
  });

  it('names a pattern matching nothing', async () => {
    expect(await expandInputs(['logs/*.json'], { cwd: dir })).toEqual({
      ok: false,
      error: "no files match 'logs/*.json'",
    });
  });

  it('names a directory with no (visible) files', async () => {
    expect(await expandInputs(['empty'], { cwd: dir })).toEqual({
      ok: false,
      error: "no files in directory 'empty'",
    });
    expect(await expandInputs(['only-hidden'], { cwd: dir })).toEqual({
      ok: false,
      error: "no files in directory 'only-hidden'",
    });
  });
});
