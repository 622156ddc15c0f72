/**
 * People who sign in to the merchant dashboard: each belongs to one merchant
 * and is an admin (may act) or a viewer (may look). Sessions are opaque
 * random tokens of which only a hash is stored; sign-in failures are counted
 * per account and per address, and past the limit sign-in is refused without
 * checking the password.
 */
import { createHash, randomBytes } from 'node:crypto';
import { generatePassword, hashPassword, passwordMatches } from './passwords.ts';

export const DASHBOARD_ROLES = ['admin', 'viewer'] as const;
export type DashboardRole = (typeof DASHBOARD_ROLES)[number];

export interface DashboardUser {
  id: string;
  merchantId: string;
  email: string;
  role: DashboardRole;
  createdAt: number;
  disabledAt: number | null;
}

export interface StoredSession {
  tokenHash: string;
  userId: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface DashboardUserRepository {
  /** false when the email is taken (whatever its case). */
  insertUser(user: DashboardUser, passwordHash: string): Promise<boolean>;
  userByEmail(email: string): Promise<{ user: DashboardUser; passwordHash: string } | null>;
  userById(id: string): Promise<DashboardUser | null>;
  insertSession(session: StoredSession): Promise<void>;
  session(tokenHash: string): Promise<StoredSession | null>;
  touchSession(tokenHash: string, at: number): Promise<void>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Records a failure for each subject, and forgets those older than `forgetBefore`. */
  recordFailure(subjects: string[], at: number, forgetBefore: number): Promise<void>;
  failuresSince(subject: string, since: number): Promise<number>;
  clearFailures(subject: string): Promise<void>;
}

export interface SessionPolicy {
  /** Signed out after this long without a request. */
  idleMs: number;
  /** Signed out this long after signing in, however active. */
  absoluteMs: number;
}

export interface ThrottlePolicy {
  windowMs: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMs: 30 * 60_000, absoluteMs: 12 * 60 * 60_000 };
export const DEFAULT_THROTTLE: ThrottlePolicy = { windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 };
/** last_seen_at is written at most this often per session (one write per page view would be a write per click). */
const TOUCH_EVERY_MS = 60_000;

export interface SignedIn {
  user: DashboardUser;
  csrfToken: string;
  /** The session's token: the cookie's value. */
  token: string;
}

export type SignInResult = { ok: true; session: SignedIn } | { ok: false; reason: 'refused' | 'throttled' };

export class DashboardUserError extends Error {
  override name = 'DashboardUserError';
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
export const normalizeEmail = (email: string) => email.trim().toLowerCase();
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class DashboardUsers {
  /** A hash to check a password against when the email is unknown, so both take the same time. */
  private decoy: Promise<string> | null = null;

  constructor(
    private readonly repo: DashboardUserRepository,
    private readonly deps: {
      /** Real time: sessions and throttling do not follow the sandbox clock. */
      now: () => number;
      newId: () => string;
      merchantExists: (id: string) => Promise<boolean>;
      sessions?: SessionPolicy;
      throttle?: ThrottlePolicy;
    },
  ) {}

  private get sessions() {
    return this.deps.sessions ?? DEFAULT_SESSION_POLICY;
  }

  private get throttle() {
    return this.deps.throttle ?? DEFAULT_THROTTLE;
  }

  /** Creates a user with a generated password, returned once and never stored in clear. */
  async create(input: { merchantId: string; email: string; role: DashboardRole }): Promise<{ user: DashboardUser; password: string }> {
    const email = normalizeEmail(input.email);
    if (!EMAIL.test(email) || email.length > 254) throw new DashboardUserError(`${JSON.stringify(input.email)} is not an email address`);
    if (!DASHBOARD_ROLES.includes(input.role)) throw new DashboardUserError(`role must be admin or viewer, not ${JSON.stringify(input.role)}`);
    if (!(await this.deps.merchantExists(input.merchantId))) throw new DashboardUserError(`merchant ${input.merchantId} not found`);
    const password = generatePassword();
    const user: DashboardUser = { id: this.deps.newId(), merchantId: input.merchantId, email, role: input.role, createdAt: this.deps.now(), disabledAt: null };
    if (!(await this.repo.insertUser(user, await hashPassword(password)))) throw new DashboardUserError(`a dashboard user with the email ${email} already exists`);
    return { user, password };
  }

  /**
   * Checks the password unless the account or the address is over its
   * limit. A wrong email and a wrong password are the same answer, after
   * the same work.
   */
  async signIn(emailInput: string, password: string, address: string): Promise<SignInResult> {
    const now = this.deps.now();
    const email = normalizeEmail(emailInput);
    const account = `account:${email}`;
    const from = `address:${address}`;
    const since = now - this.throttle.windowMs;
    if ((await this.repo.failuresSince(account, since)) >= this.throttle.perAccount || (await this.repo.failuresSince(from, since)) >= this.throttle.perAddress) {
      return { ok: false, reason: 'throttled' };
    }
    const found = await this.repo.userByEmail(email);
    this.decoy ??= hashPassword(generatePassword());
    const matches = await passwordMatches(password, found?.passwordHash ?? (await this.decoy));
    if (!found || !matches || found.user.disabledAt !== null) {
      await this.repo.recordFailure([account, from], now, since);
      return { ok: false, reason: 'refused' };
    }
    await this.repo.clearFailures(account);
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    await this.repo.insertSession({ tokenHash: tokenHash(token), userId: found.user.id, csrfToken, createdAt: now, lastSeenAt: now, expiresAt: now + this.sessions.absoluteMs });
    return { ok: true, session: { user: found.user, csrfToken, token } };
  }

  /** The signed-in user of a session token, or null when it is unknown, expired, idle too long or its user disabled. */
  async session(token: string): Promise<SignedIn | null> {
    const hash = tokenHash(token);
    const stored = await this.repo.session(hash);
    if (!stored) return null;
    const now = this.deps.now();
    if (now >= stored.expiresAt || now - stored.lastSeenAt >= this.sessions.idleMs) {
      await this.repo.deleteSession(hash);
      return null;
    }
    const user = await this.repo.userById(stored.userId);
    if (!user || user.disabledAt !== null) return null;
    if (now - stored.lastSeenAt >= TOUCH_EVERY_MS) await this.repo.touchSession(hash, now);
    return { user, csrfToken: stored.csrfToken, token };
  }

  async signOut(token: string): Promise<void> {
    await this.repo.deleteSession(tokenHash(token));
  }
}
