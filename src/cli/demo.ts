/** `apiwarden demo` (what `npm start` runs): parse the bundled sample traffic and show what it holds. */
import { join } from 'node:path';
import { humanSummary, type Io, parseInputs } from './parse.js';
import { packageRoot } from './paths.js';
import { TrafficReport } from './report.js';

export async function runDemo(io: Io): Promise<number> {
  const sample = join(packageRoot(), 'samples', 'demo', 'access.log.gz');
  io.stderr.write(`apiwarden demo: parsing the bundled sample ${sample}\n\n`);
  const report = new TrafficReport();
  const summary = await parseInputs([sample], { quarantine: 'none', progress: false }, io, report);
  io.stdout.write(humanSummary(summary));
  io.stdout.write(`\n${report.render()}`);
  io.stdout.write(
    '\nNext: `apiwarden parse <your access.log> --out events.parquet` (see README.md); `apiwarden --help` lists every command.\n',
  );
  return 0;
}
