/** Loading the YAML config: every error names the file, the field, what was expected and how to fix it. */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { err, ok, type Result } from '../core/result.js';
import { type Config, configSchema } from './schema.js';

/** Dotted path of a field, with list indexes: `events.trustedProxies[2]`. */
function fieldPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s === '' ? '(top level)' : s;
}

type Walkable = { shape?: Record<string, z.ZodType>; unwrap?: () => z.ZodType; element?: z.ZodType };

/** The object schema at a path, to list valid keys when an unknown one is found. */
function keysAt(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType = configSchema;
  for (const p of path) {
    // Look through wrappers (default, optional, nullable) to the object, or the array for an index.
    let cur = s as unknown as Walkable;
    while (!cur.shape && !cur.element && cur.unwrap) cur = cur.unwrap() as unknown as Walkable;
    const next = typeof p === 'number' ? cur.element : cur.shape?.[String(p)];
    if (!next) return [];
    s = next;
  }
  let cur = s as unknown as Walkable;
  while (!cur.shape && cur.unwrap) cur = cur.unwrap() as unknown as Walkable;
  return cur.shape ? Object.keys(cur.shape) : [];
}

/** Turns zod issues into one line each, in the form `field: problem`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const valid = keysAt(i.path);
      const where = i.path.length === 0 ? '' : ` in ${fieldPath(i.path)}`;
      return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')}${where} (valid: ${valid.join(', ')})`;
    }
    return `${fieldPath(i.path)}: ${i.message}`;
  });
}

/** Validates an already-parsed object (from YAML, or built in code). */
export function parseConfig(raw: unknown): Result<Config, string[]> {
  const r = configSchema.safeParse(raw ?? {});
  return r.success ? ok(r.data) : err(formatIssues(r.error.issues));
}

/** Reads and validates a YAML config file. Errors are lines prefixed with the file name. */
export async function loadConfig(path: string): Promise<Result<Config, string[]>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return err([
      `cannot read config '${path}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    ]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return err(doc.errors.map((e) => `${path}: invalid YAML: ${e.message.split('\n')[0]}`));
  }
  const r = parseConfig(doc.toJS());
  return r.ok ? r : err(r.error.map((m) => `${path}: ${m}`));
}
