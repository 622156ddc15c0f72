/**
 * What the background sweeps look for, as SQL conditions with their values
 * written into the statement. Each matches the condition of a partial index
 * (migration 005), which holds only the rows a sweep acts on; a planner uses
 * such an index only when the query states the same condition, which it
 * cannot see through bound parameters (SQLite never, PostgreSQL not in a
 * generic plan).
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';

const statusIn = (...statuses: string[]): RawBuilder<SqlBool> =>
  sql<SqlBool>`${sql.ref('status')} in (${sql.join(statuses.map((s) => sql.lit(s)))})`;

/** One status, written `status = ...` as its index's condition is. */
const statusIs = (status: string): RawBuilder<SqlBool> => sql<SqlBool>`${sql.ref('status')} = ${sql.lit(status)}`;

/** Intents that expire unless paid (index payment_intents_unpaid_expiry). */
export const unpaidIntent = statusIn('REQUIRES_PAYMENT_METHOD', 'REQUIRES_CUSTOMER_ACTION');

/** Attempts sent to a network or wallet with no answer recorded yet (index payment_attempts_in_flight). */
export const attemptInFlight = statusIn('INITIATED', 'PENDING_AUTHORIZATION');

/** Refunds sent to the network with no answer recorded yet (index refunds_in_flight). */
export const refundInFlight = statusIs('PROCESSING');

/** Webhook deliveries still to be made (index deliveries_pending). */
export const deliveryPending = statusIs('pending');
