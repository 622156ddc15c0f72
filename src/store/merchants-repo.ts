import type { Selectable } from 'kysely';
import type { Merchant, MerchantRepository } from '../core/merchants/merchants.ts';
import type { SecretBox } from '../core/secret-box.ts';
import type { MerchantTable } from './schema.ts';
import type { Store } from './store.ts';

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
