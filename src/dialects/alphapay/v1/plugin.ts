/** AlphaPay v1 (filled in by the v1 routes). */
import type { FastifyInstance } from 'fastify';
import type { AlphapayPluginDeps } from '../plugin.ts';

export async function v1Scope(app: FastifyInstance, _deps: AlphapayPluginDeps): Promise<void> {
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ return_code: 'NOT_FOUND', return_msg: `no AlphaPay v1 endpoint ${req.method} ${req.url.split('?')[0]}` });
  });
}
