/**
 * UQPAY authentication as an unmodified SDK meets it: the token endpoint, the
 * JWT it hands out, x-auth-token checks, token expiry on the sandbox clock,
 * and x-on-behalf-of sub-accounts.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend, intentBody, readReply, seedCard, simPost, startPlatform, UqpayClient, type Reply, type TestPlatform } from '../support/platform.ts';

function decodeSegment(segment: string): any {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

function expectEnvelope(r: Reply, status: number, type: string) {
  expect(r.status, r.text).toBe(status);
  expect(r.body).toMatchObject({ type });
  expect(typeof r.body.code).toBe('string');
  expect(r.body.code).not.toBe('');
  expect(typeof r.body.message).toBe('string');
  expect(r.body.message).not.toBe('');
}

describeEachBackend('UQPAY authentication', (backend) => {
  let tp: TestPlatform;
  let merchant: UqpayClient;
  /** A second merchant: another api key, an attacker, a stranger. */
  let other: UqpayClient;

  async function tokenRequest(headers: Record<string, string>, body?: string): Promise<Reply> {
    return readReply(await fetch(`${tp.baseUrl}/api/v1/connect/token`, { method: 'POST', headers, ...(body === undefined ? {} : { body }) }));
  }

  /** A GET as the SDK sends it, with x-auth-token set to exactly `authToken` (or left out). */
  async function getWith(authToken: string | undefined, pathname = '/v2/payment_intents'): Promise<Reply> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'x-client-id': merchant.credentials.uqpay.client_id, 'x-idempotency-key': randomUUID() };
    if (authToken !== undefined) headers['x-auth-token'] = authToken;
    const r = await fetch(`${tp.baseUrl}/api${pathname}`, { headers });
    const text = await r.text();
    return { status: r.status, body: JSON.parse(text), text, headers: r.headers };
  }

  async function intentCount(client: UqpayClient, headers: Record<string, string> = {}): Promise<number> {
    const r = await client.get('/v2/payment_intents?page_size=100', headers);
    expect(r.status, r.text).toBe(200);
    return r.body.total_items;
  }

  beforeAll(async () => {
    tp = await startPlatform(backend);
    merchant = await UqpayClient.create(tp, { name: 'Auth Merchant' });
    other = await UqpayClient.create(tp, { name: 'Other Auth Merchant' });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('issues a 3-part JWT with the claims the SDKs read, for an empty JSON body', async () => {
    const { client_id, api_key } = merchant.credentials.uqpay;
    // The Node SDK: Content-Type: application/json and no body at all.
    const noBody = await tokenRequest({ 'x-client-id': client_id, 'x-api-key': api_key, 'Content-Type': 'application/json' });
    expect(noBody.status, noBody.text).toBe(200);
    // Explicitly empty body, and an empty object: both fine too.
    for (const body of ['', '{}']) {
      const r = await tokenRequest({ 'x-client-id': client_id, 'x-api-key': api_key, 'Content-Type': 'application/json' }, body);
      expect(r.status, r.text).toBe(200);
    }
    // And without any Content-Type (curl without -H).
    const bare = await tokenRequest({ 'x-client-id': client_id, 'x-api-key': api_key });
    expect(bare.status, bare.text).toBe(200);

    const nowS = tp.platform.clock.now() / 1000;
    expect(typeof noBody.body.auth_token).toBe('string');
    expect(Number.isInteger(noBody.body.expired_at)).toBe(true);
    expect(Math.abs(noBody.body.expired_at - (nowS + 1800))).toBeLessThanOrEqual(5);

    const parts = (noBody.body.auth_token as string).split('.');
    expect(parts).toHaveLength(3);
    const header = decodeSegment(parts[0]!);
    expect(header.alg).toBe('HS256');
    const payload = decodeSegment(parts[1]!);
    expect(payload).toMatchObject({ entity_id: merchant.credentials.merchant_id, client_id });
    for (const claim of ['entity_id', 'short_entity_id', 'parent_entity_id', 'client_id', 'api_version', 'bus_type']) {
      expect(typeof payload[claim], claim).toBe('string');
    }
    expect(payload.short_entity_id).not.toBe('');
    expect(payload.api_version).not.toBe('');
    expect(payload.exp).toBe(noBody.body.expired_at);

    // The token works.
    const list = await getWith(`Bearer ${noBody.body.auth_token}`);
    expect(list.status, list.text).toBe(200);
  });

  it('refuses an unknown client id or a wrong api key with 400', async () => {
    const { client_id, api_key } = merchant.credentials.uqpay;
    for (const headers of <Array<Record<string, string>>>[
      { 'x-client-id': 'no-such-client-id', 'x-api-key': api_key },
      { 'x-api-key': api_key },
      { 'x-client-id': '', 'x-api-key': api_key },
    ]) {
      const r = await tokenRequest({ 'Content-Type': 'application/json', ...headers });
      expect(r.status, r.text).toBe(400);
      expect(r.body.message).toBe('Invalid client id');
      expectEnvelope(r, 400, r.body.type);
    }
    for (const headers of <Array<Record<string, string>>>[
      { 'x-client-id': client_id, 'x-api-key': 'wrong-key' },
      { 'x-client-id': client_id, 'x-api-key': api_key + 'x' },
      { 'x-client-id': client_id },
    ]) {
      const r = await tokenRequest({ 'Content-Type': 'application/json', ...headers });
      expect(r.status, r.text).toBe(400);
      expect(r.body.auth_token).toBeUndefined();
      expect(typeof r.body.message).toBe('string');
      expect(typeof r.body.code).toBe('string');
    }
    // Another merchant's api key does not open this merchant.
    const crossed = await tokenRequest({ 'Content-Type': 'application/json', 'x-client-id': client_id, 'x-api-key': other.credentials.uqpay.api_key });
    expect(crossed.status).toBe(400);
    expect(crossed.body.auth_token).toBeUndefined();
  });

  it('answers a missing or garbled x-auth-token with 401 "invalid auth token format"', async () => {
    for (const value of [undefined, '', 'Bearer', 'Bearer ', merchant.token, `Token ${merchant.token}`, 'Bearer not-a-jwt', 'Bearer a b', 'Bearer a.b']) {
      const r = await getWith(value);
      expectEnvelope(r, 401, 'unauthorized_error');
      expect(r.body.message, `x-auth-token: ${String(value)}`).toBe('invalid auth token format');
    }
    // Authorization instead of x-auth-token is not how UQPAY works.
    const r = await fetch(`${tp.baseUrl}/api/v2/payment_intents`, { headers: { Authorization: `Bearer ${merchant.token}`, 'Content-Type': 'application/json' } });
    expect(r.status).toBe(401);
    // Nothing was created by any of these.
    expect(await intentCount(merchant)).toBe(0);
  });

  it('refuses a tampered token with 401 and creates nothing', async () => {
    const victim = merchant;
    const attacker = other;
    const attackerBefore = await intentCount(attacker);
    const [h, p, s] = attacker.token.split('.') as [string, string, string];
    const payload = decodeSegment(p);
    const forgedPayload = Buffer.from(JSON.stringify({ ...payload, entity_id: victim.credentials.merchant_id })).toString('base64url');
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${forgedPayload}.`;
    const wrongKey = `${h}.${forgedPayload}.${createHmac('sha256', 'guessed-secret').update(`${h}.${forgedPayload}`).digest('base64url')}`;
    const before = await intentCount(victim);
    for (const token of [`${h}.${forgedPayload}.${s}`, `${h}.${p}.${flipped}`, none, wrongKey]) {
      const r = await getWith(`Bearer ${token}`);
      expectEnvelope(r, 401, 'unauthorized_error');
      const create = await fetch(`${tp.baseUrl}/api/v2/payment_intents/create`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-auth-token': `Bearer ${token}`, 'x-idempotency-key': randomUUID() },
        body: JSON.stringify(intentBody()),
      });
      expect(create.status).toBe(401);
    }
    expect(await intentCount(victim)).toBe(before);
    expect(await intentCount(attacker)).toBe(attackerBefore);
  });

  it('checks x-client-id against the token, and falls back to the token when it is absent', async () => {
    const mismatch = await merchant.get('/v2/payment_intents', { 'x-client-id': 'someone-else' });
    expectEnvelope(mismatch, 401, 'unauthorized_error');
    // Not every SDK sends x-client-id on confirm.
    const created = await merchant.post('/v2/payment_intents/create', intentBody());
    expect(created.status).toBe(200);
    const r = await fetch(`${tp.baseUrl}/api/v2/payment_intents/${created.body.payment_intent_id}/confirm`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-auth-token': `Bearer ${merchant.token}`, 'x-idempotency-key': randomUUID() },
      body: JSON.stringify({ payment_method: seedCard() }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).intent_status).toBe('SUCCEEDED');
  });

  it('x-on-behalf-of: empty means the master account, a sub-account acts for it, an unknown one is refused', async () => {
    const master = merchant;
    const subCreds = await tp.platform.merchants.create({ name: 'Sub Account', parentId: master.credentials.merchant_id });
    const stranger = other.credentials;
    const masterBefore = await intentCount(master);

    // Seed 002 sends `x-on-behalf-of;` (curl: the header with an empty value), plus Accept.
    const seedHeaders = { 'x-on-behalf-of': '', Accept: 'application/json' };
    const created = await master.post('/v2/payment_intents/create', intentBody({ amount: '0.01' }), seedHeaders);
    expect(created.status, created.text).toBe(200);
    expect(await intentCount(master)).toBe(masterBefore + 1);
    const cancelled = await master.post(`/v2/payment_intents/${created.body.payment_intent_id}/cancel`, { cancellation_reason: 'requested_by_customer' }, seedHeaders);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ intent_status: 'CANCELLED', cancellation_reason: 'requested_by_customer' });
    const blank = await master.get(`/v2/payment_intents/${created.body.payment_intent_id}`, { 'x-on-behalf-of': '   ' });
    expect(blank.status).toBe(200);

    // On behalf of the sub-account: the intent is the sub-account's, not the master's.
    const onBehalf = { 'x-on-behalf-of': subCreds.merchant_id };
    const subIntent = await master.post('/v2/payment_intents/create', { ...intentBody(), payment_method: seedCard() }, onBehalf);
    expect(subIntent.status, subIntent.text).toBe(200);
    expect(subIntent.body.intent_status).toBe('SUCCEEDED');
    expect(await intentCount(master)).toBe(masterBefore + 1);
    expect(await intentCount(master, onBehalf)).toBe(1);
    const own = await master.get(`/v2/payment_intents/${subIntent.body.payment_intent_id}`);
    expect(own.status).toBe(400);
    expect(own.body.type).toBe('not_found');
    const viaSub = await master.get(`/v2/payment_intents/${subIntent.body.payment_intent_id}`, onBehalf);
    expect(viaSub.status).toBe(200);
    // The sub-account's own credentials see it too.
    const sub = new UqpayClient(tp.baseUrl, subCreds);
    await sub.authenticate();
    expect(await intentCount(sub)).toBe(1);
    const subPayload = decodeSegment(sub.token.split('.')[1]!);
    expect(subPayload.parent_entity_id).toBe(master.credentials.merchant_id);

    // Unknown, or not a sub-account of this master: refused, nothing created.
    for (const id of ['M0000000000000000000', stranger.merchant_id, master.credentials.merchant_id + 'x']) {
      const r = await master.post('/v2/payment_intents/create', intentBody(), { 'x-on-behalf-of': id });
      expect(r.status, r.text).toBe(400);
      expect(r.body.code).toBe('sub_account_not_found');
      expect(typeof r.body.type).toBe('string');
      expect(typeof r.body.message).toBe('string');
      const g = await master.get('/v2/payment_intents', { 'x-on-behalf-of': id });
      expect(g.status).toBe(400);
      expect(g.body.code).toBe('sub_account_not_found');
    }
    // A sub-account cannot act on behalf of its master.
    const up = await sub.get('/v2/payment_intents', { 'x-on-behalf-of': master.credentials.merchant_id });
    expect(up.status).toBe(400);
    expect(up.body.code).toBe('sub_account_not_found');
    expect(await intentCount(master)).toBe(masterBefore + 1);
  });

  // Last: it moves the platform's clock 31 minutes forward.
  it('expires tokens after 30 minutes of sandbox time with "token has expired"; a new token works', async () => {
    const used = merchant.token; // verified before
    const ok = await getWith(`Bearer ${used}`);
    expect(ok.status).toBe(200);
    const fresh = new UqpayClient(tp.baseUrl, other.credentials);
    await fresh.authenticate(); // a token never presented before the clock moves
    const advanced = await simPost(tp.baseUrl, '/clock/advance', { seconds: 1860 });
    expect(advanced.status).toBe(200);

    for (const [client, token] of [[merchant, used], [fresh, fresh.token]] as const) {
      const r = await client.get('/v2/payment_intents');
      expectEnvelope(r, 401, 'unauthorized_error');
      expect(r.body.message).toContain('token has expired');
      const post = await client.post('/v2/payment_intents/create', intentBody());
      expect(post.status).toBe(401);
      expect(post.body.message).toContain('token has expired');
      expect(client.token).toBe(token);
    }

    // What the SDKs do on that message: fetch a new token and retry.
    await merchant.authenticate();
    expect(merchant.token).not.toBe(used);
    const again = await merchant.get('/v2/payment_intents');
    expect(again.status).toBe(200);
    const payload = decodeSegment(merchant.token.split('.')[1]!);
    expect(Math.abs(payload.exp - (tp.platform.clock.now() / 1000 + 1800))).toBeLessThanOrEqual(5);
  });
});
