/** `apiwarden simulate`: labeled synthetic traffic (see docs/simulator.md). */
import { ATTACK_TYPES, type AttackType, isAttackType } from '../simulate/attacks.js';
import { isRenderFormat, RENDER_FORMATS, type RenderFormat } from '../simulate/render.js';
import { DEFAULT_START, Simulation, type SimulationSummary, writeSimulation } from '../simulate/simulate.js';
import { bytes, duration, int } from './human.js';
import { CliError, type Io } from './parse.js';

export interface SimulateFlags {
  out?: string;
  hours?: string;
  users?: string;
  seed?: string;
  formats?: string;
  attacks?: string;
  attackScale?: string;
  warmup?: string;
  start?: string;
  gzip?: boolean;
  quiet?: boolean;
  json?: boolean;
  progress?: boolean;
}

export const DEFAULT_USERS = 14_000;
export const DEFAULT_FORMATS: readonly RenderFormat[] = ['combined', 'apisix'];

function number(
  flag: string,
  v: string | undefined,
  def: number,
  o: { min: number; max: number; integer?: boolean },
): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (
    v.trim() === '' ||
    !Number.isFinite(n) ||
    (o.integer === true && !Number.isInteger(n)) ||
    n < o.min ||
    n > o.max
  ) {
    throw new CliError(
      `${flag} must be ${o.integer ? 'a whole number' : 'a number'} from ${o.min} to ${o.max}, got '${v}'`,
      2,
    );
  }
  return n;
}

function list<T extends string>(
  flag: string,
  v: string | undefined,
  def: readonly T[],
  all: readonly T[],
  valid: (s: string) => s is T,
): T[] {
  if (v === undefined) return [...def];
  const s = v.trim();
  if (s === 'all') return [...all];
  if (s === 'none' || s === '') return [];
  const out: T[] = [];
  for (const x of s.split(',').map((p) => p.trim())) {
    if (!valid(x)) throw new CliError(`${flag}: unknown '${x}' (valid: ${all.join(', ')}, all, none)`, 2);
    if (!out.includes(x)) out.push(x);
  }
  return out;
}

export function simulateOptions(flags: SimulateFlags) {
  if (flags.out === undefined || flags.out === '')
    throw new CliError('--out DIR is required (the directory to write into)', 2);
  const hours = number('--hours', flags.hours, 24, { min: 0.05, max: 24 * 90 });
  let start = DEFAULT_START;
  if (flags.start !== undefined) {
    start = Date.parse(flags.start);
    if (Number.isNaN(start))
      throw new CliError(
        `--start must be an ISO 8601 time like 2026-03-02T00:00:00Z, got '${flags.start}'`,
        2,
      );
  }
  const warmup =
    flags.warmup === undefined ? undefined : number('--warmup', flags.warmup, 0, { min: 0, max: hours });
  const formats = list('--formats', flags.formats, DEFAULT_FORMATS, RENDER_FORMATS, isRenderFormat);
  if (formats.length === 0)
    throw new CliError(`--formats needs at least one of ${RENDER_FORMATS.join(', ')}`, 2);
  const attacks: AttackType[] = list('--attacks', flags.attacks, ATTACK_TYPES, ATTACK_TYPES, isAttackType);
  return {
    dir: flags.out,
    formats,
    gzip: flags.gzip === true,
    sim: {
      seed: number('--seed', flags.seed, 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
      start,
      hours,
      users: number('--users', flags.users, DEFAULT_USERS, { min: 1, max: 5_000_000, integer: true }),
      attacks,
      attackScale: number('--attack-scale', flags.attackScale, 1, { min: 0.01, max: 100 }),
      ...(warmup === undefined ? {} : { warmupHours: warmup }),
    },
  };
}

export async function runSimulate(flags: SimulateFlags, io: Io): Promise<number> {
  const o = simulateOptions(flags);
  const simulation = new Simulation(o.sim);
  const err = io.stderr as NodeJS.WriteStream;
  const tty = flags.progress !== false && flags.quiet !== true && err.isTTY === true;
  const span = simulation.end - o.sim.start;
  let last = 0;
  const summary = await writeSimulation(simulation, {
    dir: o.dir,
    formats: o.formats,
    gzip: o.gzip,
    onProgress: tty
      ? (n, t) => {
          const now = performance.now();
          if (now - last < 100) return;
          last = now;
          const pct = Math.floor((100 * (t - o.sim.start)) / span);
          err.write(
            `\r\x1b[2Ksimulating ${String(pct).padStart(3)}%  ${new Date(t).toISOString().slice(0, 16)}  ${int(n)} requests`,
          );
        }
      : undefined,
  });
  if (tty) err.write('\r\x1b[2K');
  if (flags.json === true) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (flags.quiet !== true) io.stdout.write(simulateSummary(summary, o.dir));
  return 0;
}

export function simulateSummary(s: SimulationSummary, dir: string): string {
  const lines = [
    `simulated ${s.hours} h from ${s.start} (seed ${s.seed}, ${int(s.users)} customers): ${int(s.requests)} requests in ${duration(s.seconds * 1000)} (${int(s.requestsPerSec)} requests/s)`,
    `attack traffic: ${(s.attackShare * 100).toFixed(1)}% of requests, ${int(s.forged)} forged requests`,
  ];
  for (const [id, n] of Object.entries(s.byCampaign)) lines.push(`  ${id.padEnd(22)} ${int(n).padStart(9)}`);
  lines.push(`files in ${dir}:`);
  for (const [f, x] of Object.entries(s.files)) lines.push(`  ${f.padEnd(11)} ${x.path}  ${bytes(x.bytes)}`);
  lines.push('  labels.json  routes.json  truth.csv  summary.json  (see docs/simulator.md)');
  return `${lines.join('\n')}\n`;
}
