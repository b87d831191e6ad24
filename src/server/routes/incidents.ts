/**
 * Incidents: the list (filters, pages), one incident with its decisions and history, and the SOP moves
 * (transition, note, assign, apply the policy), plus importing what `apiwarden analyze` wrote. Every change
 * goes through the Responder (src/respond/workflow.ts), the same code as the CLI, under the server's write
 * lock, and is announced (SSE, notifications).
 */
import type { Hono } from 'hono';
import type { Incident } from '../../detect/incidents.js';
import { SEVERITIES } from '../../detect/types.js';
import type { IncidentRecord } from '../../respond/state.js';
import { guard, type ServerEnv } from '../auth.js';
import type { Change, ServerContext } from '../context.js';
import { ApiError, json, readJson, readQuery } from '../http.js';
import { assignBody, importBody, incidentListQuery, noteBody, transitionBody } from '../schemas.js';
import { fromStatePage, incidentSummary, pageSpec } from '../views.js';

export async function needIncident(s: ServerContext, id: string): Promise<IncidentRecord> {
  const rec = await s.state.incident(id);
  if (rec === undefined) throw new ApiError(404, 'not_found', `no incident ${id}`);
  return rec;
}

export function incidentRoutes(app: Hono<ServerEnv>, s: ServerContext): void {
  const { state } = s;
  const max = s.o.maxBodyBytes;

  app.get('/api/v1/incidents', guard(state, 'viewer'), async (c) => {
    const q = readQuery(c, incidentListQuery);
    const min = q.minSeverity === undefined ? 0 : SEVERITIES.indexOf(q.minSeverity);
    const p = fromStatePage(
      await state.incidentPage(
        {
          status: q.status,
          type: q.type,
          severities: min === 0 ? undefined : SEVERITIES.slice(min),
          assignee: q.assignee,
        },
        pageSpec(q),
      ),
      (i) => [i.detectedTs, i.id],
    );
    const counts = await state.decisionCounts(p.items.map((i) => i.id));
    return json(c, {
      ...p,
      items: p.items.map((i) => incidentSummary(i, counts.get(i.id) ?? { active: 0, proposed: 0 })),
    });
  });

  app.post('/api/v1/incidents/import', guard(state, 'analyst'), async (c) => {
    const body = await readJson(c, importBody, max);
    const by = c.var.auth.user.name;
    const r = await s.serial(() => s.responder().ingest(body.incidents as unknown as Incident[], by));
    s.announce([
      ...r.created.map((incident): Change => ({ kind: 'incident.new', incident })),
      ...r.updated.map((incident): Change => ({ kind: 'incident.updated', incident })),
      ...r.decisions.map((decision): Change => ({ kind: 'decision.new', decision })),
    ]);
    return json(c, {
      incidents: body.incidents.length,
      created: r.created.length,
      updated: r.updated.length,
      decisions: r.decisions.length,
      active: r.decisions.filter((d) => d.status === 'active').length,
    });
  });

  app.get('/api/v1/incidents/:id', guard(state, 'viewer'), async (c) => {
    const incident = await needIncident(s, c.req.param('id'));
    const decisions = (await state.decisions()).filter((d) => d.incidentId === incident.id);
    const audit = await s.responder().history(incident.id);
    return json(c, { incident, decisions, audit });
  });

  app.post('/api/v1/incidents/:id/transition', guard(state, 'analyst'), async (c) => {
    const id = c.req.param('id');
    const body = await readJson(c, transitionBody, max);
    const by = c.var.auth.user.name;
    const r = await s.serial(async () => {
      await needIncident(s, id);
      const res = await s.responder().transition(id, body.to, {
        by,
        ...(body.note === undefined ? {} : { note: body.note }),
        ...(body.assignee === undefined ? {} : { assignee: body.assignee }),
      });
      if (res.profileChanged) await s.saveLearnedProfile();
      return res;
    });
    s.announce([
      { kind: 'incident.updated', incident: r.record },
      ...r.revoked.map((decision): Change => ({ kind: 'decision.revoked', decision })),
    ]);
    return json(c, {
      incident: r.record,
      effects: r.effects,
      revoked: r.revoked,
      profileChanged: r.profileChanged,
    });
  });

  app.post('/api/v1/incidents/:id/notes', guard(state, 'analyst'), async (c) => {
    const id = c.req.param('id');
    const body = await readJson(c, noteBody, max);
    const by = c.var.auth.user.name;
    const rec = await s.serial(async () => {
      await needIncident(s, id);
      return s.responder().note(id, body.text, by);
    });
    s.announce([{ kind: 'incident.updated', incident: rec }]);
    return json(c, { incident: rec });
  });

  app.post('/api/v1/incidents/:id/assign', guard(state, 'analyst'), async (c) => {
    const id = c.req.param('id');
    const body = await readJson(c, assignBody, max);
    const by = c.var.auth.user.name;
    const rec = await s.serial(async () => {
      await needIncident(s, id);
      return s.responder().assign(id, body.assignee, by);
    });
    s.announce([{ kind: 'incident.updated', incident: rec }]);
    return json(c, { incident: rec });
  });

  app.post('/api/v1/incidents/:id/apply-policy', guard(state, 'analyst'), async (c) => {
    const id = c.req.param('id');
    const by = c.var.auth.user.name;
    const decisions = await s.serial(async () => {
      const rec = await needIncident(s, id);
      const r = s.responder();
      const out = await r.applyPolicy(rec, by);
      await state.commit();
      return out;
    });
    s.announce(decisions.map((decision): Change => ({ kind: 'decision.new', decision })));
    return json(c, { decisions });
  });
}
