import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { AuthorizationRequest, CardDetails } from '../../src/core/ports.ts';
import { money } from '../../src/core/money.ts';
import {
  bin, cvcValid, detectNetwork, fingerprint, isExpired, last4, luhnValid, maskPan,
} from '../../src/core/payments/card.ts';
import { SIM_NETWORK_RETENTION_MS, SimCardNetwork, type SimCardNetworkOptions } from '../../src/network/sim/card-network.ts';
import { SimThreeDSServer } from '../../src/network/sim/three-ds-server.ts';
import { TEST_CARDS } from '../../src/network/sim/test-cards.ts';
import { simCardNetworkRecords } from '../../src/store/sim-card-network-repo.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createPgDatabase, describeEachBackend } from '../support/platform.ts';

const card = (number: string, cvc: string | null = '123'): CardDetails => ({
  number, expiryMonth: 12, expiryYear: 2099, ...(cvc !== null && { cvc }),
});

let seq = 0;
const request = (number: string, extra: Partial<AuthorizationRequest> = {}): AuthorizationRequest => ({
  reference: `PA${++seq}`, merchantId: 'M1', card: card(number), amount: money(898, 'SGD'), ...extra,
});

const passedThreeDS = { version: '2.2.0', eci: '05', cavv: 'x', dsTransactionId: 'd', status: 'Y' as const };

describe('card validation', () => {
  it('checks Luhn', () => {
    for (const n of ['4242424242424242', '5346930100108117', '378282246310005', '6200000000000005', '36227206271667']) {
      expect(luhnValid(n)).toBe(true);
    }
    for (const n of ['4242424242424241', '5346930100108118', '1234567890123456', '', '4242', '42424242424242a2', '4'.repeat(20)]) {
      expect(luhnValid(n)).toBe(false);
    }
  });

  it('detects the network by BIN', () => {
    expect(detectNetwork('4242424242424242')).toBe('visa');
    expect(detectNetwork('5346930100108117')).toBe('mastercard');
    expect(detectNetwork('2221000000000009')).toBe('mastercard');
    expect(detectNetwork('2720990000000007')).toBe('mastercard');
    expect(detectNetwork('378282246310005')).toBe('amex');
    expect(detectNetwork('340000000000009')).toBe('amex');
    expect(detectNetwork('6200000000000005')).toBe('unionpay');
    expect(detectNetwork('3566002020360505')).toBe('jcb');
    expect(detectNetwork('6011111111111117')).toBe('discover');
    expect(detectNetwork('6500000000000002')).toBe('discover');
    expect(detectNetwork('36227206271667')).toBe('diners');
    expect(detectNetwork('30569309025904')).toBe('diners');
    expect(detectNetwork('9999999999999995')).toBe('unknown');
    expect(detectNetwork('12')).toBe('unknown');
  });

  it('masks, cuts and fingerprints the PAN', () => {
    expect(maskPan('5346930100108117')).toBe('534693******8117');
    expect(maskPan('378282246310005')).toBe('378282*****0005');
    expect(bin('5346930100108117')).toBe('534693');
    expect(last4('5346930100108117')).toBe('8117');
    const a = fingerprint('4242424242424242', 'key-1');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint('4242424242424242', 'key-1')).toBe(a);
    expect(fingerprint('4242424242424242', 'key-2')).not.toBe(a);
    expect(fingerprint('5555555555554444', 'key-1')).not.toBe(a);
  });

  it('checks expiry and CVC format', () => {
    const now = Date.UTC(2026, 10, 21); // 2026-11-21
    expect(isExpired(11, 2026, now)).toBe(false);
    expect(isExpired(12, 2026, now)).toBe(false);
    expect(isExpired(10, 2026, now)).toBe(true);
    expect(isExpired(11, 2026, Date.UTC(2026, 11, 1))).toBe(true);
    expect(isExpired(11, 2026, Date.UTC(2026, 11, 1) - 1)).toBe(false);
    expect(cvcValid('123', 'visa')).toBe(true);
    expect(cvcValid('1234', 'visa')).toBe(false);
    expect(cvcValid('1234', 'amex')).toBe(true);
    expect(cvcValid('123', 'amex')).toBe(false);
    expect(cvcValid('12a', 'mastercard')).toBe(false);
  });
});

describe('test-card table', () => {
  it('holds Luhn-valid numbers whose network matches their BIN, once each', () => {
    expect(new Set(TEST_CARDS.map((c) => c.number)).size).toBe(TEST_CARDS.length);
    for (const c of TEST_CARDS) {
      expect(luhnValid(c.number), c.number).toBe(true);
      expect(detectNetwork(c.number), c.number).toBe(c.network);
      expect(c.outcome === 'declined', c.number).toBe(c.failureCode !== undefined);
    }
  });

  it('is documented in docs/test-cards.md', () => {
    const doc = readFileSync(new URL('../../docs/test-cards.md', import.meta.url), 'utf8');
    for (const c of TEST_CARDS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| ${c.number} |`));
      expect(row, c.number).toBeDefined();
      expect(row).toContain(`| ${c.network} |`);
      expect(row).toContain(c.description);
      if (c.failureCode) expect(row).toContain(c.failureCode);
    }
  });
});

describeEachBackend('SimCardNetwork', (backend) => {
  let store: Store;
  let drop: (() => Promise<void>) | null = null;
  let dir: string | null = null;
  beforeAll(async () => {
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      drop = db.drop;
      store = await openStore({ databaseUrl: db.url, dataDir: os.tmpdir() });
    } else {
      dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-sim-'));
      store = await openStore({ dataDir: dir });
    }
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  /** A network keeping its records in this backend's database. */
  const network = (options: Omit<SimCardNetworkOptions, 'records'> = {}) => new SimCardNetwork({ records: simCardNetworkRecords(store), ...options });

  const expected: Record<string, string> = {
    '5346930100108117': 'approved',
    '4242424242424242': 'approved',
    '5555555555554444': 'approved',
    '378282246310005': 'approved',
    '6200000000000005': 'approved',
    '4000000000000002': 'card_declined',
    '4000000000009995': 'insufficient_funds',
    '4000000000000069': 'expired_card',
    '4000000000000127': 'incorrect_cvc',
    '4000000000000119': 'processing_error',
    '4000002500003155': 'approved', // after 3DS
    '4000000000003220': 'approved',
    '4111111111111111': 'approved', // not in the table
  };

  it('answers every table entry as documented', async () => {
    const net = network();
    for (const c of TEST_CARDS) {
      const r = await net.authorize(request(c.number, { threeDS: passedThreeDS }));
      expect(r.network).toBe(c.network);
      if (c.issuerDelayMs !== undefined) {
        expect(r.outcome, c.number).toBe('pending');
      } else if (c.outcome === 'approved') {
        expect(r.outcome, c.number).toBe('approved');
        if (r.outcome === 'approved') expect(r.fundingType).toBe(c.fundingType);
      } else {
        expect(r, c.number).toEqual({ outcome: 'declined', failureCode: c.failureCode, network: c.network, ...(c.adviceCode && { adviceCode: c.adviceCode }) });
      }
    }
    for (const [number, outcome] of Object.entries(expected)) {
      const r = await net.authorize(request(number, { threeDS: passedThreeDS }));
      expect(r.outcome === 'declined' ? r.failureCode : r.outcome, number).toBe(outcome);
    }
  });

  it('answers a slow issuer\'s authorization as pending until its delay has passed on the given clock, then as approved', async () => {
    let now = 1_000_000;
    const net = network({ now: () => now });
    const req = request('4000000000000267');
    expect(await net.authorize(req)).toEqual({ outcome: 'pending', network: 'visa' });
    now += 9_999;
    expect(await net.lookup(req.reference)).toEqual({ outcome: 'pending', network: 'visa' });
    await expect(net.capture(req.reference, req.amount)).rejects.toThrow(/pending/);
    now += 1;
    expect((await net.lookup(req.reference))!.outcome).toBe('approved');
    // The same reference again gets the same answer, not a new wait.
    expect((await net.authorize(req)).outcome).toBe('approved');
    await net.capture(req.reference, req.amount);
  });

  it('gives a generic decline the advice do_not_try_again', async () => {
    const r = await network().authorize(request('4000000000000002'));
    expect(r).toEqual({ outcome: 'declined', failureCode: 'card_declined', adviceCode: 'do_not_try_again', network: 'visa' });
  });

  it('fills approval codes and results', async () => {
    const net = network();
    const r = await net.authorize(request('5346930100108117'));
    expect(r).toMatchObject({ outcome: 'approved', cvcResult: 'M', avsResult: 'Y', network: 'mastercard', fundingType: 'credit' });
    if (r.outcome !== 'approved') throw new Error('expected approval');
    expect(r.authCode).toMatch(/^[A-Z0-9]{6}$/);
    expect(r.rrn).toMatch(/^\d{12}$/);
    expect(r.arn).toMatch(/^\d{23}$/);
    const noCvc = await net.authorize({ ...request('4242424242424242'), card: card('4242424242424242', null) });
    expect(noCvc).toMatchObject({ outcome: 'approved', cvcResult: 'P' });
    if (noCvc.outcome === 'approved') expect(noCvc.rrn).not.toBe(r.rrn);
  });

  it('approves any other Luhn-valid number and declines a number failing Luhn', async () => {
    const net = network();
    expect(await net.authorize(request('4111111111111111'))).toMatchObject({ outcome: 'approved', network: 'visa' });
    expect(await net.authorize(request('4111111111111112'))).toMatchObject({ outcome: 'declined', failureCode: 'incorrect_number' });
  });

  it('declines the challenge card without 3DS and any card after failed 3DS', async () => {
    const net = network();
    expect(await net.authorize(request('4000002500003155'))).toMatchObject({ outcome: 'declined', failureCode: 'authentication_required' });
    expect(await net.authorize(request('4000002500003155', { threeDS: passedThreeDS }))).toMatchObject({ outcome: 'approved' });
    const failed = { ...passedThreeDS, status: 'N' as const, eci: '07' };
    expect(await net.authorize(request('4242424242424242', { threeDS: failed }))).toMatchObject({ outcome: 'declined', failureCode: 'authentication_failed' });
  });

  it('takes extra cards from its options', async () => {
    const net = network({
      cards: [{ number: '4242424242424242', network: 'visa', brand: 'Visa', fundingType: 'prepaid', outcome: 'declined', failureCode: 'lost_card', description: 'test' }],
    });
    expect(await net.authorize(request('4242424242424242'))).toEqual({ outcome: 'declined', failureCode: 'lost_card', network: 'visa' });
    expect(await net.authorize(request('5555555555554444'))).toMatchObject({ outcome: 'approved' });
  });

  it('remembers authorizations by reference', async () => {
    const net = network();
    const req = request('5346930100108117');
    const r = await net.authorize(req);
    expect(await net.lookup(req.reference)).toEqual(r);
    expect(await net.authorize(req)).toEqual(r); // a retry gets the same answer
    const declined = request('4000000000009995');
    expect(await net.lookup(declined.reference)).toBeNull();
    await net.authorize(declined);
    expect(await net.lookup(declined.reference)).toMatchObject({ outcome: 'declined', failureCode: 'insufficient_funds' });
    expect(await net.lookup('PA-never-seen')).toBeNull();
  });

  it('captures up to the authorized amount', async () => {
    const net = network();
    const req = request('4242424242424242', { amount: money(1000, 'SGD') });
    await net.authorize(req);
    await expect(net.capture(req.reference, money(1001, 'SGD'))).rejects.toThrow();
    await expect(net.capture(req.reference, money(1000, 'USD'))).rejects.toThrow();
    // No record (purged after the retention window): the platform's records are trusted.
    await expect(net.capture('authorized-elsewhere', money(1, 'SGD'))).resolves.toBeUndefined();
    await expect(net.refund('authorized-elsewhere', 'RF1', money(1, 'SGD'))).resolves.toBeUndefined();
    await net.capture(req.reference, money(600, 'SGD'));
    await net.capture(req.reference, money(600, 'SGD')); // retried capture is a no-op
    await expect(net.capture(req.reference, money(400, 'SGD'))).rejects.toThrow();
    await expect(net.void(req.reference)).rejects.toThrow();
  });

  it('refunds up to the captured amount, once per refund id', async () => {
    const net = network();
    const req = request('4242424242424242', { amount: money(1000, 'SGD') });
    await net.authorize(req);
    await net.capture(req.reference, money(800, 'SGD'));
    await net.refund(req.reference, 'R1', money(500, 'SGD'));
    await net.refund(req.reference, 'R1', money(500, 'SGD')); // retried refund is a no-op
    await expect(net.refund(req.reference, 'R2', money(301, 'SGD'))).rejects.toThrow();
    await net.refund(req.reference, 'R2', money(300, 'SGD'));
    await expect(net.refund(req.reference, 'R3', money(1, 'SGD'))).rejects.toThrow();
  });

  it('refunds an auto-captured authorization up to its amount', async () => {
    const net = network();
    const req = request('4242424242424242', { amount: money(1000, 'SGD') });
    await net.authorize(req);
    await expect(net.refund(req.reference, 'R1', money(1001, 'SGD'))).rejects.toThrow();
    await net.refund(req.reference, 'R1', money(1000, 'SGD'));
  });

  it('voids an uncaptured authorization, after which nothing is captured or refunded', async () => {
    const net = network();
    const req = request('4242424242424242');
    await net.authorize(req);
    await net.void(req.reference);
    await net.void(req.reference);
    await expect(net.capture(req.reference, req.amount)).rejects.toThrow();
    await expect(net.refund(req.reference, 'R1', req.amount)).rejects.toThrow();
    const declined = request('4000000000000002');
    await net.authorize(declined);
    await expect(net.capture(declined.reference, declined.amount)).rejects.toThrow();
    await expect(net.void(declined.reference)).rejects.toThrow();
  });

  it('keeps authorizations in the database: another node, or the process after a restart, knows them', async () => {
    const req = request('5346930100108117', { amount: money(1000, 'SGD') });
    const approved = await network().authorize(req);
    expect(approved.outcome).toBe('approved');
    const elsewhere = network(); // a new instance: nothing of the first one's memory
    expect(await elsewhere.lookup(req.reference)).toEqual(approved);
    expect(await elsewhere.inquire(req.reference)).toEqual(approved);
    expect(await elsewhere.authorize(req)).toEqual(approved); // a retry on another node gets the first answer
    await elsewhere.capture(req.reference, money(600, 'SGD'));
    // The capture is known to the first instance too: over the captured amount is refused.
    await expect(network().refund(req.reference, 'R1', money(601, 'SGD'))).rejects.toThrow(/refundable/);
    await network().refund(req.reference, 'R1', money(600, 'SGD'));
    await expect(elsewhere.refund(req.reference, 'R1', money(500, 'SGD'))).rejects.toThrow(/another amount/);
  });

  it('answers an inquiry about an authorization it never received as never_received, and refuses that authorization when it comes late', async () => {
    const net = network();
    const late = request('4242424242424242');
    expect(await net.inquire(late.reference)).toEqual({ outcome: 'never_received' });
    expect(await network().inquire(late.reference)).toEqual({ outcome: 'never_received' }); // any node, any time after
    expect(await net.authorize(late)).toEqual({ outcome: 'declined', failureCode: 'processing_error', network: 'visa' });
    expect(await net.lookup(late.reference)).toBeNull();
    await expect(net.capture(late.reference, late.amount)).rejects.toThrow(/never received/);
    // An authorization it did receive is answered as given, a slow issuer's as pending until it answers.
    let now = 5_000_000;
    const slow = request('4000000000000267');
    expect((await network({ now: () => now }).authorize(slow)).outcome).toBe('pending');
    expect(await network({ now: () => now }).inquire(slow.reference)).toEqual({ outcome: 'pending', network: 'visa' });
    now += 10_000;
    expect((await network({ now: () => now }).inquire(slow.reference)).outcome).toBe('approved');
  });

  it('purges authorizations older than its retention window of platform time', async () => {
    let now = Date.now() + 30 * 86_400_000;
    const net = network({ now: () => now });
    await net.purge(); // earlier tests' records are past the window by now
    const old = request('4242424242424242');
    await net.authorize(old);
    now += 60_000;
    const young = request('4242424242424242');
    await net.authorize(young);
    now += SIM_NETWORK_RETENTION_MS;
    expect(await net.purge(1)).toBe(1); // batches until nothing is due
    expect(await net.lookup(old.reference)).toBeNull();
    expect((await net.lookup(young.reference))?.outcome).toBe('approved');
    // A capture or refund of a purged authorization is taken on the platform's word.
    await expect(net.refund(old.reference, 'R1', old.amount)).resolves.toBeUndefined();
    now += 60_000;
    expect(await net.purge()).toBe(1);
    expect(await net.lookup(young.reference)).toBeNull();
    expect(await store.read.selectFrom('sim_card_authorizations').select('reference').execute()).toEqual([]);
  });

  it('holds nothing per payment in process memory', async () => {
    const net = network();
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const req = request(i % 3 ? '4242424242424242' : '4000000000009995');
        const r = await net.authorize(req);
        if (r.outcome === 'approved') {
          await net.capture(req.reference, req.amount);
          await net.refund(req.reference, `R${seq}`, money(1, 'SGD'));
        }
        await net.lookup(req.reference);
        await net.inquire(`${req.reference}-lost`);
      }
    };
    await run(10);
    const before = collectionSizes(net);
    await run(60);
    expect(collectionSizes(net)).toEqual(before);
  });
});

/**
 * The size of every Map, Set and array reachable from `root`'s own fields,
 * by path, leaving out its records (they live in the database).
 */
function collectionSizes(root: object): Record<string, number> {
  const sizes: Record<string, number> = {};
  const seen = new Set<unknown>();
  const walk = (value: unknown, where: string): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Map) {
      sizes[where] = value.size;
      for (const [k, v] of value) walk(v, `${where}[${String(k)}]`);
    } else if (value instanceof Set) {
      sizes[where] = value.size;
    } else if (Array.isArray(value)) {
      sizes[where] = value.length;
      value.forEach((v, i) => walk(v, `${where}[${i}]`));
    } else {
      for (const [k, v] of Object.entries(value)) if (k !== 'records') walk(v, `${where}.${k}`);
    }
  };
  walk(root, 'network');
  expect(Object.keys(sizes).length).toBeGreaterThan(0); // the test-card table at least
  return sizes;
}

describe('SimThreeDSServer', () => {
  const server = () => new SimThreeDSServer({ challengeUrl: (id) => `http://localhost/3ds/challenge/${id}` });
  const auth = (s: SimThreeDSServer, number: string, enforce: boolean) =>
    s.authenticate({ reference: `PA${++seq}`, card: card(number), amount: money(898, 'SGD'), enforce });

  it('always challenges the challenge card', async () => {
    const s = server();
    for (const enforce of [false, true]) {
      const d = await auth(s, '4000002500003155', enforce);
      if (d.kind !== 'challenge') throw new Error(`expected a challenge, got ${d.kind}`);
      expect(d.challengeId).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(d.acsUrl).toBe(`http://localhost/3ds/challenge/${d.challengeId}`);
    }
    const a = await auth(s, '4000002500003155', false);
    const b = await auth(s, '4000002500003155', false);
    expect(a.kind === 'challenge' && b.kind === 'challenge' && a.challengeId !== b.challengeId).toBe(true);
  });

  it('authenticates the frictionless card only when enforced', async () => {
    const s = server();
    expect(await auth(s, '4000000000003220', false)).toEqual({ kind: 'not_enrolled' });
    const d = await auth(s, '4000000000003220', true);
    if (d.kind !== 'frictionless') throw new Error(`expected frictionless, got ${d.kind}`);
    expect(d.data).toMatchObject({ version: '2.2.0', eci: '05', status: 'Y' });
    expect(d.data.cavv).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    expect(d.data.dsTransactionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('leaves ordinary cards unenrolled unless enforced, then challenges them', async () => {
    const s = server();
    for (const number of ['4242424242424242', '5346930100108117', '4000000000000002', '4111111111111111']) {
      expect(await auth(s, number, false), number).toEqual({ kind: 'not_enrolled' });
      expect((await auth(s, number, true)).kind, number).toBe('challenge');
    }
  });

  it('returns challenge results per network', async () => {
    const s = server();
    const visa = await auth(s, '4242424242424242', true);
    const mc = await auth(s, '5346930100108117', true);
    if (visa.kind !== 'challenge' || mc.kind !== 'challenge') throw new Error('expected challenges');
    expect(s.challengeResult(visa.challengeId, true, 'visa')).toMatchObject({ version: '2.2.0', eci: '05', status: 'Y' });
    expect(s.challengeResult(visa.challengeId, false, 'visa')).toMatchObject({ eci: '07', status: 'N' });
    expect(s.challengeResult(mc.challengeId, true, 'mastercard')).toMatchObject({ eci: '02', status: 'Y' });
    expect(s.challengeResult(mc.challengeId, false, 'mastercard')).toMatchObject({ eci: '00', status: 'N' });
    const r = s.challengeResult(mc.challengeId, true, 'mastercard');
    expect(r.cavv).toHaveLength(28);
    expect(r.dsTransactionId).not.toBe(s.challengeResult(mc.challengeId, true, 'mastercard').dsTransactionId);
    // No state: a challenge this server never issued (another node's, or from before a restart) gets the same answers.
    expect(server().challengeResult(mc.challengeId, true, 'mastercard')).toMatchObject({ eci: '02', status: 'Y' });
  });

  it('approves the challenge card end to end after a successful challenge', async () => {
    const s = server();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-sim-'));
    const store = await openStore({ dataDir: dir });
    onTestFinished(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const net = new SimCardNetwork({ records: simCardNetworkRecords(store) });
    const d = await auth(s, '4000002500003155', false);
    if (d.kind !== 'challenge') throw new Error('expected a challenge');
    const ok = await net.authorize(request('4000002500003155', { threeDS: s.challengeResult(d.challengeId, true, 'visa') }));
    expect(ok.outcome).toBe('approved');
    const bad = await net.authorize(request('4000002500003155', { threeDS: s.challengeResult(d.challengeId, false, 'visa') }));
    expect(bad).toMatchObject({ outcome: 'declined', failureCode: 'authentication_failed' });
  });
});
