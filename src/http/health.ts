/**
 * Health endpoints for load balancers and orchestrators:
 * - GET /livez: the process is up and its event loop answers (restart it when this fails);
 * - GET /healthz and /readyz: it can serve, which needs the database: 200 with
 *   {"status":"ok"}, or 503 with {"status":"unavailable","database":{...}}
 *   naming the database and why, while it cannot be reached or written (take
 *   the node out of rotation, do not restart it: its pool reconnects by itself).
 */
import { sql } from 'kysely';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Store } from '../store/store.ts';
import { DATABASE_RETRY_AFTER_S } from './faults.ts';

export const HEALTH_PATHS = ['/livez', '/healthz', '/readyz'];

/** How long the database may take to answer the probe before it counts as unreachable. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * Null when a unit of work (a transaction, the path every write takes) runs
 * and commits within the timeout; otherwise why not, without detail that
 * could leak connection strings.
 */
async function probe(store: Store): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
  });
  const unit = store.unit((tx) => sql`select 1`.execute(tx)).then(
    () => null,
    (e: unknown) => {
      const code = (e as { code?: unknown }).code;
      return typeof code === 'string' && code !== '' ? `unreachable (${code})` : 'unreachable';
    },
  );
  try {
    return await Promise.race([unit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, store: Store): void {
  app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  const ready = async (_req: unknown, reply: FastifyReply) => {
    const problem = await probe(store);
    if (problem === null) return { status: 'ok', database: { dialect: store.dialect, reachable: true } };
    return reply
      .code(503)
      .header('retry-after', String(DATABASE_RETRY_AFTER_S))
      .send({ status: 'unavailable', database: { dialect: store.dialect, reachable: false, error: problem } });
  };
  app.get('/healthz', { schema: { hide: true } }, ready);
  app.get('/readyz', { schema: { hide: true } }, ready);
}
