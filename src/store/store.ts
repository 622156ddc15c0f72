import path from 'node:path';
import { Kysely, Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './schema.ts';
import * as m001 from './migrations/001_initial.ts';
import * as m002 from './migrations/002_wallets.ts';
import * as m003 from './migrations/003_idempotency_subject.ts';
import * as m004 from './migrations/004_intent_version.ts';
import * as m005 from './migrations/005_sweep_indexes.ts';
import * as m006 from './migrations/006_platform_counters.ts';
import * as m008 from './migrations/008_delivery_lease_owner.ts';
import * as m009 from './migrations/009_sim_card_authorizations.ts';
import * as m010 from './migrations/010_merchant_secrets_sealed.ts';
import * as m011 from './migrations/011_refund_shopper_amount.ts';
import * as m012 from './migrations/012_alphapay.ts';
import * as m013 from './migrations/013_issuing.ts';
import * as m014 from './migrations/014_dashboard_users.ts';
import * as m015 from './migrations/015_payments_console.ts';
import * as m016 from './migrations/016_delivery_log.ts';

export type DialectName = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

/**
 * Storage behind one interface. A unit of work is a function that runs inside
 * one transaction and either commits whole or not at all; the promise settles
 * only after the commit is durable.
 */
export interface Store {
  readonly dialect: DialectName;
  /** Runs fn in a transaction. SQLite commits the units that arrive together as one group. */
  unit<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Queries outside any unit (reads see committed data only). */
  readonly read: Db;
  /** Kysely `forUpdate` where the database has row locks (PostgreSQL); SQLite's single writer already serializes units. */
  readonly rowLocks: boolean;
  /** Units waiting (for a pool connection, or for their group commit) and connections open, for /metrics. */
  stats(): { waiting: number; connections: number };
  close(): Promise<void>;
}

/** What a migration that rewrites stored values may need: the platform key, to seal secrets at rest. */
export interface MigrationContext {
  secrets?: { seal(plaintext: string): string };
}

const MIGRATIONS: Record<string, { up(db: Kysely<any>, dialect: DialectName, context: MigrationContext): Promise<void> }> = {
  '001_initial': m001,
  '002_wallets': m002,
  '003_idempotency_subject': m003,
  '004_intent_version': m004,
  '005_sweep_indexes': m005,
  '006_platform_counters': m006,
  '008_delivery_lease_owner': m008,
  '009_sim_card_authorizations': m009,
  '010_merchant_secrets_sealed': m010,
  '011_refund_shopper_amount': m011,
  '012_alphapay': m012,
  '013_issuing': m013,
  '014_dashboard_users': m014,
  '015_payments_console': m015,
  '016_delivery_log': m016,
};

/** Brings the schema up to the latest migration, or up to `target` (tests start from an older schema). */
export async function migrate(db: Kysely<any>, dialect: DialectName, target?: string, context: MigrationContext = {}): Promise<void> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, mod] of Object.entries(MIGRATIONS)) out[name] = { up: (d) => mod.up(d, dialect, context) };
      return out;
    },
  };
  const migrator = new Migrator({ db, provider });
  const { error } = await (target ? migrator.migrateTo(target) : migrator.migrateToLatest());
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

/** The SQLite database file in a data dir. */
export const sqliteFile = (dataDir: string): string => path.join(dataDir, 'polypay.sqlite');

export interface StoreOptions {
  /** postgres://... selects PostgreSQL; otherwise SQLite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** Seals secrets that an upgrade finds stored in plain text. */
  secrets?: MigrationContext['secrets'];
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.ts');
    return openPostgresStore(opts.databaseUrl, opts.poolSize, { secrets: opts.secrets });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.ts');
  return openSqliteStore(opts.dataDir, { secrets: opts.secrets });
}
