import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { loggableUrl, loggerOptions, scrub } from '../../src/http/logging.ts';

describe('log redaction', () => {
  it('masks card numbers in free text', () => {
    expect(scrub('card 5346930100108117 declined')).toBe('card 534693******8117 declined');
    expect(scrub('order 12345 ok')).toBe('order 12345 ok');
  });

  it('censors secret query parameters and hosted-page tokens in request URLs', () => {
    const url = '/trade/v1/payment?txamt=100&auth_code=28405780461376107912&sign=7DF23008DB9B61DDD751F5A75E3255A9&out_trade_no=A1';
    const logged = loggableUrl(url);
    for (const secret of ['28405780461376107912', '7DF23008DB9B61DDD751F5A75E3255A9']) expect(logged).not.toContain(secret);
    expect(logged).toBe('/trade/v1/payment?txamt=100&auth_code=[REDACTED]&sign=[REDACTED]&out_trade_no=A1');
    expect(loggableUrl('/x?%61uth_code=123456789012')).not.toContain('123456789012');
    expect(loggableUrl('/wallet/pay/Zq3x9_TOKEN-abc?x=1', ['/wallet/pay', '/3ds/challenge'])).toBe('/wallet/pay/[REDACTED]?x=1');
    expect(loggableUrl('/3ds/challenge/abcDEF123', ['/wallet/pay', '/3ds/challenge'])).toBe('/3ds/challenge/[REDACTED]');
    expect(loggableUrl('/api/v2/payment_intents/PI2124310356712865792')).toBe('/api/v2/payment_intents/PI2124310356712865792');
  });

  it('censors tokens, keys, card numbers and CVCs in structured logs', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const options = loggerOptions('info') as object;
    const app = Fastify({ logger: { ...options, stream } });
    app.log.info({ card: { card_number: '4242424242424242', cvc: '123' }, creds: { api_key: 'k-secret', webhook_secret: 'whsec_x' } }, 'payment');
    app.log.error({ err: new Error('declined 4242424242424242') }, 'failed');
    app.log.info({ req: { headers: { 'x-auth-token': 'Bearer abc.def.ghi' } } }, 'request');
    const text = lines.join('');
    for (const secret of ['4242424242424242', '"123"', 'k-secret', 'whsec_x', 'abc.def.ghi']) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
    expect(text).toContain('424242******4242');
    await app.close();
  });
});
