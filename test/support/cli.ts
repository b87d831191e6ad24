/** Running the CLI in-process with captured output, and as the real binary. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `apiwarden <args>` in this process (stdin from `input`, output captured). */
export async function cli(
  args: string[],
  input: string | Buffer = '',
  signal?: AbortSignal,
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let errText = '';
  stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8');
  });
  stderr.on('data', (b: Buffer) => {
    errText += b.toString('utf8');
  });
  const code = await main(['node', 'apiwarden', ...args], {
    stdout,
    stderr,
    stdin: Readable.from(input.length === 0 ? [] : [typeof input === 'string' ? Buffer.from(input) : input]),
    ...(signal ? { signal } : {}),
  });
  return { code, stdout: out, stderr: errText };
}

/** Runs the built binary (`bin/apiwarden.js`, built by `pretest`) as a child process. */
export function bin(args: string[], input?: string, cwd = ROOT): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'apiwarden.js'), ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}
