import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../config/load.js';
import { IntelStore } from './intel.js';

const errors = (intel: unknown): string[] => {
  const r = parseConfig({ intel });
  return r.ok ? [] : r.error;
};

describe('the intel config section', () => {
  it('defaults to no sources', () => {
    const r = parseConfig({});
    expect(r.ok && r.value.intel).toEqual({ sources: [], timeoutMs: 30_000, maxBytes: 64 << 20 });
  });

  it('reads a YAML config that the store accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-intel-config-'));
    const path = join(dir, 'apiwarden.yaml');
    await writeFile(
      path,
      [
        'intel:',
        '  timeoutMs: 10000',
        '  sources:',
        '    - name: tor-exits',
        '      kind: tor',
        '      url: https://check.torproject.org/torbulkexitlist',
        '      refreshMs: 1800000',
        '    - name: our-blocklist',
        '      kind: ip',
        '      category: blocklist',
        '      file: /etc/apiwarden/blocklist.txt',
        '    - name: office',
        '      kind: ip',
        '      category: allow',
        '      provider: corp-vpn',
        '      file: office.txt',
      ].join('\n'),
    );
    const r = await loadConfig(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.intel.sources[0]).toEqual({
      name: 'tor-exits',
      kind: 'tor',
      url: 'https://check.torproject.org/torbulkexitlist',
      refreshMs: 1_800_000,
    });
    const store = new IntelStore(r.value.intel, { baseDir: dir });
    expect(store.status().map((s) => [s.category, s.from])).toEqual([
      ['tor', 'https://check.torproject.org/torbulkexitlist'],
      ['blocklist', '/etc/apiwarden/blocklist.txt'],
      ['allow', join(dir, 'office.txt')],
    ]);
  });

  it('names the field and the fix', () => {
    expect(
      errors({ sources: [{ name: 'x', kind: 'tor', file: 'a', url: 'https://a.example/list' }] }),
    ).toEqual(['intel.sources[0].url: give either file or url, not both; remove one of them']);
    expect(errors({ sources: [{ name: 'x', kind: 'tor' }] })).toEqual([
      'intel.sources[0]: says nowhere to read the list from; add file: <path> or url: <http(s) URL>',
    ]);
    expect(errors({ sources: [{ name: 'x', kind: 'ip', file: 'a' }] })).toEqual([
      'intel.sources[0].category: is required for kind ip; choose one of tor, datacenter, proxy, blocklist, scanner, allow',
    ]);
    expect(errors({ sources: [{ name: 'x', kind: 'tor', url: 'ftp://a.example/list' }] })).toEqual([
      'intel.sources[0].url: expected an http:// or https:// URL such as https://check.torproject.org/torbulkexitlist',
    ]);
    expect(errors({ sources: [{ name: 'x', kind: 'csv', file: 'a' }] })).toEqual([
      'intel.sources[0].kind: expected one of ip, tor, aws, gcp, useragent',
    ]);
    expect(errors({ sources: [{ name: 'x', kind: 'tor', file: 'a', refreshMs: 1000 }] })).toEqual([
      'intel.sources[0].refreshMs: expected at least 60000 (one minute)',
    ]);
    expect(errors({ sources: [{ name: 'bad name', kind: 'tor', file: 'a', category: 'evil' }] })).toEqual([
      'intel.sources[0].name: expected a list name of letters, digits, _ . - (at most 64), such as tor-exits',
      'intel.sources[0].category: expected one of tor, datacenter, proxy, blocklist, scanner, allow',
    ]);
    expect(
      errors({
        sources: [
          { name: 'a', kind: 'tor', file: 'a' },
          { name: 'a', kind: 'aws', file: 'b' },
        ],
      }),
    ).toEqual(["intel.sources[1].name: 'a' is used twice; give each intel source its own name"]);
  });

  it('lists the valid keys of a source', () => {
    expect(errors({ sources: [{ name: 'a', kind: 'tor', file: 'a', refresh: 60000 }] })).toEqual([
      "unknown key 'refresh' in intel.sources[0] (valid: name, kind, category, provider, file, url, refreshMs)",
    ]);
    expect(errors({ source: [] })).toEqual([
      "unknown key 'source' in intel (valid: sources, timeoutMs, maxBytes)",
    ]);
  });
});
