/**
 * Decisions: the list, approve, revoke, a decision taken by hand (its scope checked exactly as the CLI's
 * `--scope`, src/respond/scope.ts), expiry, the backtest over the event store, and the export of the active
 * decisions as WAF / proxy configuration.
 */
import type { Hono } from 'hono';
import { openStore } from '../../cli/store.js';
import { backtest, decisionsToBacktest, hypotheticalDecision } from '../../respond/backtest.js';
import { exportDecisions } from '../../respond/export/index.js';
import { parseDuration } from '../../respond/policy.js';
import { DEFAULT_RATE } from '../../respond/scope.js';
import type { Decision } from '../../respond/types.js';
import { guard, type ServerEnv } from '../auth.js';
import type { Change, ServerContext } from '../context.js';
import { ApiError, JSON_TYPE, json, readJson, readQuery } from '../http.js';
import {
  backtestBody,
  decisionListQuery,
  exportParams,
  exportQuery,
  manualDecisionBody,
  revokeBody,
} from '../schemas.js';
import { fromStatePage, pageSpec } from '../views.js';

async function needDecision(s: ServerContext, id: string): Promise<Decision> {
  const d = (await s.state.decisions()).find((x) => x.id === id);
  if (d === undefined) throw new ApiError(404, 'not_found', `no decision ${id}`);
  return d;
}

/** The content type of an exported file, by its extension. */
function fileType(name: string): string {
  if (name.endsWith('.json')) return JSON_TYPE;
  return 'text/plain; charset=utf-8';
}

export function decisionRoutes(app: Hono<ServerEnv>, s: ServerContext): void {
  const { state } = s;
  const max = s.o.maxBodyBytes;

  app.get('/api/v1/decisions', guard(state, 'viewer'), async (c) => {
    const q = readQuery(c, decisionListQuery);
    const p = await state.decisionPage({ status: q.status, incident: q.incident }, pageSpec(q));
    return json(
      c,
      fromStatePage(p, (d) => [d.createdTs, d.id]),
    );
  });

  app.post('/api/v1/decisions', guard(state, 'analyst'), async (c) => {
    const b = await readJson(c, manualDecisionBody, max);
    const by = c.var.auth.user.name;
    const ttl = b.ttl === undefined ? '1h' : b.ttl;
    const d = await s.serial(async () => {
      if (b.incidentId !== undefined && (await state.incident(b.incidentId)) === undefined)
        throw new ApiError(404, 'not_found', `no incident ${b.incidentId}`, 'incidentId');
      return s.responder().manual(
        {
          action: b.action,
          scope: b.scope,
          ttlMs: ttl === null ? null : parseDuration(ttl),
          reason: b.reason ?? 'taken by hand',
          ...(b.action === 'rate_limit' ? { rateLimit: b.rateLimit ?? DEFAULT_RATE } : {}),
          ...(b.incidentId === undefined ? {} : { incidentId: b.incidentId }),
        },
        by,
      );
    });
    s.announce([{ kind: 'decision.new', decision: d }]);
    return json(c, { decision: d }, 201);
  });

  app.post('/api/v1/decisions/expire', guard(state, 'analyst'), async (c) => {
    const ds = await s.serial(() => s.responder().expire());
    s.announce(ds.map((decision): Change => ({ kind: 'decision.expired', decision })));
    return json(c, { expired: ds });
  });

  app.post('/api/v1/decisions/:id/approve', guard(state, 'analyst'), async (c) => {
    const id = c.req.param('id');
    const by = c.var.auth.user.name;
    const { d, incident } = await s.serial(async () => {
      const before = await needDecision(s, id);
      const d = await s.responder().approve(id, by);
      const incident = before.incidentId === undefined ? undefined : await state.incident(before.incidentId);
      return { d, incident };
    });
    const changes: Change[] = [{ kind: 'decision.approved', decision: d }];
    if (incident !== undefined) changes.push({ kind: 'incident.updated', incident });
    s.announce(changes);
    return json(c, { decision: d, incident: incident ?? null });
  });

  app.post('/api/v1/decisions/:id/revoke', guard(state, 'analyst'), async (c) => {
    const id = c.req.param('id');
    const b = await readJson(c, revokeBody, max);
    const by = c.var.auth.user.name;
    const d = await s.serial(async () => {
      await needDecision(s, id);
      return s.responder().revoke(id, by, b.reason ?? 'revoked by hand');
    });
    s.announce([{ kind: 'decision.revoked', decision: d }]);
    return json(c, { decision: d });
  });

  app.post('/api/v1/backtest', guard(state, 'analyst'), async (c) => {
    const b = await readJson(c, backtestBody, max);
    const dir = s.o.storeDir;
    if (dir === null)
      throw new ApiError(
        409,
        'no_store',
        'the server was started without --store DIR: there is no event history to backtest over',
      );
    let decisions: Decision[];
    if (b.scope !== undefined) {
      decisions = [hypotheticalDecision(b.action ?? 'block', b.scope, () => b.rateLimit ?? DEFAULT_RATE)];
    } else {
      const picked = decisionsToBacktest(await state.decisions(), new Set(b.decisions ?? []), b.all === true);
      const [missing] = picked.missing;
      if (missing !== undefined) throw new ApiError(404, 'not_found', `no decision ${missing}`, 'decisions');
      decisions = picked.decisions;
    }
    const store = await openStore(dir);
    if (store === null)
      throw new ApiError(
        409,
        'no_store',
        `the event store ${dir} holds no events yet (apiwarden ingest --store ${dir})`,
      );
    try {
      const report = await backtest(store.conn, decisions, await state.incidents(), {
        from: b.from ?? null,
        to: b.to ?? null,
      });
      return json(c, report);
    } finally {
      store.close();
    }
  });

  app.get('/api/v1/export/:target', guard(state, 'viewer'), async (c) => {
    const p = exportParams.safeParse({ target: c.req.param('target') });
    if (!p.success)
      throw new ApiError(
        404,
        'not_found',
        `no export target ${c.req.param('target')}: ${p.error.issues[0]!.message}`,
      );
    const q = readQuery(c, exportQuery);
    const now = s.o.now();
    const decisions = await state.decisions();
    const res = exportDecisions(
      p.data.target,
      { decisions, deviceHeader: s.config.response.deviceHeader, now },
      q.awsScope === undefined ? {} : { awsScope: q.awsScope },
    );
    if (q.file !== undefined) {
      const f = res.files.find((x) => x.path === q.file);
      if (f === undefined)
        throw new ApiError(
          404,
          'not_found',
          `${p.data.target} has no file ${q.file} (it writes ${res.files.map((x) => x.path).join(', ')})`,
          'file',
        );
      // The names are the exporters' constants; quoted and stripped anyway.
      const safe = f.path.replace(/[^\w.-]/g, '_');
      return c.body(f.content, 200, {
        'content-type': fileType(f.path),
        'content-disposition': `attachment; filename="${safe}"`,
      });
    }
    const active = decisions.filter(
      (d) => d.status === 'active' && (d.expiresTs === null || d.expiresTs > now),
    );
    return json(c, {
      target: p.data.target,
      active: active.length,
      files: res.files.map((f) => ({
        name: f.path,
        contentType: fileType(f.path),
        bytes: Buffer.byteLength(f.content),
        content: f.content,
      })),
      skipped: res.skipped,
    });
  });
}
