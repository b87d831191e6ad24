/**
 * docs/openapi-server.yaml is the document GET /api/v1/openapi.json serves, written out for readers and
 * client generators. This test keeps the file equal to the code; after changing a route or a schema run
 * `UPDATE_OPENAPI=1 npx vitest run test/server-openapi.test.ts` to rewrite it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openApiDocument, ROUTES } from '../src/server/openapi.js';

const FILE = join(import.meta.dirname, '..', 'docs', 'openapi-server.yaml');
const HEADER =
  '# Generated from src/server/openapi.ts (the document GET /api/v1/openapi.json serves); do not edit.\n' +
  '# Rewrite: UPDATE_OPENAPI=1 npx vitest run test/server-openapi.test.ts\n';

describe('the OpenAPI document', () => {
  const doc = openApiDocument();
  const text = HEADER + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });

  it('is written to docs/openapi-server.yaml', () => {
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(FILE, text);
    let onDisk = '';
    try {
      onDisk = readFileSync(FILE, 'utf8');
    } catch {
      // missing: fails below
    }
    expect(
      onDisk,
      'docs/openapi-server.yaml is stale: UPDATE_OPENAPI=1 npx vitest run test/server-openapi.test.ts',
    ).toBe(text);
  });

  it('is OpenAPI 3.1 with every route, its role, and only references it defines', () => {
    expect(doc.openapi).toBe('3.1.0');
    const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
    for (const r of ROUTES) {
      const op = paths[r.path]?.[r.method];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      if (r.role === null) expect(op!.security).toEqual([]);
      else expect(op!['x-apiwarden-role']).toBe(r.role);
    }
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1]!,
    );
    for (const ref of refs) expect(schemas[ref], ref).toBeDefined();
    const ids = ROUTES.map((r) => (paths[r.path]![r.method] as { operationId: string }).operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
