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
        expect.stringMatching(
          /^unknown key 'inptu' \(valid: input, events, quarantine, sensitive, intel, detection, response, notifications\)$/,
        ),
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

describe('config: detection rules', () => {
  it('accepts rules with one limit each and names the field of a bad one', async () => {
    const { parseConfig } = await import('./load.js');
    const good = parseConfig({
      detection: {
        rules: [
          {
            name: 'login-burst',
            feature: 'rpm_by_ip_endpoint',
            endpoint: 'POST /api/v1/auth/login',
            above: 30,
            type: 'credential_stuffing',
          },
          {
            name: 'bytes-z',
            feature: 'bytes_1h_by_token',
            robustZAbove: 8,
            type: 'data_exfiltration',
            severity: 'high',
          },
        ],
      },
    });
    expect(good.ok).toBe(true);
    const two = parseConfig({
      detection: { rules: [{ name: 'x', feature: 'f', above: 1, zAbove: 3, type: 'scanner' }] },
    });
    expect(two.ok).toBe(false);
    if (!two.ok)
      expect(two.error.join('\n')).toMatch(
        /detection\.rules\[0\]\.zAbove: give one limit, not above and zAbove/,
      );
    const none = parseConfig({ detection: { rules: [{ name: 'x', feature: 'f', type: 'scanner' }] } });
    if (!none.ok)
      expect(none.error.join('\n')).toMatch(
        /give one limit: above \(static\), zAbove, robustZAbove or percentileAbove/,
      );
    const badType = parseConfig({
      detection: { rules: [{ name: 'x', feature: 'f', above: 1, type: 'ddos' }] },
    });
    if (!badType.ok)
      expect(badType.error.join('\n')).toMatch(/detection\.rules\[0\]\.type: expected one of crawler/);
  });
});
