/**
 * `apiwarden demo` (what `npm start` runs): simulate a day of a shop API with labeled attacks, parse the
 * gateway log it wrote, and show what the traffic holds next to the ground truth; then analyze the day and
 * score the incidents against that truth.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inventory } from '../inventory/catalog.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import { ATTACK_TYPES } from '../simulate/attacks.js';
import { DEFAULT_START, type Labels, Simulation, writeSimulation } from '../simulate/simulate.js';
import { runAnalyze } from './analyze.js';
import { runEval } from './eval.js';
import { int } from './human.js';
import { InventorySink, inventoryTable } from './inventory.js';
import { humanSummary, type Io, parseInputs } from './parse.js';
import { TrafficReport } from './report.js';
import { DEFAULT_USERS, simulateSummary } from './simulate.js';

export interface DemoFlags {
  out?: string;
}

export async function runDemo(io: Io, flags: DemoFlags = {}): Promise<number> {
  const dir = flags.out ?? join(tmpdir(), 'apiwarden-demo');
  io.stderr.write(
    `apiwarden demo: simulating 24 h of a shop API with ${ATTACK_TYPES.length} attack campaigns into ${dir}\n\n`,
  );
  const simulation = new Simulation({
    seed: 1,
    start: DEFAULT_START,
    hours: 24,
    users: DEFAULT_USERS,
    attacks: ATTACK_TYPES,
    attackScale: 1,
  });
  const sim = await writeSimulation(simulation, { dir, formats: ['combined', 'apisix'], gzip: false });
  io.stdout.write(simulateSummary(sim, dir));
  const log = sim.files.apisix!.path;
  io.stdout.write(`\nparsing ${log} (APISIX http-logger JSON lines)\n\n`);
  const report = new TrafficReport();
  const inventory = new Inventory({ scanner: new SensitiveScanner() });
  const summary = await parseInputs(
    [log],
    { quarantine: 'none', progress: false, captureBodies: true, captureHeaders: true },
    io,
    new InventorySink(inventory, [report]),
  );
  io.stdout.write(humanSummary(summary));
  io.stdout.write(`\n${report.render()}`);
  io.stdout.write(`\n${inventoryTable(inventory.report())}`);
  io.stdout.write(`\n${groundTruth(simulation.labels())}`);
  // Detection: learn the profile from the day, judge it, and score the incidents against the labels.
  const analysis = join(dir, 'analysis');
  io.stdout.write(`\nanalyzing ${log} (apiwarden analyze --out ${analysis})\n\n`);
  await runAnalyze([log], { out: analysis, progress: false }, io);
  io.stdout.write('\nscored against the ground truth (apiwarden eval):\n\n');
  await runEval({ labels: join(dir, 'labels.json'), incidents: join(analysis, 'incidents.jsonl') }, io);
  io.stdout.write(
    `\nThe report: ${join(analysis, 'report.html')}\nNext: \`apiwarden analyze <your access.log> --out results/\` on your own logs, \`apiwarden inventory <log> --out inv/\` for your APIs, \`apiwarden simulate --help\` for more traffic (see README.md).\n`,
  );
  return 0;
}

function groundTruth(l: Labels): string {
  const lines = ['ground truth (labels.json): what a detector should find'];
  for (const c of l.campaigns) {
    const a = c.actors;
    const who = [
      `${int(a.ips.length)} IP${a.ips.length === 1 ? '' : 's'}`,
      a.tokens.length > 0 ? `${int(a.tokens.length)} token${a.tokens.length === 1 ? '' : 's'}` : '',
      a.devices.length > 0 ? `${int(a.devices.length)} devices` : '',
    ]
      .filter((s) => s !== '')
      .join(', ');
    lines.push(
      `  ${c.id.padEnd(20)} ${(c.firstSeen ?? '').slice(11, 16)}-${(c.lastSeen ?? '').slice(11, 16)}  ${int(c.requests).padStart(6)} requests  ${who}`,
    );
  }
  lines.push('and what it should not flag:');
  for (const b of l.benign)
    lines.push(`  ${b.id.padEnd(20)} ${int(b.requests).padStart(6)} requests  ${b.description}`);
  return `${lines.join('\n')}\n`;
}
