import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { loggerOptions, scrub } from '../../src/http/logging.ts';

describe('log redaction', () => {
  it('masks card numbers in free text', () => {
    expect(scrub('card 5346930100108117 declined')).toBe('card 534693******8117 declined');
    expect(scrub('order 12345 ok')).toBe('order 12345 ok');
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
