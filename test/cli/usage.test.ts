/**
 * The command line as a newcomer meets it: --help prints the usage on
 * standard output and exits 0; a misused command line (unknown command or
 * option, an option without its value, a stray argument, a bad value) shows
 * the usage on standard error, says what was wrong, exits 2 and opens nothing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from './run-cli.ts';

describe('polypay usage and exit codes', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'polypay-usage-'));
  /** A data dir no command here may create: help and misuse touch nothing. */
  const dataDir = path.join(tmp, 'data');
  const env = cleanEnv({ POLYPAY_DATA_DIR: dataDir });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** Runs the command lines, four at a time (each is a process of its own). */
  async function runAll(lines: string[][]) {
    const runs: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < lines.length; i += 4) runs.push(...(await Promise.all(lines.slice(i, i + 4).map((args) => runCli(args, { env, limitMs: 60_000 })))));
    return runs;
  }

  it('--help, on its own or after a command, prints the usage on standard output and exits 0', async () => {
    const lines = [['--help'], ['-h'], ['help'], ['start', '--help'], ['merchant', 'create', '--help'], ['merchant', 'create', '--name', 'Shop', '-h'], ['merchant', '--help']];
    const runs = await runAll(lines);
    runs.forEach((r, i) => {
      const what = lines[i]!.join(' ');
      expect(r.code, what).toBe(0);
      expect(r.stderr, what).toBe('');
      expect(r.stdout, what).toMatch(/^usage:\n/);
      expect(r.stdout, what).toContain('polypay start [--port N] [--host H] [--data-dir DIR]');
      expect(r.stdout, what).toContain('polypay merchant create --name NAME');
      expect(r.stdout, what).toContain('DATABASE_URL');
    });
    expect(existsSync(dataDir)).toBe(false); // help created no merchant and no database
  }, 300_000);

  it('a misused command line shows the usage on standard error, names the problem and exits 2', async () => {
    const cases: [string[], RegExp][] = [
      [['merchant', 'create', '--name'], /--name <value>' argument missing/],
      [['merchant', 'create', '--name', '--json'], /'--name' argument is ambiguous/],
      [['merchant', 'create', '--name', 'Shop', '--bogus'], /Unknown option '--bogus'/],
      [['merchant', 'create', '--json'], /--name is required/],
      [['merchant', 'create', '--name', 'Shop', '--webhook-url', 'ftp://hooks.example'], /--webhook-url must be an http\(s\) URL/],
      [['merchant', 'create', '--name', 'Shop', 'extra'], /Unexpected argument 'extra'/],
      [['start', '--port'], /--port <value>' argument missing/],
      [['start', '--port', 'eighty'], /--port must be a port number \(0-65535\), not "eighty"/],
      [['start', '--port', '70000'], /--port must be a port number/],
      [['start', 'now'], /Unexpected argument 'now'/],
      [['stop'], /unknown command: stop/],
      [['merchant', 'delete'], /unknown command: merchant delete/],
      [['merchant'], /unknown command: merchant/],
      [[], /which command\?/],
    ];
    const runs = await runAll(cases.map(([args]) => args));
    runs.forEach((r, i) => {
      const [args, problem] = cases[i]!;
      const what = args.join(' ') || '(nothing)';
      expect(r.code, what).toBe(2);
      expect(r.stdout, what).toBe('');
      const [first, ...rest] = r.stderr.split('\n');
      expect(first, what).toMatch(/^polypay: /);
      expect(first, what).toMatch(problem);
      expect(rest.join('\n'), what).toContain('usage:\n  polypay start');
      expect(r.stderr, what).not.toMatch(/\n\s+at /); // no stack trace
    });
    expect(existsSync(dataDir)).toBe(false);
  }, 300_000);
});
