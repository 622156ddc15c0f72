#!/usr/bin/env node
// The `polypay` command. Sources are TypeScript: it runs their compiled
// JavaScript (dist/, see scripts/build.js) when that was built from the
// sources as they are now, and otherwise the sources themselves through tsx's
// ESM hooks. Never stale output: "current" means built from these exact bytes.
//
// POLYPAY_RUN=compiled refuses to run anything but current compiled output
// (exit 1 when there is none); POLYPAY_RUN=source always runs the sources.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { currentBuild } from '../scripts/build.js';

const mode = process.env.POLYPAY_RUN ?? '';
if (mode !== '' && mode !== 'compiled' && mode !== 'source') {
  process.stderr.write(`POLYPAY_RUN must be "compiled" or "source", not ${JSON.stringify(mode)}\n`);
  process.exit(1);
}
const compiled = mode === 'source' ? null : currentBuild();
if (mode === 'compiled' && !compiled) {
  process.stderr.write('POLYPAY_RUN=compiled, but the sources have changed since the last build (or there is none): run `npm run build`\n');
  process.exit(1);
}

let main;
if (compiled) {
  // Stack traces name the TypeScript files and lines, as under tsx (about 2 MB of maps).
  process.setSourceMapsEnabled(true);
  ({ main } = await import(pathToFileURL(path.join(compiled, 'cli', 'main.js')).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
