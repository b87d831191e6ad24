/**
 * Test support for the server (not part of the build): a server on 127.0.0.1 port 0 over PGlite in a
 * temporary directory with one token per role, incidents made by hand, and a small fetch wrapper. PGlite's
 * first start takes seconds, so each test file starts one server and shares it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident } from '../detect/incidents.js';
import type { ActorRef, AnomalyType, Severity } from '../detect/types.js';
import { openState, type PgStateStore, type Role } from '../store/state/pg-state.js';
import { type AppOptions, createApp, type ServerApp } from './app.js';
import { type Listening, listen } from './listen.js';

export interface TestServer {
  dir: string;
  state: PgStateStore;
  server: ServerApp;
  listening: Listening;
  url: string;
  tokens: Record<Role, string>;
  /** fetch against the server with a token (or none). */
  call(method: string, path: string, o?: CallOptions): Promise<Answer>;
  stop(): Promise<void>;
}

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely
  body: any;
}

export async function startTestServer(o: Omit<AppOptions, 'state'> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aw-server-'));
  const state = await openState({ dataDir: dir });
  const first = await state.firstAdminToken();
  if (first === null) throw new Error('a fresh state has no users');
  await state.createUser('ana', 'analyst');
  await state.createUser('vic', 'viewer');
  const tokens: Record<Role, string> = {
    admin: first.secret,
    analyst: (await state.createToken('ana', 'test')).secret,
    viewer: (await state.createToken('vic', 'test')).secret,
  };
  const server = await createApp({ state, log: () => {}, statsIntervalMs: 0, expireEveryMs: 0, ...o });
  const listening = await listen(server.app, '127.0.0.1', 0);
  const url = listening.url;
  const call = async (method: string, path: string, c: CallOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...c.headers };
    const token = c.token === undefined ? tokens.admin : c.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body = c.body;
    if (c.json !== undefined) {
      body = JSON.stringify(c.json);
      headers['content-type'] ??= 'application/json';
    }
    const init = {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      // A stream body is sent chunked, without a content-length.
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    };
    const r = await fetch(url + path, init as RequestInit);
    const text = await r.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: r.status, headers: r.headers, text, body: parsed };
  };
  return {
    dir,
    state,
    server,
    listening,
    url,
    tokens,
    call,
    stop: async () => {
      server.hub.close();
      await listening.close(1000);
      await server.close();
      await state.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let n = 0;

/** An incident as `apiwarden analyze` writes one. */
export function makeIncident(o: {
  actors: ActorRef[];
  type?: AnomalyType;
  severity?: Severity;
  explanation?: string;
  endpoints?: string[];
  ts?: number;
}): Incident {
  n++;
  const ts = o.ts ?? 1_772_409_600_000 + n * 60_000;
  const type = o.type ?? 'scanner';
  return {
    id: `inc-test${String(n).padStart(12, '0')}`,
    type,
    types: [type],
    severity: o.severity ?? 'medium',
    score: 0.9,
    confidence: 0.8,
    status: 'new',
    actors: o.actors,
    endpoints: o.endpoints ?? ['GET /api/v1/products/{id}'],
    firstEventTs: ts - 300_000,
    detectedTs: ts,
    lastEventTs: ts + 60_000,
    requests: 420,
    alerts: [`alert-test${n}`],
    evidence: [{ feature: 'distinct_paths_5m_by_ip', value: 180, threshold: 40, source: 'profile' }],
    explanation: o.explanation ?? `${o.actors[0]!.value} probed 180 paths in 5 minutes`,
  };
}
