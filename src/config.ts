/** One typed configuration, from the environment (and CLI flags layered on top by the caller). */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { privateDir, privateFiles } from './store/private-files.ts';
import { fxOverrideProblem } from './network/sim/fx-rates.ts';

/** Configuration that cannot be used, named by the variable or flag it came from. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
import { parseRateLimits, type RateLimit } from './http/rate-limits.ts';

export interface Config {
  host: string;
  port: number;
  /** Where the embedded database, generated keys and demo credentials live. */
  dataDir: string;
  /** postgres://... to use PostgreSQL instead of the embedded SQLite file. */
  databaseUrl: string | undefined;
  /** sandbox: simulators, /sim/v1 and the adjustable clock are on. */
  mode: 'sandbox' | 'live';
  /** Base URL shoppers' browsers reach (hosted pages); defaults to http://host:port. */
  publicBaseUrl: string | undefined;
  /** AES-256-GCM key for card data at rest. */
  encryptionKey: Buffer;
  /** HS256 key for UQPAY access tokens. */
  jwtSecret: Buffer;
  logLevel: string;
  logRequests: boolean;
  /** Sandbox FX rates over the defaults, e.g. {"SGD/CNY": "5.30"} (POLYPAY_FX_RATES as JSON). */
  fxRates: Record<string, string>;
  /** Requests served at once at most; more are refused with 503 and Retry-After (POLYPAY_MAX_IN_FLIGHT, 0 for no limit). */
  maxInFlight: number;
  /** Per-merchant request limits on each node (POLYPAY_RATE_LIMIT, e.g. "100/1s,400/1m"; "off" for none). */
  rateLimits: RateLimit[];
}

/** Above what one node serves (about 2,500 payments a second measured): by default it only stops a runaway client. */
export const DEFAULT_RATE_LIMIT = '5000/1s';
export const DEFAULT_MAX_IN_FLIGHT = 256;

function key(envValue: string | undefined, name: string): Buffer | undefined {
  if (!envValue) return undefined;
  const buf = /^[0-9a-fA-F]{64}$/.test(envValue) ? Buffer.from(envValue, 'hex') : Buffer.from(envValue, 'base64');
  if (buf.length !== 32) throw new ConfigError(`${name} must be 32 bytes, hex or base64`);
  return buf;
}

/** Keys not given in the environment are generated once into the data dir, readable by the owner only. */
function dataDirKeys(dataDir: string): { encryptionKey: Buffer; jwtSecret: Buffer } {
  privateDir(dataDir);
  const file = path.join(dataDir, 'keys.json');
  if (!existsSync(file)) {
    const keys = { encryption_key: randomBytes(32).toString('hex'), jwt_secret: randomBytes(32).toString('hex') };
    try {
      writeFileSync(file, JSON.stringify(keys), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process won the race
    }
  }
  privateFiles(file);
  const k = JSON.parse(readFileSync(file, 'utf8')) as { encryption_key: string; jwt_secret: string };
  return { encryptionKey: Buffer.from(k.encryption_key, 'hex'), jwtSecret: Buffer.from(k.jwt_secret, 'hex') };
}

/** POLYPAY_FX_RATES: a JSON object of pairs to decimal strings, {"SGD/CNY": "5.30"}. */
function fxRatesFrom(text: string | undefined): Record<string, string> {
  if (!text) return {};
  const usage = 'POLYPAY_FX_RATES must be a JSON object like {"SGD/CNY": "5.30"}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${usage}; it is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(usage);
  for (const [pair, rate] of Object.entries(parsed)) {
    const problem = fxOverrideProblem(pair, rate);
    if (problem) throw new ConfigError(`POLYPAY_FX_RATES: ${problem}`);
  }
  return parsed as Record<string, string>;
}

/** DATABASE_URL selects PostgreSQL; anything else there would silently fall back to SQLite. */
function databaseUrlFrom(url: string | undefined): string | undefined {
  if (url && !/^postgres(ql)?:\/\/./.test(url)) throw new ConfigError('DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite database)');
  return url || undefined;
}

function count(envValue: string | undefined, name: string, fallback: number): number {
  if (envValue === undefined || envValue.trim() === '') return fallback;
  const n = Number(envValue);
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number, 0 or more`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const dataDir = path.resolve(overrides.dataDir ?? env.POLYPAY_DATA_DIR ?? './data');
  const port = overrides.port ?? Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('PORT must be a port number (0-65535)');
  const mode = overrides.mode ?? (env.POLYPAY_MODE === 'live' ? 'live' : 'sandbox');
  const envEnc = key(env.POLYPAY_ENCRYPTION_KEY, 'POLYPAY_ENCRYPTION_KEY');
  const envJwt = key(env.POLYPAY_JWT_SECRET, 'POLYPAY_JWT_SECRET');
  const databaseUrl = overrides.databaseUrl ?? databaseUrlFrom(env.DATABASE_URL);
  const fxRates = overrides.fxRates ?? fxRatesFrom(env.POLYPAY_FX_RATES);
  const generated = envEnc && envJwt ? null : dataDirKeys(dataDir);
  return {
    host: overrides.host ?? env.HOST ?? '127.0.0.1',
    port,
    dataDir,
    databaseUrl,
    mode,
    publicBaseUrl: overrides.publicBaseUrl ?? (env.POLYPAY_BASE_URL || undefined),
    encryptionKey: overrides.encryptionKey ?? envEnc ?? generated!.encryptionKey,
    jwtSecret: overrides.jwtSecret ?? envJwt ?? generated!.jwtSecret,
    logLevel: overrides.logLevel ?? env.LOG_LEVEL ?? 'info',
    logRequests: overrides.logRequests ?? env.POLYPAY_LOG_REQUESTS === '1',
    fxRates,
    maxInFlight: overrides.maxInFlight ?? count(env.POLYPAY_MAX_IN_FLIGHT, 'POLYPAY_MAX_IN_FLIGHT', DEFAULT_MAX_IN_FLIGHT),
    rateLimits: overrides.rateLimits ?? parseRateLimits(env.POLYPAY_RATE_LIMIT ?? DEFAULT_RATE_LIMIT),
  };
}
