/** Merchants and the credentials each dialect authenticates them with. */
import { createHash, createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../secret-box.ts';
import { MerchantMemo } from './memo.ts';

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
  /**
   * Writes a credential or webhook change in one unit (secrets in plain text:
   * the repository seals them). With `once`, the change is made only if no
   * change carried that key before ('repeated' then, nothing written): a
   * double-submitted form rotates once. 'not_found' when there is no such merchant.
   */
  update(id: string, change: MerchantChange, once?: { key: string; at: number }): Promise<'updated' | 'repeated' | 'not_found'>;
  count(): Promise<number>;
  /** The ids of the merchant's sub-merchants (one level: a sub-merchant has none of its own). */
  subMerchantIds(parentId: string): Promise<string[]>;
}

/** The fields a credential rotation or a webhook change writes. */
export type MerchantChange = Partial<{
  webhookUrl: string | null;
  uqpayApiKeyHash: string;
  uqpayWebhookSecret: string;
  qfpayClientKey: string;
  alphapayMerchantPublicKey: string;
  alphapayPlatformKeys: { privateKey: string; publicKey: string };
  /** Sealed already, as the merchant row carries it. */
  alphapayCredentialCodeSealed: string;
}>;

/** What each rotation shows once, by the credential it rotates. */
export interface RotatedCredentials {
  'uqpay-api-key': { api_key: string };
  'uqpay-webhook-secret': { webhook_secret: string };
  'qfpay-client-key': { client_key: string };
  'alphapay-keys': { merchant_private_key: string; platform_public_key: string };
  'alphapay-credential-code': { credential_code: string };
}

export type CredentialKind = keyof RotatedCredentials;

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

/**
 * Which api key a UQPAY access token was issued for: carried in the token, so
 * that rotating the key ends the tokens issued with the old one. Derived from
 * the key's hash (not the hash itself): it tells nothing about the key.
 */
export const uqpayKeyRef = (apiKeyHash: string): string => createHash('sha256').update(`uqpay-token-key:${apiKeyHash}`).digest('base64url').slice(0, 16);

const newWebhookSecret = () => `whsec_${token(32)}`;
const newQfpayKey = () => token(32, '0123456789ABCDEF');
const newCredentialCode = () => token(32);

export function apiKeyMatches(merchant: Merchant, apiKey: string): boolean {
  const a = Buffer.from(merchant.uqpay.apiKeyHash, 'hex');
  const b = Buffer.from(hashApiKey(apiKey), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What each authenticated request checks of its merchant: active, and which UQPAY api key is current. */
export interface MerchantAccess {
  active: boolean;
  uqpayKeyRef: string | null;
}

export class MerchantService {
  /** Every memo of this node, each forgetting a merchant this service changes. */
  private readonly memos: Array<MerchantMemo<unknown>> = [];
  private readonly access: MerchantMemo<MerchantAccess>;

  constructor(
    private readonly repo: MerchantRepository,
    private readonly deps: { now: () => number; newId: () => string; rsaKeyPair: () => KeyPair; vault: SecretBox },
  ) {
    this.access = this.remember(async (id) => {
      const merchant = await this.repo.byId(id);
      return { active: merchant !== null && merchant.disabledAt === null, uqpayKeyRef: merchant ? uqpayKeyRef(merchant.uqpay.apiKeyHash) : null };
    });
  }

  /** A per-merchant memo of `load` that this service keeps true: see MerchantMemo. */
  remember<T>(load?: (merchantId: string) => Promise<T>): MerchantMemo<T> {
    const memo = new MerchantMemo(load);
    this.memos.push(memo as MerchantMemo<unknown>);
    return memo;
  }

  private changed(merchantIds: string[]): void {
    for (const memo of this.memos) memo.forget(merchantIds);
  }

  async create(input: { name: string; webhookUrl?: string | null; parentId?: string | null }): Promise<IssuedCredentials> {
    const name = input.name.trim();
    if (!name) throw new Error('a merchant needs a name');
    if (input.webhookUrl) new URL(input.webhookUrl); // throws on a malformed URL
    const apiKey = token(40);
    const merchantKeys = this.deps.rsaKeyPair();
    const platformKeys = this.deps.rsaKeyPair();
    const credentialCode = newCredentialCode();
    const merchant: Merchant = {
      id: this.deps.newId(),
      name,
      parentId: input.parentId ?? null,
      webhookUrl: input.webhookUrl ?? null,
      uqpay: { clientId: token(22), apiKeyHash: hashApiKey(apiKey), webhookSecret: newWebhookSecret() },
      alphapay: {
        merchantCode: token(6, 'ABCDEFGHJKLMNPQRSTUVWXYZ'),
        merchantPublicKey: merchantKeys.publicKeySpkiBase64,
        platformPrivateKey: platformKeys.privateKeyPkcs8Base64,
        platformPublicKey: platformKeys.publicKeySpkiBase64,
        credentialCodeSealed: this.deps.vault.seal(credentialCode),
      },
      qfpay: { appCode: newQfpayKey(), clientKey: newQfpayKey() },
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
    this.changed([id, ...disabled]);
    return disabled;
  }

  /** Whether the merchant exists and is not disabled, and which UQPAY api key is current (uqpayKeyRef): checked on every authenticated request, so remembered for ACTIVE_CHECK_TTL_MS. */
  accessOf(id: string): Promise<MerchantAccess> {
    return this.access.get(id);
  }

  /**
   * Rotates one credential: the new secret is returned once (the platform
   * keeps only what it needs to verify or sign), and the old one stops
   * working at once on this node, within ACTIVE_CHECK_TTL_MS on the others.
   * `once` (a form's one-time key): a repeat of the same rotation changes
   * nothing and returns null.
   */
  async rotate<K extends CredentialKind>(merchantId: string, kind: K, once?: string): Promise<RotatedCredentials[K] | null> {
    const { change, shown } = this.newCredential(kind) as { change: MerchantChange; shown: RotatedCredentials[K] };
    const result = await this.repo.update(merchantId, change, this.onceKey(once));
    if (result === 'not_found') throw new Error(`merchant ${merchantId} not found`);
    if (result === 'repeated') return null;
    this.changed([merchantId]);
    return shown;
  }

  private onceKey(key: string | undefined) {
    if (key === undefined) return undefined;
    if (!/^[\w-]{8,64}$/.test(key)) throw new Error('the form key is not valid');
    return { key, at: this.deps.now() };
  }

  private newCredential(kind: CredentialKind): { change: MerchantChange; shown: RotatedCredentials[CredentialKind] } {
    switch (kind) {
      case 'uqpay-api-key': {
        const apiKey = token(40);
        return { change: { uqpayApiKeyHash: hashApiKey(apiKey) }, shown: { api_key: apiKey } };
      }
      case 'uqpay-webhook-secret': {
        const secret = newWebhookSecret();
        return { change: { uqpayWebhookSecret: secret }, shown: { webhook_secret: secret } };
      }
      case 'qfpay-client-key': {
        const key = newQfpayKey();
        return { change: { qfpayClientKey: key }, shown: { client_key: key } };
      }
      case 'alphapay-keys': {
        // Both pairs anew: the merchant signs with the new private key, and verifies polypay's answers with the new platform public key.
        const merchantKeys = this.deps.rsaKeyPair();
        const platformKeys = this.deps.rsaKeyPair();
        return {
          change: {
            alphapayMerchantPublicKey: merchantKeys.publicKeySpkiBase64,
            alphapayPlatformKeys: { privateKey: platformKeys.privateKeyPkcs8Base64, publicKey: platformKeys.publicKeySpkiBase64 },
          },
          shown: { merchant_private_key: merchantKeys.privateKeyPkcs8Base64, platform_public_key: platformKeys.publicKeySpkiBase64 },
        };
      }
      case 'alphapay-credential-code': {
        const code = newCredentialCode();
        return { change: { alphapayCredentialCodeSealed: this.deps.vault.seal(code) }, shown: { credential_code: code } };
      }
    }
  }

  /**
   * Sets (or, with null, removes) the URL the merchant's webhooks and
   * notifications go to: events recorded from now on go there; deliveries
   * already planned keep the URL they were planned with. `once` as for rotate.
   */
  async setWebhookUrl(merchantId: string, url: string | null, once?: string): Promise<boolean> {
    const result = await this.repo.update(merchantId, { webhookUrl: url }, this.onceKey(once));
    if (result === 'not_found') throw new Error(`merchant ${merchantId} not found`);
    if (result === 'updated') this.changed([merchantId]);
    return result === 'updated';
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
    this.changed([merchantId]);
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
