import { appendFile, mkdtemp, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from './errors.js';
import { type FollowOptions, FollowSource } from './follow.js';
import { collect, type Slot, slots } from './testing.js';
import type { ReadOptions, RecordBatch } from './types.js';

const READ: ReadOptions = { framing: 'line', maxLineBytes: 1024, maxDocumentBytes: 1024, sampleChars: 10 };
const POLL = 20;
const WAIT_MS = 5000;

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apiwarden-follow-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fresh(name: string): string {
  return join(dir, `${++n}-${name}`);
}

/** Follows `paths` in the background; every wait is bounded so a test can never hang. */
function follow(paths: string[], options: FollowOptions = {}) {
  const controller = new AbortController();
  const batches: RecordBatch[] = [];
  let failure: unknown;
  const src = new FollowSource(paths, { pollMs: POLL, ...options });
  const done = (async () => {
    for await (const b of src.read({ ...READ, signal: controller.signal })) batches.push(b);
  })().catch((err: unknown) => {
    failure = err;
  });
  const seen = (): Slot[] => slots(batches);
  const lines = (): string[] => seen().map((s) => `${s.position}:${s.record ?? s.reject?.reason}`);
  return {
    seen,
    lines,
    async waitFor(predicate: (lines: string[]) => boolean): Promise<void> {
      const deadline = Date.now() + WAIT_MS;
      while (!predicate(lines())) {
        if (failure) throw failure;
        if (Date.now() > deadline) throw new Error(`timed out; seen: ${JSON.stringify(lines())}`);
        await sleep(5);
      }
    },
    /** Aborts and checks the iteration ends promptly. */
    async stop(): Promise<void> {
      controller.abort();
      const ended = await Promise.race([done.then(() => true), sleep(1000).then(() => false)]);
      expect(ended).toBe(true);
      if (failure) throw failure;
    },
  };
}

describe('FollowSource', () => {
  it('reads existing lines, then appended ones; a partial line waits for its newline', async () => {
    const path = fresh('grow.log');
    await writeFile(path, 'a\n');
    const f = follow([path]);
    try {
      await f.waitFor((l) => l.includes('1:a'));
      await appendFile(path, 'b\nc');
      await f.waitFor((l) => l.includes('2:b'));
      await sleep(POLL * 4);
      expect(f.lines()).toEqual(['1:a', '2:b']);
      await appendFile(path, 'c\n');
      await f.waitFor((l) => l.includes('3:cc'));
      expect(f.seen().every((s) => s.input === path)).toBe(true);
    } finally {
      await f.stop();
    }
  });

  it('survives rotation: drains the old file, then reads the new one from position 1', async () => {
    const path = fresh('rot.log');
    await writeFile(path, 'old1\n');
    const f = follow([path]);
    try {
      await f.waitFor((l) => l.includes('1:old1'));
      await rename(path, `${path}.1`);
      // The writer still has the old file open until it reopens: this tail must not be lost.
      await appendFile(`${path}.1`, 'old2\nold3');
      await sleep(POLL * 3);
      await writeFile(path, 'new1\n');
      await appendFile(path, 'new2\n');
      await f.waitFor((l) => l.includes('2:new2'));
      expect(f.lines()).toEqual(['1:old1', '2:old2', '3:old3', '1:new1', '2:new2']);
    } finally {
      await f.stop();
    }
  });

  it('survives rotation when the new file appears at once', async () => {
    const path = fresh('rot2.log');
    await writeFile(path, 'a\n');
    const f = follow([path]);
    try {
      await f.waitFor((l) => l.includes('1:a'));
      await appendFile(path, 'b\n');
      await rename(path, `${path}.1`);
      await writeFile(path, 'x\n');
      await f.waitFor((l) => l.includes('1:x'));
      expect(f.lines()).toEqual(['1:a', '2:b', '1:x']);
    } finally {
      await f.stop();
    }
  });

  it('survives copytruncate: restarts at offset 0 and position 1', async () => {
    const path = fresh('trunc.log');
    await writeFile(path, 'line one\nline two\n');
    const f = follow([path]);
    try {
      await f.waitFor((l) => l.includes('2:line two'));
      await truncate(path, 0);
      await appendFile(path, 'z\n');
      await f.waitFor((l) => l.includes('1:z'));
      await appendFile(path, 'zz\n');
      await f.waitFor((l) => l.includes('2:zz'));
      expect(f.lines()).toEqual(['1:line one', '2:line two', '1:z', '2:zz']);
    } finally {
      await f.stop();
    }
  });

  it('waits for a file that does not exist yet, and for one that goes away for a while', async () => {
    const path = fresh('later.log');
    const f = follow([path]);
    try {
      await sleep(POLL * 3);
      expect(f.lines()).toEqual([]);
      await writeFile(path, 'hello\n');
      await f.waitFor((l) => l.includes('1:hello'));
      await unlink(path);
      await sleep(POLL * 3);
      await writeFile(path, 'again\n');
      await f.waitFor((l) => l.includes('1:again'));
      expect(f.lines()).toEqual(['1:hello', '1:again']);
    } finally {
      await f.stop();
    }
  });

  it("starts at the end with startAt 'end', skipping a partial last line", async () => {
    const path = fresh('end.log');
    await writeFile(path, 'old\nhalf');
    const f = follow([path], { startAt: 'end' });
    try {
      // Let the first poll fix the start offset before appending.
      await sleep(200);
      await appendFile(path, ' line\nnew\n');
      await f.waitFor((l) => l.includes('1:new'));
      expect(f.lines()).toEqual(['1:new']);
    } finally {
      await f.stop();
    }
  });

  it('follows several files, each with its own positions', async () => {
    const a = fresh('a.log');
    const b = fresh('b.log');
    await writeFile(a, 'a1\n');
    await writeFile(b, 'b1\n');
    const f = follow([a, b]);
    try {
      await f.waitFor((l) => l.length === 2);
      await appendFile(b, 'b2\n');
      await appendFile(a, 'a2\n');
      await f.waitFor((l) => l.length === 4);
      const byInput = (p: string) =>
        f
          .seen()
          .filter((s) => s.input === p)
          .map((s) => `${s.position}:${s.record}`);
      expect(byInput(a)).toEqual(['1:a1', '2:a2']);
      expect(byInput(b)).toEqual(['1:b1', '2:b2']);
    } finally {
      await f.stop();
    }
  });

  it('reads a gzip file once instead of following it', async () => {
    const gz = fresh('old.log.gz');
    const live = fresh('live.log');
    await writeFile(gz, gzipSync('g1\ng2\n'));
    await writeFile(live, 'l1\n');
    const f = follow([gz, live]);
    try {
      await f.waitFor((l) => l.length === 3);
      expect(f.seen().map((s) => s.record)).toEqual(['g1', 'g2', 'l1']);
    } finally {
      await f.stop();
    }
  });

  it('ends promptly when aborted while idle', async () => {
    const path = fresh('idle.log');
    await writeFile(path, '');
    const f = follow([path], { pollMs: 60_000 });
    await sleep(30);
    await f.stop();
  });

  it('refuses document framing', async () => {
    const err = await collect(
      new FollowSource([fresh('x.har')]).read({ ...READ, framing: 'document' }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
  });
});
