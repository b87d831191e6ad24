/**
 * Who may do what: the caller's own identity (any role), and for admins users and API tokens. A token's
 * secret is in the answer to its creation and nowhere else (the state keeps its SHA-256). Every change is in
 * the audit log, without secrets.
 */
import type { Hono } from 'hono';
import { guard, type ServerEnv } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ApiError, json, readJson, readQuery } from '../http.js';
import { createTokenBody, createUserBody, setRoleBody, tokensQuery } from '../schemas.js';

export function adminRoutes(app: Hono<ServerEnv>, s: ServerContext): void {
  const { state } = s;
  const max = s.o.maxBodyBytes;
  const audit = (by: string, action: string, target: string, data: Record<string, unknown>) =>
    state.audit({ ts: s.o.now(), by, action, target, data });

  app.get('/api/v1/me', guard(state, 'viewer'), (c) => {
    const a = c.var.auth;
    return json(c, { user: a.user.name, role: a.role, tokenId: a.tokenId });
  });

  app.get('/api/v1/users', guard(state, 'admin'), async (c) => json(c, { users: await state.users() }));

  app.post('/api/v1/users', guard(state, 'admin'), async (c) => {
    const b = await readJson(c, createUserBody, max);
    const by = c.var.auth.user.name;
    const user = await s.serial(async () => {
      if ((await state.user(b.name)) !== undefined)
        throw new ApiError(409, 'conflict', `user ${b.name} already exists`, 'name');
      const u = await state.createUser(b.name, b.role);
      await audit(by, 'user.created', `user:${u.name}`, { role: u.role });
      return u;
    });
    return json(c, { user }, 201);
  });

  app.patch('/api/v1/users/:name', guard(state, 'admin'), async (c) => {
    const name = c.req.param('name');
    const b = await readJson(c, setRoleBody, max);
    const by = c.var.auth.user.name;
    const user = await s.serial(async () => {
      const u = await state.user(name);
      if (u === undefined) throw new ApiError(404, 'not_found', `no user ${name}`);
      if (
        u.role === 'admin' &&
        b.role !== 'admin' &&
        (await state.users()).filter((x) => x.role === 'admin').length === 1
      )
        throw new ApiError(
          409,
          'conflict',
          `${name} is the last admin: make another user admin first`,
          'role',
        );
      await state.setRole(name, b.role);
      await audit(by, 'user.role', `user:${name}`, { role: b.role });
      return state.user(name);
    });
    return json(c, { user });
  });

  app.get('/api/v1/tokens', guard(state, 'admin'), async (c) => {
    const q = readQuery(c, tokensQuery);
    return json(c, { tokens: await state.tokens(q.user) });
  });

  app.post('/api/v1/tokens', guard(state, 'admin'), async (c) => {
    const b = await readJson(c, createTokenBody, max);
    const by = c.var.auth.user.name;
    const r = await s.serial(async () => {
      if ((await state.user(b.user)) === undefined)
        throw new ApiError(
          404,
          'not_found',
          `no user ${b.user}: create the user first (POST /api/v1/users)`,
          'user',
        );
      const r = await state.createToken(b.user, b.label ?? '');
      await audit(by, 'token.created', r.token.id, { user: b.user, label: r.token.label });
      return r;
    });
    return json(c, { token: r.token, secret: r.secret }, 201);
  });

  app.delete('/api/v1/tokens/:id', guard(state, 'admin'), async (c) => {
    const id = c.req.param('id');
    const by = c.var.auth.user.name;
    await s.serial(async () => {
      if (!(await state.revokeToken(id))) throw new ApiError(404, 'not_found', `no live token ${id}`);
      await audit(by, 'token.revoked', id, {});
    });
    return json(c, { revoked: id });
  });
}
