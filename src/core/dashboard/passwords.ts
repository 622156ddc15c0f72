/**
 * Dashboard passwords: scrypt with a salt of its own per user, the cost
 * parameters stored with the hash (so they can be raised later without
 * locking anyone out), compared in constant time.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

/**
 * N = 2^15, r = 8, p = 1: 32 MiB, twice Node's default cost; ~0.1 s on an idle core here (0.7 s with
 * both cores busy). It runs off the event loop. Stored with each hash, so it can be raised later.
 */
const COST = { N: 32_768, r: 8, p: 1 };
const KEY_LENGTH = 32;
const maxmem = (o: { N: number; r: number }) => 256 * o.N * o.r;

/** "scrypt$N$r$p$salt$key", salt and key base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...COST, maxmem: maxmem(COST) });
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { ...cost, maxmem: maxmem(cost) });
  return timingSafeEqual(actual, expected);
}

const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'; // no look-alikes (0/O, 1/l/I)

/** 22 characters from 56: about 128 bits, typed from a printout without confusion. */
export function generatePassword(length = 22): string {
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % PASSWORD_ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
    }
  }
  return out;
}
