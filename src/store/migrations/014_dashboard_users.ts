import type { Kysely } from 'kysely';

/**
 * The merchant dashboard: its users (one merchant each, email unique
 * whatever its case: stored lower-cased), their sessions (only a hash of the
 * session token is kept, so a copy of the database signs nobody in), and the
 * failed sign-ins the throttle counts, shared by every node of one database.
 * Merchants get an index on their parent: each dashboard request looks up
 * the sub-merchants its user may see.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dashboard_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('merchant_id', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();
  await db.schema.createIndex('dashboard_users_merchant').on('dashboard_users').column('merchant_id').execute();

  await db.schema
    .createTable('dashboard_sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dashboard_sessions_user').on('dashboard_sessions').column('user_id').execute();
  await db.schema.createIndex('dashboard_sessions_expiry').on('dashboard_sessions').column('expires_at').execute();

  await db.schema
    .createTable('dashboard_sign_in_failures')
    .addColumn('subject', 'text', (c) => c.notNull()) // "account:<email>" or "address:<ip>"
    .addColumn('failed_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dashboard_sign_in_failures_subject').on('dashboard_sign_in_failures').columns(['subject', 'failed_at']).execute();
  await db.schema.createIndex('dashboard_sign_in_failures_time').on('dashboard_sign_in_failures').column('failed_at').execute();
  await db.schema.createIndex('merchants_parent').on('merchants').column('parent_id').execute();
}
