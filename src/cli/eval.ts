/** `apiwarden eval`: detections scored against ground truth (the simulator's labels.json). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type EvalResult, evaluate, type IncidentLike, type LabelsFile } from '../eval/eval.js';
import { CliError, type Io, readFlagFile } from './parse.js';

export interface EvalFlags {
  labels?: string;
  incidents?: string;
  summary?: string;
  scores?: string;
  json?: boolean;
}

function jsonLines<T>(text: string, path: string): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '') continue;
    try {
      out.push(JSON.parse(l) as T);
    } catch (e) {
      throw new CliError(`${path}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  }
  return out;
}

export async function runEval(flags: EvalFlags, io: Io): Promise<number> {
  if (flags.labels === undefined || flags.incidents === undefined)
    throw new CliError('--labels labels.json and --incidents DIR/incidents.jsonl are required', 2);
  let labels: LabelsFile;
  try {
    labels = JSON.parse(await readFlagFile(flags.labels, '--labels')) as LabelsFile;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${flags.labels}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(labels.campaigns))
    throw new CliError(`${flags.labels}: expected a "campaigns" list (the simulator's labels.json)`, 2);
  const incidents = jsonLines<IncidentLike>(
    await readFlagFile(flags.incidents, '--incidents'),
    flags.incidents,
  );
  const dir = dirname(flags.incidents);
  const summaryPath = flags.summary ?? join(dir, 'summary.json');
  let seen: number | null = null;
  let requests: number | undefined;
  if (existsSync(summaryPath)) {
    const s = JSON.parse(await readFlagFile(summaryPath, '--summary')) as {
      actors?: { total?: number };
      events?: number;
    };
    seen = s.actors?.total ?? null;
    requests = s.events;
  }
  let scores: Map<number, number> | undefined;
  const scoresPath = flags.scores ?? join(dir, 'request-scores.jsonl');
  if (existsSync(scoresPath)) {
    scores = new Map();
    for (const r of jsonLines<{ line: number; score: number }>(
      await readFlagFile(scoresPath, '--scores'),
      scoresPath,
    ))
      scores.set(r.line, Math.max(scores.get(r.line) ?? 0, r.score));
  }
  const result = evaluate(labels, incidents, seen, scores, requests);
  if (flags.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout.write(evalText(result));
  return 0;
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

export function evalText(r: EvalResult): string {
  const lines = ['campaign               detected  type  actors found  recall  latency'];
  for (const c of r.campaigns) {
    const lat = c.latencyMs === null ? '-' : `${(c.latencyMs / 60_000).toFixed(1)} min`;
    lines.push(
      `${c.id.padEnd(22)} ${(c.detected ? 'yes' : 'NO').padEnd(9)} ${(c.typeMatched ? 'ok' : '-').padEnd(5)} ${String(c.actors).padStart(6)} ${String(c.found).padStart(5)}  ${pct(c.recall).padStart(6)}  ${lat}`,
    );
  }
  lines.push('');
  lines.push(
    `benign actors flagged: ${r.benign.flagged}${r.benign.actors === null ? '' : ` of ${r.benign.actors} (${pct(r.benign.share)})`} ${JSON.stringify(r.benign.byGroup)}`,
  );
  if (r.forged !== null) {
    lines.push(
      `forged requests: ROC-AUC ${r.forged.rocAuc.toFixed(3)} over ${r.forged.requests} requests; by kind ${Object.entries(
        r.forged.byKind,
      )
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
