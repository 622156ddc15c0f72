/** The dashboard's users, sessions and sign-in failures as stored (migration 014). */
import type { Selectable } from 'kysely';
import type { DashboardRole, DashboardUser, DashboardUserRepository, StoredSession } from '../core/dashboard/users.ts';
import type { DashboardSessionTable, DashboardUserTable } from './schema.ts';
import type { Store } from './store.ts';

const toUser = (r: Selectable<DashboardUserTable>): DashboardUser => ({
  id: r.id,
  merchantId: r.merchant_id,
  email: r.email,
  role: r.role as DashboardRole,
  createdAt: Number(r.created_at),
  disabledAt: r.disabled_at === null ? null : Number(r.disabled_at),
});

const toSession = (r: Selectable<DashboardSessionTable>): StoredSession => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  csrfToken: r.csrf_token,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
});

export function dashboardUserRepository(store: Store): DashboardUserRepository {
  const db = store.read;
  return {
    async insertUser(u, passwordHash) {
      const r = await store.unit((tx) =>
        tx
          .insertInto('dashboard_users')
          .values({ id: u.id, merchant_id: u.merchantId, email: u.email, password_hash: passwordHash, role: u.role, created_at: u.createdAt, disabled_at: u.disabledAt })
          .onConflict((oc) => oc.column('email').doNothing())
          .executeTakeFirst(),
      );
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async userByEmail(email) {
      const r = await db.selectFrom('dashboard_users').selectAll().where('email', '=', email).executeTakeFirst();
      return r ? { user: toUser(r), passwordHash: r.password_hash } : null;
    },
    async userById(id) {
      const r = await db.selectFrom('dashboard_users').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toUser(r) : null;
    },
    async insertSession(s) {
      await store.unit(async (tx) => {
        // Sessions past their absolute expiry go as new ones come, so the table holds about a day of sign-ins.
        await tx.deleteFrom('dashboard_sessions').where('expires_at', '<', s.createdAt).execute();
        await tx
          .insertInto('dashboard_sessions')
          .values({ token_hash: s.tokenHash, user_id: s.userId, csrf_token: s.csrfToken, created_at: s.createdAt, last_seen_at: s.lastSeenAt, expires_at: s.expiresAt })
          .execute();
      });
    },
    async session(tokenHash) {
      const r = await db.selectFrom('dashboard_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return r ? toSession(r) : null;
    },
    async touchSession(tokenHash, at) {
      await store.unit((tx) => tx.updateTable('dashboard_sessions').set({ last_seen_at: at }).where('token_hash', '=', tokenHash).execute());
    },
    async deleteSession(tokenHash) {
      await store.unit((tx) => tx.deleteFrom('dashboard_sessions').where('token_hash', '=', tokenHash).execute());
    },
    async recordFailure(subjects, at, forgetBefore) {
      await store.unit(async (tx) => {
        await tx.deleteFrom('dashboard_sign_in_failures').where('failed_at', '<', forgetBefore).execute();
        await tx.insertInto('dashboard_sign_in_failures').values(subjects.map((subject) => ({ subject, failed_at: at }))).execute();
      });
    },
    async failuresSince(subject, since) {
      const r = await db
        .selectFrom('dashboard_sign_in_failures')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subject', '=', subject)
        .where('failed_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async clearFailures(subject) {
      await store.unit((tx) => tx.deleteFrom('dashboard_sign_in_failures').where('subject', '=', subject).execute());
    },
  };
}
