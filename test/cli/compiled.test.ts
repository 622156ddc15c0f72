/**
 * The server as `npm start` runs it: src/ compiled ahead of time
 * (scripts/build.js) and started with plain node, no tsx. Each test works in
 * a copy of the project (its own src/, bin/, scripts/ and dist/; the same
 * node_modules), so editing a source file there touches nothing else.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, describeEachBackend } from '../support/platform.ts';
import { freePort } from '../support/receiver.ts';
import { startNodeFlags } from '../support/start-command.ts';
import { cleanEnv } from './run-cli.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A copy of the project in a temp dir: what a build reads and writes, and the
 * installed packages linked (`without` some of them).
 */
function projectCopy(without: string[] = []): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-compiled-'));
  for (const part of ['src', 'bin', 'scripts']) cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) cpSync(path.join(ROOT, file), path.join(dir, file));
  mkdirSync(path.join(dir, 'node_modules'));
  for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (!without.includes(name)) symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Ran> {
  const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The build module of a project copy (plain JavaScript, loaded as is). */
async function buildModule(dir: string): Promise<{ sourceId: () => string; currentBuild: () => string | null }> {
  return import(pathToFileURL(path.join(dir, 'scripts', 'build.js')).href);
}

describeEachBackend('the compiled server', (backend) => {
  let project: ReturnType<typeof projectCopy>;
  let dataDir: string;
  let databaseUrl: string | undefined;
  let dropDatabase = async () => {};

  beforeAll(async () => {
    // Without tsx: whatever the server loads must be compiled output.
    project = projectCopy(['tsx']);
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'polypay-compiled-data-'));
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      databaseUrl = db.url;
      dropDatabase = db.drop;
    }
  });
  afterAll(async () => {
    project?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await dropDatabase();
  });

  it('builds, then starts on plain node and serves its API, dashboard assets and chart library', async () => {
    const built = await node(['scripts/build.js'], { cwd: project.dir });
    expect(built.code, built.stderr).toBe(0);
    const dist = readdirSync(path.join(project.dir, 'dist'));
    expect(dist).toHaveLength(1);
    const out = path.join(project.dir, 'dist', dist[0]!);
    expect(existsSync(path.join(out, 'cli', 'main.js'))).toBe(true);
    expect(existsSync(path.join(out, 'web', 'dashboard', 'assets', 'dashboard.css'))).toBe(true);

    const port = await freePort();
    const env = cleanEnv({ PORT: String(port), HOST: '127.0.0.1', POLYPAY_DATA_DIR: dataDir, POLYPAY_RUN: 'compiled', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
    // As npm start runs it, with its node flags (node refuses a flag it does not know).
    const server = spawn(process.execPath, [...startNodeFlags(), 'bin/polypay.js', 'start'], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (d) => (output += d));
    server.stderr.on('data', (d) => (output += d));
    try {
      const base = `http://127.0.0.1:${port}`;
      let health: Response | null = null;
      for (let i = 0; i < 150 && server.exitCode === null; i++) {
        health = await fetch(`${base}/healthz`).catch(() => null);
        if (health?.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(health?.status, output).toBe(200);
      expect(await health!.json()).toMatchObject({ status: 'ok', database: { dialect: backend, reachable: true } });
      expect(output).toContain(`polypay is running (sandbox mode, ${backend})`);

      for (const [name, own] of [['dashboard.css', 'src/web/dashboard/assets/dashboard.css'], ['uPlot.iife.min.js', 'node_modules/uplot/dist/uPlot.iife.min.js']] as const) {
        const r = await fetch(`${base}/dashboard/assets/${name}`);
        expect(r.status, name).toBe(200);
        expect(Buffer.from(await r.arrayBuffer()).equals(readFileSync(path.join(ROOT, own))), name).toBe(true);
      }

      const created = await node(['bin/polypay.js', 'merchant', 'create', '--name', 'Compiled', '--json'], { cwd: project.dir, env });
      expect(created.code, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout).merchant_id).toMatch(/^M\d+$/);
    } finally {
      server.kill('SIGTERM');
      if (server.exitCode === null) await new Promise((r) => server.once('exit', r));
    }
    expect(server.exitCode, output).toBe(0);
  });
});

describe('compiled output is used only when built from the sources as they are now', () => {
  let project: ReturnType<typeof projectCopy>;
  beforeAll(() => {
    project = projectCopy();
  });
  afterAll(() => project?.remove());

  it('runs an edited source through tsx, never the stale build, until the next build', async () => {
    const help = (extra: NodeJS.ProcessEnv = {}) => node(['bin/polypay.js', '--help'], { cwd: project.dir, env: cleanEnv(extra) });
    const build = await buildModule(project.dir);

    expect(build.currentBuild()).toBeNull();
    const refused = await help({ POLYPAY_RUN: 'compiled' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('npm run build');

    expect((await node(['scripts/build.js'], { cwd: project.dir })).code).toBe(0);
    const id = build.sourceId();
    expect(build.currentBuild()).toBe(path.join(project.dir, 'dist', id));
    expect((await help({ POLYPAY_RUN: 'compiled' })).code).toBe(0);

    // A user edits a source file: the build is no longer current, and what runs is the edit.
    const main = path.join(project.dir, 'src', 'cli', 'main.ts');
    writeFileSync(main, readFileSync(main, 'utf8').replace('polypay --help', 'polypay --help   (edited)'));
    expect(build.sourceId()).not.toBe(id);
    expect(build.currentBuild()).toBeNull();
    expect((await help({ POLYPAY_RUN: 'compiled' })).code).toBe(1);
    const fromSource = await help();
    expect(fromSource.code, fromSource.stderr).toBe(0);
    expect(fromSource.stdout).toContain('polypay --help   (edited)');

    // A new file under src/ (an asset, say) changes the id as well.
    const edited = build.sourceId();
    writeFileSync(path.join(project.dir, 'src', 'web', 'dashboard', 'assets', 'extra.css'), 'body{}');
    expect(build.sourceId()).not.toBe(edited);

    // The next build is current again, runs the edit, and removes the stale output.
    expect((await node(['scripts/build.js'], { cwd: project.dir })).code).toBe(0);
    const compiled = await help({ POLYPAY_RUN: 'compiled' });
    expect(compiled.code, compiled.stderr).toBe(0);
    expect(compiled.stdout).toContain('polypay --help   (edited)');
    expect(readdirSync(path.join(project.dir, 'dist'))).toEqual([build.sourceId()]);
    expect(existsSync(path.join(project.dir, 'dist', build.sourceId(), 'web', 'dashboard', 'assets', 'extra.css'))).toBe(true);
  });
});
