/** The payments pages: the list and its CSV, a payment's detail, and the actions on it. */
import type { FastifyInstance } from 'fastify';
import type { DashboardDeps } from './deps.ts';
import { paymentActions } from './payment-actions.ts';
import { paymentDetailPages } from './payment-detail.ts';
import { paymentsListPages } from './payments-list.ts';

export async function paymentsPages(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await paymentsListPages(app, deps);
  await paymentDetailPages(app, deps);
  await paymentActions(app, deps);
}
