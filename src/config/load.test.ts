import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from './load.js';

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aw-config-'));
  const p = join(dir, 'apiwarden.yaml');
  await writeFile(p, text);
  return p;
}

describe('config', () => {
  it('fills defaults for an empty file', async () => {
    const r = await loadConfig(await file(''));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.input.format).toBe('auto');
      expect(r.value.events.deviceHeader).toBe('x-device-id');
      expect(r.value.quarantine.maxRecords).toBe(1000);
    }
  });

  it('reads values and lower-cases header names', async () => {
    const r = await loadConfig(
      await file(
        'events:\n  deviceHeader: X-Device\n  trustedProxies: [10.1.0.0/16]\ninput:\n  format: combined\n',
      ),
    );
    expect(r.ok && r.value.events.deviceHeader).toBe('x-device');
    expect(r.ok && r.value.events.trustedProxies).toEqual(['10.1.0.0/16']);
  });

  it('names the field and what is expected', async () => {
    const p = await file('events:\n  trustedProxies: [10.0.0.0/8, nonsense]\n  maxBodyBytes: -5\n');
    const r = await loadConfig(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain(
        `${p}: events.trustedProxies[1]: expected an IP address or CIDR such as 10.0.0.0/8 or 2001:db8::/32`,
      );
      expect(r.error.some((m) => m.startsWith(`${p}: events.maxBodyBytes:`))).toBe(true);
    }
  });

  it('lists the valid keys when a key is unknown', () => {
    const r = parseConfig({ events: { trustedProxy: [] }, inptu: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContainEqual(
        expect.stringMatching(/^unknown key 'inptu' \(valid: input, events, quarantine, sensitive, intel\)$/),
      );
      expect(r.error).toContainEqual(
        expect.stringMatching(/^unknown key 'trustedProxy' in events \(valid: trustedProxies, /),
      );
    }
  });

  it('reports YAML syntax errors and missing files in one line', async () => {
    const r = await loadConfig(await file('events: [unclosed\n'));
    expect(!r.ok && r.error[0]).toMatch(/invalid YAML/);
    const m = await loadConfig('/nonexistent/apiwarden.yaml');
    expect(!m.ok && m.error).toEqual(["cannot read config '/nonexistent/apiwarden.yaml': no such file"]);
  });
});
