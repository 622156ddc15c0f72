/** What `npm start` runs, from package.json: tests and benches start the server the same way. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The node flags of the start script (`node FLAGS bin/polypay.js start`): its V8 heap settings. */
export function startNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const m = /\bnode((?:\s+--\S+)*)\s+bin\/polypay\.js start\b/.exec(start);
  if (!m) throw new Error(`package.json's start script does not run \`node [flags] bin/polypay.js start\`: ${start}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}
