/** Merchants and the credentials each dialect authenticates them with. */
import { createHash, createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../secret-box.ts';

export interface Merchant {
  id: string;
  name: string;
  parentId: string | null;
  webhookUrl: string | null;
  uqpay: { clientId: string; apiKeyHash: string; webhookSecret: string };
  alphapay: {
    merchantCode: string;
    merchantPublicKey: string;
    platformPrivateKey: string;
    platformPublicKey: string;
    /** The v1 credential code, sealed with the platform's secret box; null for merchants made before v1 was served. */
    credentialCodeSealed: string | null;
  };
  qfpay: { appCode: string; clientKey: string };
  createdAt: number;
  /** When it was disabled; a disabled merchant's tokens, app code and sub-merchants no longer work. */
  disabledAt: number | null;
}

/** Secrets shown once, when the merchant is created; the platform keeps only what it needs to verify. */
export interface IssuedCredentials {
  merchant_id: string;
  uqpay: { client_id: string; api_key: string; webhook_secret: string };
  alphapay: { merchant_code: string; merchant_private_key: string; platform_public_key: string; credential_code: string };
  qfpay: { app_code: string; client_key: string };
}

export interface MerchantRepository {
  insert(merchant: Merchant): Promise<void>;
  byId(id: string): Promise<Merchant | null>;
  byUqpayClientId(clientId: string): Promise<Merchant | null>;
  byQfpayAppCode(appCode: string): Promise<Merchant | null>;
  /** Disables the merchant and its sub-merchants in one unit: the ids it disabled now (not those already disabled), or null when there is no such merchant. */
  disable(id: string, at: number): Promise<string[] | null>;
  byAlphapayMerchantCode(code: string): Promise<Merchant | null>;
  /** Replaces the RSA public key AlphaPay requests of the merchant are verified with. */
  setAlphapayMerchantPublicKey(id: string, spkiBase64: string): Promise<boolean>;
  count(): Promise<number>;
  /** The ids of the merchant's sub-merchants (one level: a sub-merchant has none of its own). */
  subMerchantIds(parentId: string): Promise<string[]>;
}

export interface KeyPair {
  privateKeyPkcs8Base64: string;
  publicKeySpkiBase64: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789';

function token(length: number, alphabet = ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

export const hashApiKey = (apiKey: string): string => createHash('sha256').update(apiKey).digest('hex');

export function apiKeyMatches(merchant: Merchant, apiKey: string): boolean {
  const a = Buffer.from(merchant.uqpay.apiKeyHash, 'hex');
  const b = Buffer.from(hashApiKey(apiKey), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * How long a node trusts what it last read of a merchant being active. The
 * node that disables a merchant forgets it at once; other nodes sharing the
 * database notice within this time.
 */
export const ACTIVE_CHECK_TTL_MS = 1000;

export class MerchantService {
  /** Whether a merchant was active, and until when (real time, ms) that answer is trusted. */
  private readonly active = new Map<string, { active: boolean; until: number }>();
  /** Bumped by every disable: a check that read the row before it does not cache what it read. */
  private disables = 0;

  constructor(
    private readonly repo: MerchantRepository,
    private readonly deps: { now: () => number; newId: () => string; rsaKeyPair: () => KeyPair; vault: SecretBox },
  ) {}

  async create(input: { name: string; webhookUrl?: string | null; parentId?: string | null }): Promise<IssuedCredentials> {
    const name = input.name.trim();
    if (!name) throw new Error('a merchant needs a name');
    if (input.webhookUrl) new URL(input.webhookUrl); // throws on a malformed URL
    const apiKey = token(40);
    const merchantKeys = this.deps.rsaKeyPair();
    const platformKeys = this.deps.rsaKeyPair();
    const credentialCode = token(32);
    const merchant: Merchant = {
      id: this.deps.newId(),
      name,
      parentId: input.parentId ?? null,
      webhookUrl: input.webhookUrl ?? null,
      uqpay: { clientId: token(22), apiKeyHash: hashApiKey(apiKey), webhookSecret: `whsec_${token(32)}` },
      alphapay: {
        merchantCode: token(6, 'ABCDEFGHJKLMNPQRSTUVWXYZ'),
        merchantPublicKey: merchantKeys.publicKeySpkiBase64,
        platformPrivateKey: platformKeys.privateKeyPkcs8Base64,
        platformPublicKey: platformKeys.publicKeySpkiBase64,
        credentialCodeSealed: this.deps.vault.seal(credentialCode),
      },
      qfpay: { appCode: token(32, '0123456789ABCDEF'), clientKey: token(32, '0123456789ABCDEF') },
      createdAt: this.deps.now(),
      disabledAt: null,
    };
    await this.repo.insert(merchant);
    return {
      merchant_id: merchant.id,
      uqpay: { client_id: merchant.uqpay.clientId, api_key: apiKey, webhook_secret: merchant.uqpay.webhookSecret },
      alphapay: {
        merchant_code: merchant.alphapay.merchantCode,
        merchant_private_key: merchantKeys.privateKeyPkcs8Base64,
        platform_public_key: platformKeys.publicKeySpkiBase64,
        credential_code: credentialCode,
      },
      qfpay: { app_code: merchant.qfpay.appCode, client_key: merchant.qfpay.clientKey },
    };
  }

  byId(id: string) {
    return this.repo.byId(id);
  }

  byUqpayClientId(clientId: string) {
    return this.repo.byUqpayClientId(clientId);
  }

  /** The merchant a QFPay X-QF-APPCODE header names. */
  byQfpayAppCode(appCode: string) {
    return this.repo.byQfpayAppCode(appCode);
  }

  /**
   * A sub-merchant acts under its parent's credentials: the parent's QFPay
   * app code addresses it with `mchid` = the sub-merchant's id, and UQPAY's
   * x-on-behalf-of names it. One level deep: a sub-merchant has no subs.
   */
  async createSubMerchant(parentId: string, input: { name: string; webhookUrl?: string | null }): Promise<IssuedCredentials> {
    const parent = await this.repo.byId(parentId);
    if (!parent) throw new Error(`merchant ${parentId} not found`);
    if (parent.parentId) throw new Error(`merchant ${parentId} is itself a sub-merchant`);
    if (parent.disabledAt !== null) throw new Error(`merchant ${parentId} is disabled`);
    return this.create({ ...input, parentId });
  }

  count() {
    return this.repo.count();
  }

  subMerchantIds(parentId: string) {
    return this.repo.subMerchantIds(parentId);
  }

  /**
   * Disables a merchant and its sub-merchants: their access tokens stop
   * working at once, they get no new ones, and their QFPay app code is
   * refused. Payments already made stay as they are. Returns the ids
   * disabled now (empty when it already was).
   */
  async disable(id: string): Promise<string[]> {
    const disabled = await this.repo.disable(id, this.deps.now());
    if (disabled === null) throw new Error(`merchant ${id} not found`);
    this.disables++;
    for (const merchantId of [id, ...disabled]) this.active.delete(merchantId);
    return disabled;
  }

  /** Whether the merchant exists and is not disabled: checked on every authenticated request, so cached for ACTIVE_CHECK_TTL_MS. */
  async isActive(id: string): Promise<boolean> {
    const now = performance.now();
    const cached = this.active.get(id);
    if (cached && cached.until > now) return cached.active;
    const disables = this.disables;
    const merchant = await this.repo.byId(id);
    const active = merchant !== null && merchant.disabledAt === null;
    if (disables !== this.disables) return active;
    if (this.active.size >= 10_000) this.active.clear();
    this.active.set(id, { active, until: now + ACTIVE_CHECK_TTL_MS });
    return active;
  }

  /** The merchant an AlphaPay Merchant-Code header (v2) or partner_code (v1) names. */
  byAlphapayMerchantCode(code: string) {
    return this.repo.byAlphapayMerchantCode(code);
  }

  /** The AlphaPay v1 credential code of a merchant, or null when it has none. */
  alphapayCredentialCode(merchant: Merchant): string | null {
    return merchant.alphapay.credentialCodeSealed === null ? null : this.deps.vault.open(merchant.alphapay.credentialCodeSealed);
  }

  /**
   * Registers the merchant's own RSA public key for AlphaPay requests (in
   * place of the generated pair's): PEM or base64 DER (SPKI or PKCS#1), RSA
   * of 2048 bits or more. Returns the key as stored (base64 SPKI).
   */
  async registerAlphapayPublicKey(merchantId: string, key: string): Promise<string> {
    const spki = normalizeRsaPublicKey(key);
    if (!(await this.repo.setAlphapayMerchantPublicKey(merchantId, spki))) throw new Error(`merchant ${merchantId} not found`);
    return spki;
  }
}

/** An RSA public key (PEM, or base64 DER as SPKI or PKCS#1) as base64 SPKI; throws with the reason when it is not one. */
export function normalizeRsaPublicKey(text: string): string {
  const trimmed = text.trim();
  let key;
  try {
    if (trimmed.startsWith('-----BEGIN')) key = createPublicKey(trimmed);
    else {
      const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64');
      try {
        key = createPublicKey({ key: der, format: 'der', type: 'spki' });
      } catch {
        key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
      }
    }
  } catch {
    throw new Error('the public key is not a PEM or base64 DER RSA public key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('the public key must be an RSA key');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new Error(`the RSA key must have at least 2048 bits (it has ${bits})`);
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}
