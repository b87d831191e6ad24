/**
 * CLI arguments → input files. Plain paths, directories (recursively, hidden entries skipped) and glob
 * patterns; the result is sorted oldest first by mtime (ties by rotation number, then name) so rotated logs are read in time
 * order: `access.log.2.gz`, `access.log.1`, `access.log`. `-` means stdin. Errors are values.
 */
import { type Dirent, promises as fsp, type Stats } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { describeError, errorCode } from './errors.js';

export type ExpandResult =
  | {
      ok: true;
      /** Files, oldest first. */
      files: string[];
      /** `-` was given. */
      stdin: boolean;
    }
  | { ok: false; error: string };

export interface ExpandOptions {
  /**
   * Keep plain paths that do not exist (yet) instead of failing: follow mode waits for them. They sort
   * after the existing files, in argument order.
   */
  allowMissing?: boolean;
  /** Base directory for relative paths and patterns (default: the process's); results stay relative to it. */
  cwd?: string;
}

interface Found {
  path: string;
  /** undefined: missing (allowMissing). */
  mtimeMs: number | undefined;
}

export async function expandInputs(args: string[], options: ExpandOptions = {}): Promise<ExpandResult> {
  const cwd = options.cwd ?? process.cwd();
  const found: Found[] = [];
  const seen = new Set<string>();
  let stdin = false;
  const add = (path: string, mtimeMs: number | undefined): void => {
    const key = resolve(cwd, path);
    if (seen.has(key)) return;
    seen.add(key);
    found.push({ path, mtimeMs });
  };

  for (const arg of args) {
    if (arg === '-') {
      stdin = true;
      continue;
    }
    if (arg === '') return { ok: false, error: 'empty input path' };
    let info: Stats | undefined;
    try {
      info = await fsp.stat(resolve(cwd, arg));
    } catch (err) {
      const code = errorCode(err);
      // A literal file name may contain glob characters: only a path that does not exist is a pattern.
      if (code === 'ENOENT' && isDynamicPattern(arg)) {
        const r = await expandPattern(arg, cwd);
        if (!r.ok) return r;
        for (const f of r.files) add(f.path, f.mtimeMs);
        continue;
      }
      if (code === 'ENOENT' && options.allowMissing) {
        add(arg, undefined);
        continue;
      }
      return { ok: false, error: `cannot read '${arg}': ${describeError(err)}` };
    }
    if (info.isDirectory()) {
      const files: Found[] = [];
      const r = await walk(arg, cwd, files);
      if (!r.ok) return r;
      if (files.length === 0) return { ok: false, error: `no files in directory '${arg}'` };
      for (const f of files) add(f.path, f.mtimeMs);
    } else {
      add(arg, info.mtimeMs);
    }
  }

  found.sort(byTime);
  return { ok: true, files: found.map((f) => f.path), stdin };
}

/** logrotate's number: `access.log.2.gz` → 2; an unnumbered file is the newest of its series (-1). */
function rotation(path: string): number {
  const m = /\.(\d{1,4})(?:\.gz)?$/.exec(path);
  return m ? Number(m[1]) : -1;
}

/**
 * Oldest first; on equal mtimes (a copy without -p) a higher rotation number is older, then by name;
 * missing files last, in argument order (sort is stable).
 */
function byTime(a: Found, b: Found): number {
  if (a.mtimeMs === undefined || b.mtimeMs === undefined) {
    return (a.mtimeMs === undefined ? 1 : 0) - (b.mtimeMs === undefined ? 1 : 0);
  }
  if (a.mtimeMs !== b.mtimeMs) return a.mtimeMs - b.mtimeMs;
  const ra = rotation(a.path);
  const rb = rotation(b.path);
  if (ra !== rb) return rb - ra;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

async function expandPattern(
  pattern: string,
  cwd: string,
): Promise<{ ok: true; files: Found[] } | { ok: false; error: string }> {
  let matches: string[];
  try {
    // expandDirectories off: `logs/*` must not silently become `logs/*/**`.
    matches = await glob(pattern, {
      cwd,
      // Absolute patterns give absolute paths (tinyglobby would make them relative to cwd).
      absolute: isAbsolute(pattern),
      onlyFiles: true,
      dot: false,
      expandDirectories: false,
    });
  } catch (err) {
    return { ok: false, error: `bad pattern '${pattern}': ${describeError(err)}` };
  }
  const files: Found[] = [];
  for (const path of matches) {
    const info = await statFile(path, cwd);
    if (info) files.push({ path, mtimeMs: info.mtimeMs });
  }
  if (files.length === 0) return { ok: false, error: `no files match '${pattern}'` };
  return { ok: true, files };
}

/** Regular files only (a symlink counts when it points to one); undefined for anything else or gone. */
async function statFile(path: string, cwd: string): Promise<Stats | undefined> {
  try {
    const info = await fsp.stat(resolve(cwd, path));
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

/** All regular files under `dir`, skipping hidden entries; symlinked directories are not entered (loops). */
async function walk(
  dir: string,
  cwd: string,
  out: Found[],
): Promise<{ ok: true } | { ok: false; error: string }> {
  let entries: Dirent[];
  try {
    entries = await fsp.readdir(resolve(cwd, dir), { withFileTypes: true });
  } catch (err) {
    return { ok: false, error: `cannot read directory '${dir}': ${describeError(err)}` };
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const r = await walk(path, cwd, out);
      if (!r.ok) return r;
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      const info = await statFile(path, cwd);
      if (info) out.push({ path, mtimeMs: info.mtimeMs });
    }
  }
  return { ok: true };
}
