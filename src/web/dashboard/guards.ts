/**
 * Who may do what in the dashboard. A viewer may look but not act; a user
 * sees only their merchant and its sub-merchants, and anything else answers
 * 404 (as if it did not exist), so ids of other merchants' objects leak nothing.
 */
import type { FastifyRequest } from 'fastify';
import { isDomainError } from '../../core/errors.ts';
import type { DashboardRole } from '../../core/dashboard/users.ts';
import type { Merchant } from '../../core/merchants/merchants.ts';

export interface DashboardContext {
  user: { id: string; email: string; role: DashboardRole };
  merchant: Merchant;
  /** The user's merchant and its sub-merchants. */
  merchantIds: string[];
  csrfToken: string;
  /** The platform runs in sandbox mode (the sandbox page is linked). */
  sandbox: boolean;
  /** The message the last action left for this page (redirectWithFlash), shown once. */
  flash: Flash | null;
}

export interface Flash {
  kind: 'ok' | 'bad';
  message: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user: set on every /dashboard route but sign-in and assets. */
    dashboard: DashboardContext;
  }
}

/** Rendered as a 403 page. */
export class DashboardForbidden extends Error {
  override name = 'DashboardForbidden';
}

/** Rendered as a 404 page. */
export class DashboardNotFound extends Error {
  override name = 'DashboardNotFound';
}

/** Every action route calls this first: a viewer is refused (403) before anything is done. */
export function requireAdmin(req: FastifyRequest): void {
  if (req.dashboard.user.role !== 'admin') throw new DashboardForbidden('Your role can view but not change this');
}

export const isAdmin = (req: FastifyRequest): boolean => req.dashboard.user.role === 'admin';

/**
 * The object (found by id) if it belongs to one of the user's merchants;
 * otherwise, or when it was not found, a 404.
 */
export function requireVisible<T>(req: FastifyRequest, object: T | null | undefined, merchantIdOf: (object: T) => string): T {
  if (object === null || object === undefined || !req.dashboard.merchantIds.includes(merchantIdOf(object))) throw new DashboardNotFound('Not found');
  return object;
}

/**
 * An object the core looks up per merchant (getIntent, getCard), tried for
 * each of the user's merchants in turn: the first found, or a 404.
 */
export async function findVisible<T>(req: FastifyRequest, lookup: (merchantId: string) => Promise<T>): Promise<T> {
  for (const merchantId of req.dashboard.merchantIds) {
    try {
      return await lookup(merchantId);
    } catch (e) {
      if (!(isDomainError(e) && e.kind === 'not_found')) throw e;
    }
  }
  throw new DashboardNotFound('Not found');
}
