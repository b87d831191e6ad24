/**
 * The live demo end to end, in this process on a real socket: startLiveDemo learns from a small simulated
 * history, serves the API (and the dashboard when it is built), replays two stretches at a high speed
 * through the server's ingest path, and the incidents and decisions it finds are read back over HTTP. A second
 * demo on the same data directory is refused while the first runs; close() stops everything.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LIVE_START, type LiveDemo, startLiveDemo } from '../src/cli/demo.js';
import { packageRoot } from '../src/cli/paths.js';
import { eventsRelation } from '../src/store/events.js';

const HOUR = 3_600_000;
const STRETCH_HOURS = 1;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aw-demo-live-'));
  delete process.env.DATABASE_URL;
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function api(demo: LiveDemo, path: string, token = demo.adminToken) {
  const res = await fetch(`${demo.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const portOpen = (port: number) =>
  new Promise<boolean>((done) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });

describe('startLiveDemo', () => {
  it('serves, finds incidents and decisions in the replayed traffic, keeps time moving, and stops cleanly', {
    timeout: 55_000,
  }, async () => {
    const dataDir = join(root, 'demo');
    const batches: { min: number; max: number }[] = [];
    const lines: string[] = [];
    const demo = await startLiveDemo({
      dataDir,
      port: 0,
      users: 1000,
      historyHours: 3,
      stretchHours: STRETCH_HOURS,
      segmentMinutes: 5,
      speed: 3600,
      stretches: 2,
      log: (m) => lines.push(m),
      onBatch: (events) => {
        if (events.length === 0) return;
        let min = Number.POSITIVE_INFINITY;
        let max = Number.NEGATIVE_INFINITY;
        for (const e of events) {
          if (e.ts < min) min = e.ts;
          if (e.ts > max) max = e.ts;
        }
        batches.push({ min, max });
      },
    });
    let closed = false;
    try {
      expect(demo.url).toBe(`${demo.baseUrl}/#token=${demo.adminToken}`);
      expect(demo.adminToken).toMatch(/^awt_[A-Za-z0-9_-]{43}$/);
      expect(demo.timings.historyEvents).toBeGreaterThan(1000);

      // The dashboard's address answers: the page when the dashboard is built (dist/web), the API always.
      const page = await fetch(demo.url);
      if (existsSync(join(packageRoot(), 'dist', 'web', 'index.html'))) {
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/text\/html/);
      } else expect(page.status).toBe(404);
      await page.body?.cancel();
      expect((await fetch(`${demo.baseUrl}/healthz`)).status).toBe(200);

      // The printed token is an admin's.
      const me = await api(demo, '/api/v1/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ user: 'admin', role: 'admin' });
      expect((await api(demo, '/api/v1/me', 'awt_not-a-token')).status).toBe(401);

      // The profile and the inventory learned from the history are in the state.
      const profile = await api(demo, '/api/v1/profile');
      expect(profile.status).toBe(200);
      const inventory = await api(demo, '/api/v1/inventory');
      expect(inventory.status).toBe(200);
      expect(((inventory.body.inventory as { endpoints: unknown[] }).endpoints ?? []).length).toBeGreaterThan(
        10,
      );

      await demo.ready;
      await demo.finished;

      const incidents = await api(demo, '/api/v1/incidents?limit=500');
      expect(incidents.status).toBe(200);
      const items = incidents.body.items as { type: string; detectedTs: number }[];
      expect(incidents.body.total as number).toBeGreaterThan(0);
      // Several kinds of attack were found, not one detector's noise.
      expect(new Set(items.map((i) => i.type)).size).toBeGreaterThanOrEqual(3);
      const decisions = await api(demo, '/api/v1/decisions');
      expect(decisions.status).toBe(200);
      expect(decisions.body.total as number).toBeGreaterThan(0);
      const pipeline = await api(demo, '/api/v1/pipeline');
      const p = pipeline.body.pipeline as { segments: number; eventsJudged: number; eventsStored: number };
      expect(p.segments).toBeGreaterThan(2);
      expect(p.eventsStored).toBe(p.eventsJudged);

      // Event time only moves forward, across the stretch boundary too, and covers both stretches.
      expect(batches.length).toBeGreaterThan(4);
      for (let i = 1; i < batches.length; i++)
        expect(batches[i]!.min, `batch ${i}`).toBeGreaterThanOrEqual(batches[i - 1]!.max);
      const boundary = DEMO_LIVE_START + STRETCH_HOURS * HOUR;
      expect(batches[0]!.min).toBeGreaterThanOrEqual(DEMO_LIVE_START);
      expect(batches.some((b) => b.max < boundary)).toBe(true);
      expect(batches.some((b) => b.min >= boundary)).toBe(true);
      expect(batches[batches.length - 1]!.max).toBeLessThan(DEMO_LIVE_START + 2 * STRETCH_HOURS * HOUR);
      expect(demo.stats().eventsIngested).toBe(p.eventsJudged);
      expect(lines.filter((l) => /stretch \d+:/.test(l))).toHaveLength(2);

      // A second demo on the same data directory is refused while this one runs.
      await expect(startLiveDemo({ dataDir, port: 0, users: 200, historyHours: 1 })).rejects.toThrow(
        /is in use by an apiwarden demo that is still running.*--data-dir/,
      );

      const port = Number(new URL(demo.baseUrl).port);
      await demo.close();
      closed = true;
      expect(await portOpen(port)).toBe(false);
      expect(existsSync(join(dataDir, 'demo.lock'))).toBe(false);
      expect(existsSync(join(dataDir, 'state.pglite.lock'))).toBe(false);

      // The event store holds the history and the live traffic (backtests read it).
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const r = await c.runAndReadAll(
        `SELECT count(*) FILTER (WHERE ts < ${DEMO_LIVE_START}) AS hist, count(*) FILTER (WHERE ts >= ${DEMO_LIVE_START}) AS live FROM ${eventsRelation(join(dataDir, 'store'))}`,
      );
      const [hist, live] = r.getRows()[0]!.map(Number);
      c.closeSync();
      db.closeSync();
      expect(hist).toBe(demo.timings.historyEvents);
      expect(live).toBe(p.eventsJudged);
    } finally {
      if (!closed) await demo.close();
    }
  });

  it('refuses a data directory that holds something else, and a port in use, naming the option', {
    timeout: 30_000,
  }, async () => {
    const other = join(root, 'other');
    await import('node:fs/promises').then((fs) =>
      fs.mkdir(other, { recursive: true }).then(() => fs.writeFile(join(other, 'notes.txt'), 'mine')),
    );
    await expect(startLiveDemo({ dataDir: other, port: 0, users: 200, historyHours: 1 })).rejects.toThrow(
      /not empty.*--data-dir/,
    );
    expect(existsSync(join(other, 'notes.txt'))).toBe(true);

    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(
        startLiveDemo({ dataDir: join(root, 'busy-port'), port, users: 200, historyHours: 1 }),
      ).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port} is in use.*--port`));
      // The failed start let its data directory go: a new start there works.
      const again = await startLiveDemo({
        dataDir: join(root, 'busy-port'),
        port: 0,
        users: 200,
        historyHours: 1,
        stretches: 0,
      });
      await again.close();
    } finally {
      blocker.close();
    }
  });
});
