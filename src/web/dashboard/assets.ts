/**
 * The dashboard's styles and scripts, and the chart library, served from the
 * package itself (the dashboard works offline: no CDN). Read once at start.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);
const own = (name: string) => new URL(`./assets/${name}`, import.meta.url);

const FILES: Record<string, { file: URL | string; type: string }> = {
  'dashboard.css': { file: own('dashboard.css'), type: 'text/css; charset=utf-8' },
  'dashboard.js': { file: own('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'overview.js': { file: own('overview.js'), type: 'text/javascript; charset=utf-8' },
  'payments.css': { file: own('payments.css'), type: 'text/css; charset=utf-8' },
  'devtools.css': { file: own('devtools.css'), type: 'text/css; charset=utf-8' },
  'uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
};

export async function dashboardAssets(app: FastifyInstance): Promise<void> {
  const loaded = new Map(Object.entries(FILES).map(([name, f]) => [name, { body: readFileSync(f.file), type: f.type }]));
  app.get('/assets/:name', { config: { dashboardPublic: true } }, async (req, reply) => {
    const asset = loaded.get((req.params as { name: string }).name);
    if (!asset) return reply.callNotFound();
    return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(asset.body);
  });
}
