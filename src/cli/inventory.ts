/** `apiwarden inventory`: the API inventory of traffic, its OpenAPI export and, with a spec, the diff. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ApiEvent } from '../core/event.js';
import { Inventory, type InventoryReport } from '../inventory/catalog.js';
import { diffSpec, readSpec, type Spec, type SpecDiff, SpecError, toOpenApi } from '../inventory/openapi.js';
import { SensitiveScanner } from '../sensitive/scanner.js';
import type { EventSink } from '../sinks/types.js';
import { int, terminalSafe } from './human.js';
import {
  CliError,
  cliConfig,
  humanSummary,
  type Io,
  type ParseFlags,
  parseInputs,
  readFlagFile,
} from './parse.js';

export interface InventoryFlags extends ParseFlags {
  spec?: string;
  minCardinality?: number;
  bodies?: boolean;
  sensitive?: boolean;
}

/** Feeds events to an inventory (and to other sinks: the demo also keeps its traffic report). */
export class InventorySink implements EventSink {
  constructor(
    readonly inventory: Inventory,
    private readonly also: EventSink[] = [],
  ) {}
  async write(events: readonly ApiEvent[]): Promise<void> {
    for (const e of events) this.inventory.add(e);
    for (const s of this.also) await s.write(events);
  }
  async close(): Promise<void> {
    for (const s of this.also) await s.close();
  }
}

export async function runInventory(inputs: string[], flags: InventoryFlags, io: Io): Promise<number> {
  const dir = flags.out;
  if (dir === undefined || dir === '' || dir === '-')
    throw new CliError(
      '--out DIR is required (the directory to write inventory.json and openapi.yaml into)',
      2,
    );
  let spec: Spec | null = null;
  if (flags.spec !== undefined) {
    const text = await readFlagFile(flags.spec, '--spec');
    try {
      spec = readSpec(text, flags.spec);
    } catch (e) {
      if (e instanceof SpecError) throw new CliError(e.message, 1);
      throw e;
    }
  }
  let scanner: SensitiveScanner | null = null;
  if (flags.sensitive !== false) {
    scanner = new SensitiveScanner((await cliConfig(flags.config)).sensitive);
  }
  const inventory = new Inventory({
    scanner,
    ...(flags.minCardinality === undefined ? {} : { minCardinality: flags.minCardinality }),
    ...(spec === null ? {} : { spec: spec.templates }),
  });
  // Bodies and headers feed parameter and schema inference: captured unless --no-bodies.
  const capture = flags.bodies !== false;
  const parseFlags: ParseFlags = {
    ...flags,
    out: undefined,
    quarantine: flags.quarantine ?? join(dir, 'quarantine.jsonl'),
    captureHeaders: flags.captureHeaders ?? capture,
    captureBodies: flags.captureBodies ?? capture,
  };
  await mkdir(dir, { recursive: true });
  const summary = await parseInputs(inputs, parseFlags, io, new InventorySink(inventory));
  const report = inventory.report();
  await writeFile(join(dir, 'inventory.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'openapi.yaml'), stringify(toOpenApi(report), { lineWidth: 0 }));
  let diff: SpecDiff | null = null;
  if (spec !== null) {
    diff = diffSpec(spec, report);
    await writeFile(join(dir, 'spec-diff.json'), `${JSON.stringify(diff, null, 2)}\n`);
  }
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ parse: summary, endpoints: report.endpoints.length, unconfirmed: report.unconfirmed.length, diff: diff === null ? null : diffCounts(diff) })}\n`,
    );
  } else if (!flags.quiet) {
    io.stderr.write(humanSummary(summary));
    io.stdout.write(inventoryTable(report));
    if (diff !== null) io.stdout.write(diffText(diff));
    io.stdout.write(
      `\nwrote ${join(dir, 'inventory.json')}, ${join(dir, 'openapi.yaml')}${diff === null ? '' : `, ${join(dir, 'spec-diff.json')}`}\n`,
    );
  }
  return 0;
}

const diffCounts = (d: SpecDiff) => ({
  shadow: d.shadow.length,
  deprecatedCalled: d.zombie.deprecatedCalled.length,
  supersededCalled: d.zombie.supersededCalled.length,
  notCalled: d.zombie.notCalled.length,
  undocumentedParams: d.undocumentedParams.length,
});

export function inventoryTable(r: InventoryReport): string {
  const rows = r.endpoints.map((e) => {
    const total = e.requests;
    let ok = 0;
    for (const [s, n] of Object.entries(e.status)) if (Number(s) < 400) ok += n;
    const auth = Object.entries(e.auth).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    const p50 = e.latencyMs?.p50;
    const types = [...new Set([...e.sensitive.response, ...e.sensitive.request].map((f) => f.type))];
    return [
      e.method,
      terminalSafe(e.template),
      e.scenario,
      int(total),
      `${Math.round((ok * 100) / total)}%`,
      p50 === null || p50 === undefined ? '-' : `${p50}`,
      auth,
      types.length > 4 ? `${types.slice(0, 4).join(',')},…` : types.join(','),
    ];
  });
  const head = ['METHOD', 'TEMPLATE', 'SCENARIO', 'REQUESTS', 'OK', 'P50 MS', 'AUTH', 'SENSITIVE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 3 || i === 4 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [
    `${int(r.endpoints.length)} endpoints from ${int(r.events)} requests (${int(r.unconfirmed.length)} unconfirmed paths: only 404s or one client's errors)`,
    '',
    line(head),
    ...rows.map(line),
  ];
  return `${out.join('\n')}\n`;
}

function diffText(d: SpecDiff): string {
  const out = [
    '',
    `against ${terminalSafe(d.spec.title)} ${terminalSafe(d.spec.version)} (${d.spec.operations} operations):`,
  ];
  out.push(`  shadow (called, not in the spec): ${d.shadow.length}`);
  for (const s of d.shadow.slice(0, 20))
    out.push(`    ${s.method} ${terminalSafe(s.template)}  ${int(s.requests)} requests`);
  out.push(`  zombie, deprecated but called: ${d.zombie.deprecatedCalled.length}`);
  for (const s of d.zombie.deprecatedCalled)
    out.push(`    ${s.method} ${terminalSafe(s.template)}  ${int(s.requests)} requests, last ${s.lastSeen}`);
  out.push(`  zombie, older version called: ${d.zombie.supersededCalled.length}`);
  for (const s of d.zombie.supersededCalled)
    out.push(`    ${s.method} ${terminalSafe(s.template)}  (${terminalSafe(s.newer)} exists)`);
  out.push(`  in the spec, never called: ${d.zombie.notCalled.length}`);
  for (const s of d.zombie.notCalled.slice(0, 20))
    out.push(`    ${s.method} ${terminalSafe(s.template)}${s.deprecated ? ' (deprecated)' : ''}`);
  out.push(`  undocumented query parameters: ${d.undocumentedParams.length} operations`);
  for (const s of d.undocumentedParams.slice(0, 20))
    out.push(`    ${s.method} ${terminalSafe(s.template)}: ${s.params.map(terminalSafe).join(', ')}`);
  return `${out.join('\n')}\n`;
}
