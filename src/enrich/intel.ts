/**
 * Threat intel: lists of addresses (Tor exits, cloud ranges, blocklists, allowlists) and of user-agent
 * patterns, read from files or http(s) URLs, refreshed, and asked about on every event.
 *
 * The configuration (`intel` in the config file, docs/intel.md) is data; `IntelStore` turns it into
 * behaviour: it loads every source, re-reads them on `refresh()` or on each source's `refreshMs` (with
 * conditional requests: ETag / If-None-Match and Last-Modified / If-Modified-Since, 304 keeps the copy), and
 * keeps a source's last good copy when a refresh fails (counted, the reason kept). Lookups go to an immutable
 * `IntelIndex` rebuilt when a list changes.
 *
 * Intel is evidence and a feature, never on its own a reason to alert: lists are wrong in both directions
 * (shared cloud addresses, recycled exits, agents anyone can write).
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { IntelConfig } from '../config/schema.js';
import { err, ok, type Result } from '../core/result.js';
import {
  type IntelReject,
  type IpEntry,
  type ParsedList,
  parseAwsRanges,
  parseGcpRanges,
  parseIpList,
  parseTorList,
  parseUserAgentList,
  type UaEntry,
} from './intel-formats.js';
import {
  type IntelCategory,
  type IntelHit,
  IntelIndex,
  type IpListData,
  type UaListData,
} from './intel-index.js';

export * from './intel-formats.js';
export * from './intel-index.js';

/** The formats a source can be in. */
export const INTEL_KINDS = ['ip', 'tor', 'aws', 'gcp', 'useragent'] as const;
export type IntelKind = (typeof INTEL_KINDS)[number];

/** The category a source gets when its config names none (`ip` lists must name one). */
export const DEFAULT_CATEGORY: Readonly<Record<IntelKind, IntelCategory | null>> = {
  ip: null,
  tor: 'tor',
  aws: 'datacenter',
  gcp: 'datacenter',
  useragent: 'scanner',
};

/** The provider of the cloud kinds (other sources may name one in their config). */
export const DEFAULT_PROVIDER: Readonly<Partial<Record<IntelKind, string>>> = { aws: 'aws', gcp: 'gcp' };

/** The shortest refresh interval the config accepts. */
export const MIN_REFRESH_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BYTES = 64 << 20;

/** One source as the config describes it (the config schema's type fits). */
export interface IntelSourceSpec {
  name: string;
  kind: IntelKind;
  category?: IntelCategory;
  provider?: string;
  /** Exactly one of `file` and `url`. */
  file?: string;
  url?: string;
  /** Re-read every this many milliseconds once `start()` is called; absent: only on `refresh()`. */
  refreshMs?: number;
}

/** The `intel` section of the config, or the same built in code. */
export interface IntelStoreConfig {
  sources: readonly IntelSourceSpec[];
  timeoutMs?: number;
  maxBytes?: number;
}

export interface IntelStoreOptions {
  /** Relative `file` paths are read from here (default: the working directory). */
  baseDir?: string;
  /** Called after every refresh of a source (timer-driven ones included), e.g. to log failures. */
  onRefresh?: (r: IntelRefreshResult) => void;
  /** The clock of `loadedAt` / `checkedAt` (tests). */
  now?: () => number;
}

export interface IntelRefreshResult {
  name: string;
  /** `loaded`: a new copy is in use; `unchanged`: not modified (304, same file); `failed`: the old copy stays. */
  outcome: 'loaded' | 'unchanged' | 'failed';
  /** Why it failed. */
  error?: string;
}

/** What a source is, and how its reading went. */
export interface IntelSourceStatus {
  name: string;
  kind: IntelKind;
  category: IntelCategory;
  /** The file path (resolved) or the URL. */
  from: string;
  /** Entries in the copy in use (0 before the first good load). */
  entries: number;
  /** Bad lines of the copy in use, and the first of them with their line (or JSON field) and reason. */
  rejected: number;
  rejects: IntelReject[];
  /** When the copy in use was read (ms since the epoch), null before the first good load. */
  loadedAt: number | null;
  /** When the source was last tried, whatever the outcome. */
  checkedAt: number | null;
  /** Validators of the copy in use, sent back as If-None-Match / If-Modified-Since. */
  etag: string | null;
  lastModified: string | null;
  /** Reads that brought a new copy, found it unchanged, or failed. */
  loads: number;
  unchanged: number;
  failures: number;
  /** Whether the last attempt succeeded (loaded or unchanged). */
  healthy: boolean;
  /** The reason of the latest failure, kept after later successes; null if it never failed. */
  lastError: string | null;
  lastErrorAt: number | null;
}

type Parsed = { ip: ParsedList<IpEntry> } | { ua: ParsedList<UaEntry> };

/** Text of a source's kind → entries; an error when the text is not that format at all. */
export function parseIntel(kind: IntelKind, text: string): Result<Parsed, string> {
  switch (kind) {
    case 'ip':
      return ok({ ip: parseIpList(text) });
    case 'tor':
      return ok({ ip: parseTorList(text) });
    case 'aws': {
      const r = parseAwsRanges(text);
      return r.ok ? ok({ ip: r.value }) : r;
    }
    case 'gcp': {
      const r = parseGcpRanges(text);
      return r.ok ? ok({ ip: r.value }) : r;
    }
    case 'useragent':
      return ok({ ua: parseUserAgentList(text) });
  }
}

interface SourceState {
  spec: IntelSourceSpec;
  category: IntelCategory;
  provider: string | undefined;
  path: string | null;
  data: IpListData | UaListData | null;
  /** `mtimeMs:size` of the file copy in use: an unchanged file is not parsed again. */
  fileStamp: string | null;
  status: IntelSourceStatus;
  inflight: Promise<IntelRefreshResult> | null;
  timer: NodeJS.Timeout | null;
}

type Fetched =
  | { kind: 'text'; text: string; etag: string | null; lastModified: string | null; stamp: string | null }
  | { kind: 'unchanged' };

function describeError(e: unknown, timeoutMs: number): string {
  const x = e as Error & { cause?: { code?: string; message?: string } };
  if (x?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (x?.name === 'AbortError') return 'aborted (the store was closed)';
  const cause = x?.cause?.code ?? x?.cause?.message;
  return cause !== undefined ? `${x.message}: ${cause}` : String(x?.message ?? e);
}

/**
 * The configured intel sources and the index over them. `open()` (or `refresh()` after the constructor)
 * loads them; `start()` refreshes each source on its `refreshMs` with an unref'd timer; `close()` stops.
 */
export class IntelStore {
  private readonly sources: SourceState[] = [];
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly onRefresh: ((r: IntelRefreshResult) => void) | undefined;
  private current: IntelIndex = IntelIndex.EMPTY;
  private closed = false;
  private readonly aborter = new AbortController();

  /** Throws on a config the schema would refuse (a bug in the caller): validate with the config loader. */
  constructor(config: IntelStoreConfig | IntelConfig, opts: IntelStoreOptions = {}) {
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = config.maxBytes ?? DEFAULT_MAX_BYTES;
    this.now = opts.now ?? Date.now;
    this.onRefresh = opts.onRefresh;
    const names = new Set<string>();
    for (const spec of config.sources) {
      const category = spec.category ?? DEFAULT_CATEGORY[spec.kind];
      if (category === null)
        throw new Error(`intel source '${spec.name}': kind ${spec.kind} needs a category`);
      if ((spec.file === undefined) === (spec.url === undefined))
        throw new Error(`intel source '${spec.name}': give exactly one of file and url`);
      if (names.has(spec.name)) throw new Error(`intel source '${spec.name}' is defined twice`);
      names.add(spec.name);
      const path = spec.file === undefined ? null : resolve(opts.baseDir ?? process.cwd(), spec.file);
      this.sources.push({
        spec,
        category,
        provider: spec.provider ?? DEFAULT_PROVIDER[spec.kind],
        path,
        data: null,
        fileStamp: null,
        inflight: null,
        timer: null,
        status: {
          name: spec.name,
          kind: spec.kind,
          category,
          from: path ?? spec.url!,
          entries: 0,
          rejected: 0,
          rejects: [],
          loadedAt: null,
          checkedAt: null,
          etag: null,
          lastModified: null,
          loads: 0,
          unchanged: 0,
          failures: 0,
          healthy: false,
          lastError: null,
          lastErrorAt: null,
        },
      });
    }
  }

  /** A store with every source loaded once and the refresh timers started. Failures are in `status()`. */
  static async open(
    config: IntelStoreConfig | IntelConfig,
    opts: IntelStoreOptions = {},
  ): Promise<IntelStore> {
    const store = new IntelStore(config, opts);
    await store.refresh();
    store.start();
    return store;
  }

  /** The index in use (replaced, never modified, when a list changes). */
  get index(): IntelIndex {
    return this.current;
  }

  lookupIp(ip: string): readonly IntelHit[] {
    return this.current.lookupIp(ip);
  }

  lookupUserAgent(ua: string | null): readonly IntelHit[] {
    return this.current.lookupUserAgent(ua);
  }

  /** The intel features of an event (see IntelIndex.features and INTEL_FEATURES). */
  intelFeatures(
    event: { ip: string; userAgent: string | null },
    out?: Float64Array,
    offset?: number,
  ): Float64Array {
    return this.current.features(event, out, offset);
  }

  /** A copy of every source's status, in config order. */
  status(): IntelSourceStatus[] {
    return this.sources.map((s) => ({ ...s.status, rejects: s.status.rejects.slice() }));
  }

  /** Re-reads every source (in parallel) and rebuilds the index once if any changed. */
  async refresh(): Promise<IntelRefreshResult[]> {
    return this.settle(await Promise.all(this.sources.map((s) => this.refreshOne(s))));
  }

  /** Re-reads one source by name. */
  async refreshSource(name: string): Promise<IntelRefreshResult> {
    const s = this.sources.find((x) => x.spec.name === name);
    if (s === undefined) return { name, outcome: 'failed', error: `no intel source named '${name}'` };
    return this.settle([await this.refreshOne(s)])[0]!;
  }

  /** Starts the refresh timers of the sources that have `refreshMs` (unref'd: they never keep the process up). */
  start(): void {
    if (this.closed) return;
    for (const s of this.sources) {
      if (s.spec.refreshMs === undefined || s.timer !== null) continue;
      s.timer = setInterval(() => {
        void this.refreshOne(s).then((r) => this.settle([r]));
      }, s.spec.refreshMs);
      s.timer.unref();
    }
  }

  /** Stops the timers and aborts downloads in flight. The index stays usable. */
  close(): void {
    this.closed = true;
    for (const s of this.sources) {
      if (s.timer !== null) clearInterval(s.timer);
      s.timer = null;
    }
    this.aborter.abort();
  }

  /** Rebuilds the index once if a list changed, then reports (so `onRefresh` sees the new index). */
  private settle(results: IntelRefreshResult[]): IntelRefreshResult[] {
    if (results.some((r) => r.outcome === 'loaded')) this.rebuild();
    if (this.onRefresh !== undefined) for (const r of results) this.onRefresh(r);
    return results;
  }

  private rebuild(): void {
    const ip: IpListData[] = [];
    const ua: UaListData[] = [];
    for (const s of this.sources) {
      if (s.data === null) continue;
      if (s.spec.kind === 'useragent') ua.push(s.data as UaListData);
      else ip.push(s.data as IpListData);
    }
    this.current = IntelIndex.build(ip, ua);
  }

  private refreshOne(s: SourceState): Promise<IntelRefreshResult> {
    // One read per source at a time: a timer firing during a slow download joins it.
    s.inflight ??= this.read(s).finally(() => {
      s.inflight = null;
    });
    return s.inflight;
  }

  private async read(s: SourceState): Promise<IntelRefreshResult> {
    const name = s.spec.name;
    const st = s.status;
    const fail = (error: string): IntelRefreshResult => {
      st.failures++;
      st.healthy = false;
      st.lastError = error;
      st.lastErrorAt = st.checkedAt;
      return { name, outcome: 'failed', error };
    };
    st.checkedAt = this.now();
    if (this.closed) return fail('the store is closed');
    const got = s.path !== null ? await this.readFile(s, s.path) : await this.fetch(s, s.spec.url!);
    if (!got.ok) return fail(got.error);
    if (got.value.kind === 'unchanged') {
      st.unchanged++;
      st.healthy = true;
      return { name, outcome: 'unchanged' };
    }
    const { text, etag, lastModified, stamp } = got.value;
    const parsed = parseIntel(s.spec.kind, text);
    if (!parsed.ok) return fail(parsed.error);
    const list: ParsedList<IpEntry | UaEntry> = 'ip' in parsed.value ? parsed.value.ip : parsed.value.ua;
    // A list that was replaced by something else (an HTML error page served with 200) parses to nothing.
    if (list.entries.length === 0 && list.rejected > 0) {
      const first = list.rejects[0]!;
      const where = first.line !== undefined ? `line ${first.line}` : (first.field ?? '');
      return fail(`no valid entries (${list.rejected} rejected; first: ${where}: ${first.reason})`);
    }
    s.data =
      'ip' in parsed.value
        ? {
            list: name,
            category: s.category,
            ...(s.provider === undefined ? {} : { provider: s.provider }),
            entries: parsed.value.ip.entries,
          }
        : { list: name, category: s.category, entries: parsed.value.ua.entries };
    s.fileStamp = stamp;
    st.entries = list.entries.length;
    st.rejected = list.rejected;
    st.rejects = list.rejects;
    st.loadedAt = st.checkedAt;
    st.etag = etag;
    st.lastModified = lastModified;
    st.loads++;
    st.healthy = true;
    return { name, outcome: 'loaded' };
  }

  private async readFile(s: SourceState, path: string): Promise<Result<Fetched, string>> {
    try {
      const info = await stat(path);
      if (!info.isFile()) return err(`${path} is not a file`);
      if (info.size > this.maxBytes) return err(`${path} is larger than maxBytes (${this.maxBytes})`);
      const stamp = `${info.mtimeMs}:${info.size}`;
      if (s.data !== null && stamp === s.fileStamp) return ok({ kind: 'unchanged' });
      const text = await readFile(path, 'utf8');
      return ok({ kind: 'text', text, etag: null, lastModified: null, stamp });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return err(
        code === 'ENOENT'
          ? `cannot read ${path}: no such file`
          : `cannot read ${path}: ${(e as Error).message}`,
      );
    }
  }

  private async fetch(s: SourceState, url: string): Promise<Result<Fetched, string>> {
    const headers: Record<string, string> = { 'user-agent': 'apiwarden (threat intel refresh)' };
    // Validators only when we hold the copy they describe.
    if (s.data !== null && s.status.etag !== null) headers['if-none-match'] = s.status.etag;
    if (s.data !== null && s.status.lastModified !== null)
      headers['if-modified-since'] = s.status.lastModified;
    try {
      const res = await fetch(url, {
        headers,
        redirect: 'follow',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.aborter.signal]),
      });
      if (res.status === 304) {
        await res.body?.cancel();
        return s.data === null ? err('HTTP 304 without a copy to keep') : ok({ kind: 'unchanged' });
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        return err(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${url}`);
      }
      const declared = Number(res.headers.get('content-length'));
      if (declared > this.maxBytes) {
        await res.body?.cancel();
        return err(`${url} is larger than maxBytes (${this.maxBytes})`);
      }
      const chunks: Uint8Array[] = [];
      let total = 0;
      if (res.body !== null) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > this.maxBytes) {
            await reader.cancel();
            return err(`${url} is larger than maxBytes (${this.maxBytes})`);
          }
          chunks.push(value);
        }
      }
      return ok({
        kind: 'text',
        text: Buffer.concat(chunks).toString('utf8'),
        etag: res.headers.get('etag'),
        lastModified: res.headers.get('last-modified'),
        stamp: null,
      });
    } catch (e) {
      return err(`cannot fetch ${url}: ${describeError(e, this.timeoutMs)}`);
    }
  }
}
