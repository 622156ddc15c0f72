import type { Kysely } from 'kysely';

/**
 * Who holds a delivery's lease: the sending process's name (host, process
 * and a per-start nonce; delivery/lease-owner.ts). A lease is now short and
 * renewed while the send is under way, and a process that starts can hand
 * back at once the leases a dead process on its own host held, instead of
 * waiting for them to run out. Leases taken before this migration have no
 * owner and simply run out.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('deliveries').addColumn('lease_owner', 'text').execute();
}
