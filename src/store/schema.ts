/**
 * Table shapes as Kysely sees them. Times are integer milliseconds since the
 * epoch, amounts integer minor units, JSON documents text. The same shapes
 * serve SQLite and PostgreSQL.
 */
import type { Generated } from 'kysely';

export interface MerchantTable {
  id: string;
  name: string;
  parent_id: string | null;
  webhook_url: string | null;
  uqpay_client_id: string;
  uqpay_api_key_hash: string;
  /** Sealed with the platform key (AES-256-GCM), as are the AlphaPay platform private key and the QFPay client key. */
  uqpay_webhook_secret: string;
  alphapay_merchant_code: string;
  alphapay_merchant_public_key: string;
  alphapay_platform_private_key: string;
  alphapay_platform_public_key: string;
  /** AlphaPay v1 credential code, sealed (null for merchants made before v1 was served). */
  alphapay_credential_code: string | null;
  qfpay_app_code: string;
  qfpay_client_key: string;
  created_at: number;
  /** When the merchant was disabled: its tokens and app code no longer work. */
  disabled_at: number | null;
}

export interface PaymentIntentTable {
  id: string;
  merchant_id: string;
  amount: number;
  currency: string;
  status: string;
  captured_amount: number;
  description: string | null;
  merchant_order_id: string | null;
  metadata: string | null;
  return_url: string | null;
  customer: string | null;
  client_secret: string;
  latest_attempt_id: string | null;
  next_action: string | null;
  origin: string;
  notify_url: string | null;
  cancellation_reason: string | null;
  cancel_time: number | null;
  complete_time: number | null;
  expires_at: number;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface PaymentAttemptTable {
  id: string;
  intent_id: string;
  merchant_id: string;
  amount: number;
  currency: string;
  status: string;
  captured_amount: number;
  refunded_amount: number;
  auto_capture: number; // 0 | 1
  payment_method: string; // JSON, masked card data only
  /** "card" or the wallet's kind (paymentMethodName), for the dashboard's totals (migration 014; null before it). */
  method: string | null;
  failure_code: string | null;
  auth_code: string | null;
  rrn: string | null;
  arn: string | null;
  advice_code: string | null;
  authentication_data: string | null; // JSON
  three_ds_challenge_id: string | null;
  wallet_token: string | null;
  wallet_data: string | null; // JSON WalletCharge
  cancellation_reason: string | null;
  complete_time: number | null;
  created_at: number;
  updated_at: number;
  /** Migration 015: computed by the database from payment_method (never written): a card's last 4, else null. */
  card_last4?: string | null;
  /** Migration 015, computed likewise: "card:<network>" or "wallet:<kind>". */
  method_name?: string | null;
}

export interface RefundTable {
  id: string;
  merchant_id: string;
  intent_id: string;
  attempt_id: string;
  amount: number;
  currency: string;
  status: string;
  reason: string;
  metadata: string | null;
  failure_code: string | null;
  /** Migration 011: the shopper's share in the wallet's currency, when it charged another one. */
  shopper_amount: number | null;
  created_at: number;
  updated_at: number;
  notify_url: string | null;
}

export interface LedgerEntryTable {
  id: Generated<number>;
  journal_id: string;
  merchant_id: string;
  account: string;
  currency: string;
  amount: number; // signed minor units; every journal sums to zero
  source_id: string;
  created_at: number;
}

export interface EventTable {
  id: string;
  merchant_id: string;
  type: string;
  source_id: string;
  payload: string; // JSON snapshot of the object at the time of the event
  created_at: number;
}

export interface DeliveryTable {
  id: string;
  event_id: string;
  merchant_id: string;
  dialect: string;
  url: string;
  status: string; // pending, succeeded, failed
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  /** The process holding the lease (delivery/lease-owner.ts); null when unleased or leased by an earlier version. */
  lease_owner: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface DeliveryAttemptTable {
  id: Generated<number>;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  attempted_at: number;
  /** The start of the receiver's answer (RESPONSE_BODY_KEPT characters; migration 016), null when there was none. */
  response_body: string | null;
}

export interface IdempotencyKeyTable {
  merchant_id: string;
  scope: string; // dialect name: keys are per merchant and per API
  key: string;
  request_hash: string;
  state: string; // processing, done
  response_status: number | null;
  response_body: string | null;
  created_at: number;
  expires_at: number;
  /** The object the request created or changed (see migration 003). */
  subject_id: string | null;
}

export interface MerchantReferenceTable {
  merchant_id: string;
  scope: string;
  reference: string;
  object_id: string;
  created_at: number;
}

export interface CardVaultTable {
  token: string;
  ciphertext: string; // AES-256-GCM, base64 (iv | tag | data)
  expires_at: number;
}

export interface PlatformCounterTable {
  name: string; // sandbox_clock_offset_ms, id_nodes_taken
  value: number;
}

/** The simulated card network's record of one authorization reference (migration 009). */
export interface SimCardAuthorizationTable {
  reference: string;
  result: string | null; // JSON AuthorizationResult; null: never received (recovery asked first)
  answer_at: number | null; // a slow issuer's answer is given from then on
  amount: number | null;
  currency: string | null;
  captured_amount: number | null;
  voided: number; // 0 | 1
  refunded_amount: number;
  refunds: string | null; // JSON { refund id: amount }
  created_at: number;
}

export interface IssuingCardholderTable {
  id: string;
  merchant_id: string;
  email: string;
  phone_number: string;
  first_name: string;
  last_name: string;
  country_code: string;
  status: string;
  details: string; // JSON: date of birth, gender, nationality, address, identity
  created_at: number;
  updated_at: number;
}

export interface IssuingCardTable {
  id: string;
  merchant_id: string;
  cardholder_id: string;
  product_id: string;
  currency: string;
  pan_sealed: string; // AES-256-GCM, base64
  pan_fingerprint: string; // keyed HMAC: uniqueness without the PAN
  last4: string;
  expiry_month: number;
  expiry_year: number;
  status: string;
  card_limit: number;
  available: number;
  consumed: number;
  controls: string; // JSON: spending and risk controls, usage type
  metadata: string; // JSON
  step_due_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface IssuingCardOrderTable {
  id: string;
  merchant_id: string;
  card_id: string;
  order_type: string;
  order_status: string;
  amount: number | null;
  currency: string;
  created_at: number;
  updated_at: number;
}

export interface IssuingTransactionTable {
  id: string;
  merchant_id: string;
  card_id: string;
  cardholder_id: string;
  transaction_type: string;
  status: string;
  amount: number;
  currency: string;
  merchant_name: string;
  merchant_category_code: string;
  failure_reason: string | null;
  authorization_code: string | null;
  network_reference: string | null;
  original_transaction_id: string | null;
  card_available_balance: number;
  captured_amount: number;
  reversed_amount: number;
  created_at: number;
  posted_at: number | null;
}

export interface IssuingBalanceTable {
  merchant_id: string;
  currency: string;
  id: string;
  available: number;
  created_at: number;
  updated_at: number;
}

export interface IssuingTransferTable {
  id: string;
  merchant_id: string;
  source_account_id: string;
  destination_account_id: string;
  currency: string;
  amount: number;
  status: string;
  created_at: number;
}

export interface IssuingDisplayTokenTable {
  token_hash: string;
  merchant_id: string;
  card_id: string;
  expires_at: number;
  used_at: number | null;
}

export interface Database {
  merchants: MerchantTable;
  payment_intents: PaymentIntentTable;
  payment_attempts: PaymentAttemptTable;
  refunds: RefundTable;
  ledger_entries: LedgerEntryTable;
  events: EventTable;
  deliveries: DeliveryTable;
  delivery_attempts: DeliveryAttemptTable;
  idempotency_keys: IdempotencyKeyTable;
  card_vault: CardVaultTable;
  merchant_references: MerchantReferenceTable;
  platform_counters: PlatformCounterTable;
  sim_card_authorizations: SimCardAuthorizationTable;
  issuing_cardholders: IssuingCardholderTable;
  issuing_cards: IssuingCardTable;
  issuing_card_orders: IssuingCardOrderTable;
  issuing_transactions: IssuingTransactionTable;
  issuing_balances: IssuingBalanceTable;
  issuing_transfers: IssuingTransferTable;
  issuing_display_tokens: IssuingDisplayTokenTable;
  alphapay_nonces: AlphapayNonceTable;
  dashboard_users: DashboardUserTable;
  dashboard_sessions: DashboardSessionTable;
  dashboard_sign_in_failures: DashboardSignInFailureTable;
}

/** A nonce an AlphaPay request was signed with, kept while a request bearing it could still be fresh. */
export interface AlphapayNonceTable {
  merchant_id: string;
  nonce: string;
  expires_at: number;
}

/** A person who signs in to the merchant dashboard (migration 014). */
export interface DashboardUserTable {
  id: string;
  merchant_id: string;
  email: string; // lower-cased
  password_hash: string; // scrypt$N$r$p$salt$hash (base64)
  role: string; // admin, viewer
  created_at: number;
  disabled_at: number | null;
}

export interface DashboardSessionTable {
  token_hash: string; // sha256 of the cookie's token
  user_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number; // absolute expiry; idle expiry counts from last_seen_at
}

export interface DashboardSignInFailureTable {
  subject: string;
  failed_at: number;
}
