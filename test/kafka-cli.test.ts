/** `apiwarden worker`: bad flags fail before any connection, naming the flag and what it wants. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfilingRun } from '../src/detect/run.js';
import { cli } from './support/cli.js';

const base = [
  'worker',
  '--brokers',
  '127.0.0.1:9092',
  '--topic',
  't',
  '--group',
  'g',
  '--format',
  'apisix',
  '--profile',
  'p.json',
];
const without = (flag: string) => {
  const i = base.indexOf(flag);
  return [...base.slice(0, i), ...base.slice(i + 2)];
};

describe('apiwarden worker flags', () => {
  it.each([
    ['--brokers', /--brokers is required: the Kafka bootstrap brokers/],
    ['--topic', /--topic is required/],
    ['--group', /--group is required/],
    ['--format', /--format is required/],
    ['--profile', /--profile is required/],
  ])('without %s: exit 2 and says what it needs', async (flag, message) => {
    const r = await cli(without(flag));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('rejects malformed values, naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--brokers', 'localhost'], /--brokers: 'localhost' is not host:port/],
      [['--stages', 'router,oops'], /--stages: unknown stage 'oops'/],
      [['--partitions', '0'], /--partitions must be a whole number from 1 to 1024/],
      [['--segment', 'soon'], /--segment must be a duration/],
      [['--format', 'nope'], /--format: unknown format 'nope'/],
    ];
    for (const [extra, message] of cases) {
      const r = await cli([...base, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('needs DATABASE_URL for the detect and incidents stages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-worker-cli-'));
    const profile = join(dir, 'profile.json');
    await writeFile(profile, JSON.stringify(new ProfilingRun().build()));
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      const r = await cli([...base, '--profile', profile]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/DATABASE_URL is required for the detect and incidents stages/);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('documents every option in --help', async () => {
    const r = await cli(['worker', '--help']);
    for (const o of [
      '--brokers',
      '--topic',
      '--group',
      '--profile',
      '--format',
      '--log-format',
      '--config',
      '--prefix',
      '--partitions',
      '--stages',
      '--segment',
      '--idle',
      '--client-id',
      '--stats-every',
      'DATABASE_URL',
      'apiwarden-control',
    ])
      expect(r.stdout, o).toContain(o);
  });
});
