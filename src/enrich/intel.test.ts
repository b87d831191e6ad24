import { copyFile, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type IntelRefreshResult, IntelStore } from './intel.js';

const TESTDATA = join(import.meta.dirname, '../../testdata/intel');

describe('IntelStore with files', () => {
  it('loads every kind from the sample files and answers lookups', async () => {
    const store = await IntelStore.open(
      {
        sources: [
          { name: 'blocks', kind: 'ip', category: 'blocklist', file: 'blocklist.txt' },
          { name: 'tor-bulk', kind: 'tor', file: 'torbulkexitlist' },
          { name: 'tor-exits', kind: 'tor', file: 'exit-addresses' },
          { name: 'aws', kind: 'aws', file: 'aws-ip-ranges.json' },
          { name: 'gcp', kind: 'gcp', file: 'gcp-cloud.json' },
          { name: 'bad-ua', kind: 'useragent', file: 'bad-user-agents.txt' },
        ],
      },
      { baseDir: TESTDATA },
    );
    try {
      expect(store.status().map((s) => [s.name, s.category, s.entries, s.rejected, s.healthy])).toEqual([
        ['blocks', 'blocklist', 6, 4, true],
        ['tor-bulk', 'tor', 6, 0, true],
        ['tor-exits', 'tor', 3, 1, true],
        ['aws', 'datacenter', 7, 1, true],
        ['gcp', 'datacenter', 5, 1, true],
        ['bad-ua', 'scanner', 9, 3, true],
      ]);
      expect(store.status()[0]!.rejects[0]).toEqual({
        line: 11,
        reason: 'not an IP address or CIDR: "203.0.113.300"',
      });
      expect(store.lookupIp('185.220.101.1').map((h) => [h.list, h.name ?? null])).toEqual([
        ['tor-bulk', null],
        ['tor-exits', '01A9258A46E97FF8B2CAC7910577862C14F2C524'],
      ]);
      expect(store.lookupIp('18.210.1.1')).toEqual([
        {
          category: 'datacenter',
          list: 'aws',
          match: '18.208.0.0/13',
          provider: 'aws',
          region: 'us-east-1',
          service: 'EC2',
        },
      ]);
      expect(store.lookupIp('2600:1900:8001::5')[0]).toMatchObject({ list: 'gcp', provider: 'gcp' });
      expect(store.lookupIp('2001:db8:bad:1::9')[0]).toMatchObject({
        list: 'blocks',
        match: '2001:db8:bad::/48',
      });
      expect(store.lookupUserAgent('python-requests/2.32.3').map((h) => h.name)).toEqual([
        'python-requests library',
      ]);
      expect([...store.intelFeatures({ ip: '185.220.101.33', userAgent: 'sqlmap/1.8.2' })]).toEqual([
        1, 0, 0, 1, 0,
      ]);
      expect(store.index.stats).toMatchObject({ uaSubstrings: 6, uaRegexes: 3 });
    } finally {
      store.close();
    }
  });

  it('re-reads a changed file, skips an unchanged one, and keeps the last good copy when it goes away', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-intel-'));
    const path = join(dir, 'block.txt');
    await writeFile(path, '203.0.113.0/24\n');
    const store = new IntelStore({ sources: [{ name: 'b', kind: 'ip', category: 'blocklist', file: path }] });
    expect(await store.refresh()).toEqual([{ name: 'b', outcome: 'loaded' }]);
    expect(await store.refresh()).toEqual([{ name: 'b', outcome: 'unchanged' }]);
    await writeFile(path, '198.51.100.0/24\n');
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    expect(await store.refreshSource('b')).toEqual({ name: 'b', outcome: 'loaded' });
    expect(store.lookupIp('203.0.113.1')).toEqual([]);
    expect(store.lookupIp('198.51.100.1')).toHaveLength(1);
    await rm(dir, { recursive: true });
    const r = await store.refresh();
    expect(r).toEqual([{ name: 'b', outcome: 'failed', error: `cannot read ${path}: no such file` }]);
    expect(store.lookupIp('198.51.100.1')).toHaveLength(1);
    const st = store.status()[0]!;
    expect([st.loads, st.unchanged, st.failures, st.healthy, st.entries]).toEqual([2, 1, 1, false, 1]);
    expect(st.lastError).toBe(`cannot read ${path}: no such file`);
    expect(await store.refreshSource('nope')).toEqual({
      name: 'nope',
      outcome: 'failed',
      error: "no intel source named 'nope'",
    });
  });

  it('refuses a list that parses to nothing but errors, and one over maxBytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-intel-'));
    await writeFile(join(dir, 'html.txt'), '<html>\n<body>Service Unavailable</body>\n</html>\n');
    await copyFile(join(TESTDATA, 'aws-ip-ranges.json'), join(dir, 'aws.json'));
    const store = new IntelStore(
      {
        sources: [
          { name: 'html', kind: 'ip', category: 'blocklist', file: 'html.txt' },
          { name: 'aws', kind: 'aws', file: 'aws.json' },
        ],
        maxBytes: 1000,
      },
      { baseDir: dir },
    );
    const [html, aws] = await store.refresh();
    expect(html!.error).toBe(
      'no valid entries (3 rejected; first: line 1: not an IP address or CIDR: "<html>")',
    );
    expect(aws!.error).toBe(`${join(dir, 'aws.json')} is larger than maxBytes (1000)`);
    expect(store.status().map((s) => s.entries)).toEqual([0, 0]);
    await rm(dir, { recursive: true });
  });

  it('throws on a config the schema would refuse', () => {
    expect(() => new IntelStore({ sources: [{ name: 'x', kind: 'ip', file: 'a' }] })).toThrow(
      /needs a category/,
    );
    expect(() => new IntelStore({ sources: [{ name: 'x', kind: 'tor' }] })).toThrow(
      /exactly one of file and url/,
    );
    expect(
      () =>
        new IntelStore({
          sources: [
            { name: 'x', kind: 'tor', file: 'a' },
            { name: 'x', kind: 'tor', file: 'b' },
          ],
        }),
    ).toThrow(/defined twice/);
  });
});

/** A list server on 127.0.0.1 whose answer the test changes. */
interface Served {
  status: number;
  body: string;
  etag: string | null;
  lastModified: string | null;
  /** Never answer (for the timeout). */
  hang: boolean;
  requests: IncomingHttpHeaders[];
}

describe('IntelStore with URLs', () => {
  let server: Server;
  let url: string;
  let served: Served;

  beforeEach(async () => {
    served = { status: 200, body: '', etag: null, lastModified: null, hang: false, requests: [] };
    server = createServer((req, res) => {
      served.requests.push(req.headers);
      if (served.hang) return;
      const fresh =
        served.status === 200 &&
        ((served.etag !== null && req.headers['if-none-match'] === served.etag) ||
          (served.etag === null &&
            served.lastModified !== null &&
            req.headers['if-modified-since'] === served.lastModified));
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (served.etag !== null) headers.etag = served.etag;
      if (served.lastModified !== null) headers['last-modified'] = served.lastModified;
      if (fresh) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(served.status, headers).end(served.status === 200 ? served.body : 'oops');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/torbulkexitlist`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('loads, revalidates with If-None-Match (304), reloads a new version, and keeps the old copy on a 500', async () => {
    served.body = '185.220.101.1\n185.220.101.2\n';
    served.etag = '"v1"';
    const store = new IntelStore({ sources: [{ name: 'tor', kind: 'tor', url }] });
    expect(await store.refresh()).toEqual([{ name: 'tor', outcome: 'loaded' }]);
    expect(served.requests[0]!['if-none-match']).toBeUndefined();
    expect(store.lookupIp('185.220.101.2').map((h) => h.category)).toEqual(['tor']);

    expect(await store.refresh()).toEqual([{ name: 'tor', outcome: 'unchanged' }]);
    expect(served.requests[1]!['if-none-match']).toBe('"v1"');

    served.body = '185.220.101.2\n185.220.101.3\n';
    served.etag = '"v2"';
    expect(await store.refresh()).toEqual([{ name: 'tor', outcome: 'loaded' }]);
    expect(store.lookupIp('185.220.101.1')).toEqual([]);
    expect(store.lookupIp('185.220.101.3')).toHaveLength(1);

    served.status = 500;
    const before = store.index;
    expect(await store.refresh()).toEqual([
      { name: 'tor', outcome: 'failed', error: `HTTP 500 Internal Server Error from ${url}` },
    ]);
    expect(store.index).toBe(before);
    expect(store.lookupIp('185.220.101.3')).toHaveLength(1);
    const st = store.status()[0]!;
    expect([st.loads, st.unchanged, st.failures, st.healthy, st.etag, st.entries]).toEqual([
      2,
      1,
      1,
      false,
      '"v2"',
      2,
    ]);
    expect(st.lastError).toBe(`HTTP 500 Internal Server Error from ${url}`);

    served.status = 200;
    expect(await store.refresh()).toEqual([{ name: 'tor', outcome: 'unchanged' }]);
    const after = store.status()[0]!;
    expect([after.healthy, after.failures, after.lastError]).toEqual([
      true,
      1,
      `HTTP 500 Internal Server Error from ${url}`,
    ]);
    store.close();
  });

  it('revalidates with If-Modified-Since when there is no ETag', async () => {
    served.body = '203.0.113.5\n';
    served.lastModified = 'Sat, 28 Feb 2026 07:03:09 GMT';
    const store = new IntelStore({ sources: [{ name: 'b', kind: 'ip', category: 'blocklist', url }] });
    await store.refresh();
    expect(await store.refresh()).toEqual([{ name: 'b', outcome: 'unchanged' }]);
    expect(served.requests[1]!['if-modified-since']).toBe('Sat, 28 Feb 2026 07:03:09 GMT');
    expect(store.status()[0]!.lastModified).toBe('Sat, 28 Feb 2026 07:03:09 GMT');
  });

  it('keeps the old copy when a JSON list comes back as something else', async () => {
    served.body =
      '{"prefixes": [{"ipv4Prefix": "34.80.0.0/15", "scope": "asia-east1", "service": "Google Cloud"}]}';
    const store = new IntelStore({ sources: [{ name: 'gcp', kind: 'gcp', url }] });
    await store.refresh();
    served.body = '<html>maintenance</html>';
    const [r] = await store.refresh();
    expect(r!.error).toMatch(/^not JSON: expected Google cloud.json/);
    expect(store.lookupIp('34.81.0.1')[0]).toMatchObject({ region: 'asia-east1', provider: 'gcp' });
  });

  it('fails cleanly on a timeout, an unreachable host, and a body over maxBytes', async () => {
    served.hang = true;
    const slow = new IntelStore({ sources: [{ name: 's', kind: 'tor', url }], timeoutMs: 200 });
    expect(await slow.refresh()).toEqual([
      { name: 's', outcome: 'failed', error: `cannot fetch ${url}: timed out after 200 ms` },
    ]);
    served.hang = false;
    served.body = '1.1.1.1\n'.repeat(1000);
    const big = new IntelStore({ sources: [{ name: 'b', kind: 'tor', url }], maxBytes: 4096 });
    expect((await big.refresh())[0]!.error).toBe(`${url} is larger than maxBytes (4096)`);
    const closed = 'http://127.0.0.1:1/list';
    const gone = new IntelStore({ sources: [{ name: 'g', kind: 'tor', url: closed }] });
    expect((await gone.refresh())[0]!.error).toMatch(
      /^cannot fetch http:\/\/127\.0\.0\.1:1\/list: fetch failed/,
    );
  });

  it('refreshes on refreshMs with an unref’d timer until closed', async () => {
    served.body = '185.220.101.1\n';
    served.etag = '"a"';
    const results: IntelRefreshResult[] = [];
    let wake: () => void = () => {};
    const store = await IntelStore.open(
      { sources: [{ name: 'tor', kind: 'tor', url, refreshMs: 20 }] },
      {
        onRefresh: (r) => {
          results.push(r);
          wake();
        },
      },
    );
    const next = () => new Promise<void>((done) => (wake = done));
    served.body = '185.220.101.9\n';
    served.etag = '"b"';
    while (!results.some((r) => r.outcome === 'loaded' && results.indexOf(r) > 0)) await next();
    expect(store.lookupIp('185.220.101.9')).toHaveLength(1);
    store.close();
    const count = served.requests.length;
    await new Promise((done) => setTimeout(done, 80));
    expect(served.requests.length).toBe(count);
    expect(await store.refresh()).toEqual([{ name: 'tor', outcome: 'failed', error: 'the store is closed' }]);
  });
});
