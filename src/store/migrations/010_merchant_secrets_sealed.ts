import type { Kysely } from 'kysely';
import type { DialectName, MigrationContext } from '../store.ts';

/** The merchant secrets the platform keeps to sign and verify with: sealed at rest from this migration on. */
export const SEALED_MERCHANT_SECRETS = ['uqpay_webhook_secret', 'qfpay_client_key', 'alphapay_platform_private_key'] as const;

/**
 * A merchant can be disabled (its tokens and app code stop working at once),
 * and the secrets each merchant row held in plain text (UQPAY webhook secret,
 * QFPay client key, AlphaPay platform private key) are sealed with the
 * platform key, like vaulted card data. The ids they are looked up by (client
 * id, app code) are not secret and stay as they are.
 */
export async function up(db: Kysely<any>, _dialect: DialectName, context: MigrationContext): Promise<void> {
  const rows: Array<Record<string, string>> = await db.selectFrom('merchants').select(['id', ...SEALED_MERCHANT_SECRETS]).execute();
  const secrets = context.secrets;
  // Before any change (SQLite's schema changes are not rolled back with the migration).
  if (rows.length > 0 && !secrets) throw new Error('upgrading the merchants needs the platform encryption key, to seal their secrets');
  await db.schema.alterTable('merchants').addColumn('disabled_at', 'bigint').execute();
  for (const row of rows) {
    const sealed = Object.fromEntries(SEALED_MERCHANT_SECRETS.map((column) => [column, secrets!.seal(row[column]!)]));
    await db.updateTable('merchants').set(sealed).where('id', '=', row.id).execute();
  }
}
