import { sql, type Kysely } from 'kysely';

/**
 * Partial indexes for the background sweeps. Each sweep looks for the few
 * rows still in a state it acts on (unpaid intents, attempts and refunds in
 * flight, webhooks due); their indexes now hold only those rows, so the rows
 * that settled (nearly all of them) cost no index entry when written, and
 * the indexes stay small. The sweep queries name these conditions with the
 * same literal values (store/sweep-conditions.ts): a bound parameter would
 * hide them from the planner.
 *
 * Also dropped: the index on events.source_id, which no query uses, and the
 * entries of wallet_token's unique index for attempts that have none (cards).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_source').execute();

  await db.schema.dropIndex('payment_intents_status_expiry').execute();
  await db.schema
    .createIndex('payment_intents_unpaid_expiry')
    .on('payment_intents')
    .column('expires_at')
    .where(sql.ref('status'), 'in', ['REQUIRES_PAYMENT_METHOD', 'REQUIRES_CUSTOMER_ACTION'])
    .execute();

  await db.schema.dropIndex('payment_attempts_status').execute();
  await db.schema
    .createIndex('payment_attempts_in_flight')
    .on('payment_attempts')
    .column('updated_at')
    .where(sql.ref('status'), 'in', ['INITIATED', 'PENDING_AUTHORIZATION'])
    .execute();

  await db.schema.dropIndex('payment_attempts_wallet_token').execute();
  await db.schema
    .createIndex('payment_attempts_wallet_token')
    .unique()
    .on('payment_attempts')
    .column('wallet_token')
    .where('wallet_token', 'is not', null)
    .execute();

  // Refunds had no index for their sweep at all: it scanned the table.
  await db.schema.createIndex('refunds_in_flight').on('refunds').column('updated_at').where(sql.ref('status'), '=', 'PROCESSING').execute();

  await db.schema.dropIndex('deliveries_due').execute();
  await db.schema.createIndex('deliveries_pending').on('deliveries').column('next_attempt_at').where(sql.ref('status'), '=', 'pending').execute();
}
