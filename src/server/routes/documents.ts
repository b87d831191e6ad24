/**
 * The stored documents: the API inventory (`inventory.json` of `apiwarden inventory` / `analyze`) and the
 * detection profile (`profile.json` of `apiwarden profile` / `analyze`). Each PUT stores a new version (every
 * version is kept); GET returns the latest. A new profile is checked like `--profile` files are
 * (readProfile) and swapped into the live pipeline at once.
 */
import type { Hono } from 'hono';
import type { InventoryReport } from '../../inventory/catalog.js';
import { readProfile } from '../../profiling/profile.js';
import { guard, type ServerEnv } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ApiError, json, readBody, readJson } from '../http.js';
import { inventoryBody } from '../schemas.js';

export function documentRoutes(app: Hono<ServerEnv>, s: ServerContext): void {
  const { state } = s;
  const max = s.o.maxBodyBytes;

  app.get('/api/v1/inventory', guard(state, 'viewer'), async (c) => {
    const snap = await state.latestInventory();
    if (snap === undefined)
      throw new ApiError(
        404,
        'not_found',
        'no inventory stored yet (PUT /api/v1/inventory with an inventory.json)',
      );
    return json(c, { id: snap.id, ts: snap.ts, inventory: snap.value });
  });

  app.get('/api/v1/inventory/versions', guard(state, 'viewer'), async (c) =>
    json(c, { versions: await state.inventoryVersions() }),
  );

  app.put('/api/v1/inventory', guard(state, 'analyst'), async (c) => {
    const report = await readJson(c, inventoryBody, max);
    const info = await state.putInventory(report as unknown as InventoryReport);
    await state.audit({
      ts: s.o.now(),
      by: c.var.auth.user.name,
      action: 'inventory.stored',
      target: `inventory:${info.id}`,
      data: { endpoints: report.endpoints.length },
    });
    return json(c, info, 201);
  });

  app.get('/api/v1/profile', guard(state, 'viewer'), async (c) => {
    const snap = await state.latestProfile();
    if (snap === undefined)
      throw new ApiError(404, 'not_found', 'no profile stored yet (PUT /api/v1/profile with a profile.json)');
    return json(c, { id: snap.id, ts: snap.ts, profile: snap.value });
  });

  app.get('/api/v1/profile/versions', guard(state, 'viewer'), async (c) =>
    json(c, { versions: await state.profileVersions('default') }),
  );

  app.put('/api/v1/profile', guard(state, 'analyst'), async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (type !== '' && !/^application\/json\b/i.test(type))
      throw new ApiError(
        415,
        'unsupported_media_type',
        'expected a profile as JSON (content-type application/json)',
      );
    const r = readProfile((await readBody(c, max)).toString('utf8'));
    if (!r.ok) throw new ApiError(400, 'invalid_body', `not a usable profile: ${r.error}`);
    const by = c.var.auth.user.name;
    const info = await s.serial(async () => {
      const info = await state.putProfile(r.value);
      await state.audit({
        ts: s.o.now(),
        by,
        action: 'profile.stored',
        target: `profile:${info.id}`,
        data: { features: Object.keys(r.value.features).length },
      });
      s.current.profile = r.value;
      s.current.id = info.id;
      s.current.ts = info.ts;
      return info;
    });
    await s.sink.setProfile?.(r.value, info.ts);
    return json(c, info, 201);
  });
}
