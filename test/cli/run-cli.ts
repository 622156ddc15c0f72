/** Runs the `polypay` command as a user would, in a child process that must end by itself. */
import { spawn, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const POLYPAY_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/polypay.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time until the process exited, in ms. */
  ms: number;
  /** Killed after `limitMs`: it did not exit by itself. */
  hung: boolean;
}

/** `polypay ...args`; a process still running after `limitMs` is killed and reported as hung. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; limitMs?: number; spawn?: SpawnOptions } = {}): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(process.execPath, [POLYPAY_BIN, ...args], { env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...opts.spawn });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, opts.limitMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, hung });
    });
  });
}

/** The environment without anything that would point polypay at another database, port or data dir. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'PORT', 'HOST', 'POLYPAY_DATA_DIR', 'POLYPAY_FX_RATES', 'POLYPAY_BASE_URL', 'POLYPAY_MODE']) delete env[name];
  return { ...env, ...extra };
}
