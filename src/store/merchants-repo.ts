import type { Selectable } from 'kysely';
import type { Merchant, MerchantChange, MerchantRepository } from '../core/merchants/merchants.ts';
import type { SecretBox } from '../core/secret-box.ts';
import type { MerchantTable } from './schema.ts';
import type { Store } from './store.ts';

/** The scope of merchant_references that holds the one-time keys of credential and webhook changes. */
const ONCE_SCOPE = 'merchant-change';

/** A change as the columns it sets, its secrets sealed. */
function columnsOf(c: MerchantChange, secrets: SecretBox): Partial<MerchantTable> {
  return {
    ...(c.webhookUrl !== undefined ? { webhook_url: c.webhookUrl } : {}),
    ...(c.uqpayApiKeyHash !== undefined ? { uqpay_api_key_hash: c.uqpayApiKeyHash } : {}),
    ...(c.uqpayWebhookSecret !== undefined ? { uqpay_webhook_secret: secrets.seal(c.uqpayWebhookSecret) } : {}),
    ...(c.qfpayClientKey !== undefined ? { qfpay_client_key: secrets.seal(c.qfpayClientKey) } : {}),
    ...(c.alphapayMerchantPublicKey !== undefined ? { alphapay_merchant_public_key: c.alphapayMerchantPublicKey } : {}),
    ...(c.alphapayPlatformKeys !== undefined
      ? { alphapay_platform_private_key: secrets.seal(c.alphapayPlatformKeys.privateKey), alphapay_platform_public_key: c.alphapayPlatformKeys.publicKey }
      : {}),
    ...(c.alphapayCredentialCodeSealed !== undefined ? { alphapay_credential_code: c.alphapayCredentialCodeSealed } : {}),
  };
}

/** Merchants as stored: their signing secrets sealed with the platform key, opened only when read. */
export function merchantRepository(store: Store, secrets: SecretBox): MerchantRepository {
  const toMerchant = (r: Selectable<MerchantTable>): Merchant => ({
    id: r.id,
    name: r.name,
    parentId: r.parent_id,
    webhookUrl: r.webhook_url,
    uqpay: { clientId: r.uqpay_client_id, apiKeyHash: r.uqpay_api_key_hash, webhookSecret: secrets.open(r.uqpay_webhook_secret) },
    alphapay: {
      merchantCode: r.alphapay_merchant_code,
      merchantPublicKey: r.alphapay_merchant_public_key,
      platformPrivateKey: secrets.open(r.alphapay_platform_private_key),
      platformPublicKey: r.alphapay_platform_public_key,
      credentialCodeSealed: r.alphapay_credential_code ?? null,
    },
    qfpay: { appCode: r.qfpay_app_code, clientKey: secrets.open(r.qfpay_client_key) },
    createdAt: Number(r.created_at),
    disabledAt: r.disabled_at === null ? null : Number(r.disabled_at),
  });

  return {
    async insert(m) {
      await store.unit((db) =>
        db
          .insertInto('merchants')
          .values({
            id: m.id,
            name: m.name,
            parent_id: m.parentId,
            webhook_url: m.webhookUrl,
            uqpay_client_id: m.uqpay.clientId,
            uqpay_api_key_hash: m.uqpay.apiKeyHash,
            uqpay_webhook_secret: secrets.seal(m.uqpay.webhookSecret),
            alphapay_merchant_code: m.alphapay.merchantCode,
            alphapay_merchant_public_key: m.alphapay.merchantPublicKey,
            alphapay_platform_private_key: secrets.seal(m.alphapay.platformPrivateKey),
            alphapay_platform_public_key: m.alphapay.platformPublicKey,
            alphapay_credential_code: m.alphapay.credentialCodeSealed,
            qfpay_app_code: m.qfpay.appCode,
            qfpay_client_key: secrets.seal(m.qfpay.clientKey),
            created_at: m.createdAt,
            disabled_at: m.disabledAt,
          })
          .execute(),
      );
    },
    async byId(id) {
      const r = await store.read.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toMerchant(r) : null;
    },
    async byUqpayClientId(clientId) {
      const r = await store.read.selectFrom('merchants').selectAll().where('uqpay_client_id', '=', clientId).executeTakeFirst();
      return r ? toMerchant(r) : null;
    },
    async byQfpayAppCode(appCode) {
      const r = await store.read.selectFrom('merchants').selectAll().where('qfpay_app_code', '=', appCode).executeTakeFirst();
      return r ? toMerchant(r) : null;
    },
    async disable(id, at) {
      return store.unit(async (db) => {
        // The merchant and its sub-merchants, which act under its credentials.
        const rows = await db.selectFrom('merchants').select(['id', 'disabled_at']).where((eb) => eb.or([eb('id', '=', id), eb('parent_id', '=', id)])).execute();
        if (!rows.some((r) => r.id === id)) return null;
        const newly = rows.filter((r) => r.disabled_at === null).map((r) => r.id);
        if (newly.length > 0) await db.updateTable('merchants').set({ disabled_at: at }).where('id', 'in', newly).execute();
        return newly;
      });
    },
    async byAlphapayMerchantCode(code) {
      const r = await store.read.selectFrom('merchants').selectAll().where('alphapay_merchant_code', '=', code).executeTakeFirst();
      return r ? toMerchant(r) : null;
    },
    async setAlphapayMerchantPublicKey(id, spkiBase64) {
      const r = await store.unit((db) => db.updateTable('merchants').set({ alphapay_merchant_public_key: spkiBase64 }).where('id', '=', id).executeTakeFirst());
      return Number(r.numUpdatedRows) > 0;
    },
    async update(id, change, once) {
      return store.unit(async (db) => {
        const exists = await db.selectFrom('merchants').select('id').where('id', '=', id).executeTakeFirst();
        if (!exists) return 'not_found';
        if (once !== undefined) {
          // The form's one-time key, claimed in the same unit as the change it makes.
          const claimed = await db
            .insertInto('merchant_references')
            .values({ merchant_id: id, scope: ONCE_SCOPE, reference: once.key, object_id: id, created_at: once.at })
            .onConflict((oc) => oc.doNothing())
            .returning('reference')
            .executeTakeFirst();
          if (!claimed) return 'repeated';
        }
        await db.updateTable('merchants').set(columnsOf(change, secrets)).where('id', '=', id).execute();
        return 'updated';
      });
    },
    async subMerchantIds(parentId) {
      const rows = await store.read.selectFrom('merchants').select('id').where('parent_id', '=', parentId).orderBy('id').execute();
      return rows.map((r) => r.id);
    },
    async count() {
      const r = await store.read.selectFrom('merchants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
