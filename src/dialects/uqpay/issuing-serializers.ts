/** Issuing objects -> UQPAY wire objects (seed 001's field names, decimal strings, +08:00 times). Never a PAN or CVV, except `secure`. */
import { maskedPan } from '../../core/issuing/card-data.ts';
import type { BalanceTransaction } from '../../core/issuing/repository.ts';
import type { CardWithOrder, SecureCard } from '../../core/issuing/service.ts';
import type { CardProduct, CardView, Cardholder, IssuingBalance, IssuingTransaction, RiskControls, Transfer } from '../../core/issuing/types.ts';
import { wireAmount, wireTime } from './wire-format.ts';

type CardOut = CardView;

const yn = (b: boolean) => (b ? 'Y' : 'N');

export function product(p: CardProduct) {
  return {
    product_id: p.id,
    card_bin: p.bin,
    card_scheme: p.scheme,
    mode_type: p.modeType,
    card_form: p.cardForms,
    card_currency: p.currencies,
    product_status: 'ENABLED',
    kyc_level: 'SIMPLIFIED',
    required_fields: ['email', 'first_name', 'last_name', 'country_code', 'phone_number'],
    card_limit_required: p.limitRequired,
  };
}

/** The short cardholder inside a card (seed 001's card.create.succeeded). */
function cardholderSummary(c: Cardholder) {
  return {
    cardholder_id: c.id,
    cardholder_status: c.status,
    create_time: wireTime(c.createdAt),
    email: c.email,
    first_name: c.firstName,
    last_name: c.lastName,
  };
}

export function cardholder(c: Cardholder) {
  const a = c.details.residentialAddress;
  return {
    ...cardholderSummary(c),
    country_code: c.countryCode,
    phone_number: c.phoneNumber,
    date_of_birth: c.details.dateOfBirth ?? '',
    gender: c.details.gender ?? '',
    nationality: c.details.nationality ?? '',
    residential_address: a
      ? { line1: a.line1 ?? '', line2: a.line2 ?? '', city: a.city ?? '', state: a.state ?? '', postal_code: a.postalCode ?? '', country: a.country ?? '' }
      : null,
    identity: c.details.identity ? { type: c.details.identity.type ?? '', number: maskIdentity(c.details.identity.number) } : null,
    update_time: wireTime(c.updatedAt),
  };
}

function maskIdentity(n: string | undefined): string {
  if (!n) return '';
  return n.length <= 4 ? '****' : `${'*'.repeat(n.length - 4)}${n.slice(-4)}`;
}

function riskControls(r: RiskControls) {
  return { enable_3ds: yn(r.enable3ds), allow_3ds_transactions: yn(r.allow3dsTransactions), allowed_mcc: r.allowedMcc, blocked_mcc: r.blockedMcc };
}

function spending(c: CardView) {
  return c.controls.spending.map((s) => ({ amount: wireAmount(s.amount, c.currency), interval: s.interval }));
}

const available = (c: CardOut) => wireAmount(c.availableBalance, c.currency);

/** GET /v1/issuing/cards/{id}: the card with a masked number. */
export function card(c: CardOut) {
  return {
    card_id: c.id,
    card_bin: c.bin,
    card_scheme: c.product.scheme,
    card_number: maskedPan(c.bin, c.last4),
    form_factor: 'VIRTUAL',
    mode_type: c.product.modeType,
    card_limit: wireAmount(c.cardLimit, c.currency),
    available_balance: available(c),
    consumed_amount: wireAmount(c.consumed, c.currency),
    card_currency: c.currency,
    card_product_id: c.productId,
    card_status: c.status,
    cardholder: cardholderSummary(c.cardholder),
    spending_controls: spending(c),
    risk_controls: riskControls(c.controls.risk),
    usage_type: c.controls.usageType,
    auto_cancel_trigger: c.controls.autoCancelTrigger ?? '',
    metadata: c.metadata,
    create_time: wireTime(c.createdAt),
    update_time: wireTime(c.updatedAt),
  };
}

/** card.* webhooks' data, in seed 001's shape (risk_control, spending_limits). */
export function cardEventData(c: CardOut) {
  return {
    card_available_balance: available(c),
    card_bin: c.bin,
    card_id: c.id,
    card_number: maskedPan(c.bin, c.last4),
    card_product_id: c.productId,
    card_scheme: c.product.scheme,
    card_status: c.status,
    card_currency: c.currency,
    card_limit: wireAmount(c.cardLimit, c.currency),
    cardholder: cardholderSummary(c.cardholder),
    form_factor: 'VIRTUAL',
    metadata: c.metadata,
    mode_type: c.product.modeType,
    risk_control: { enable_3ds: yn(c.controls.risk.enable3ds), allow_3ds_transactions: yn(c.controls.risk.allow3dsTransactions) },
    spending_limits: spending(c),
  };
}

/** Answer to a create: the card still PENDING and its order (seed 001). */
export function createdCard({ card: c, order }: CardWithOrder) {
  return { card_id: c.id, card_order_id: order.id, card_status: c.status, order_status: order.status, create_time: wireTime(order.createdAt) };
}

/** Answer to an update, status change, recharge or withdrawal: the card order. */
export function cardOrder({ card: c, order }: CardWithOrder) {
  return {
    card_id: c.id,
    card_order_id: order.id,
    order_type: order.type,
    order_status: order.status,
    card_status: c.status,
    amount: order.amount === null ? '' : wireAmount(order.amount, order.currency),
    card_currency: order.currency,
    card_available_balance: available(c),
    create_time: wireTime(order.createdAt),
    update_time: wireTime(order.updatedAt),
  };
}

export function secure(s: SecureCard) {
  return { card_number: s.pan, cvv: s.cvv, expire_date: `${String(s.expiryMonth).padStart(2, '0')}/${String(s.expiryYear).slice(-2)}` };
}

export function transaction(t: IssuingTransaction, c: Pick<CardView, 'bin' | 'last4'>) {
  return {
    transaction_id: t.id,
    card_id: t.cardId,
    card_number: maskedPan(c.bin, c.last4),
    cardholder_id: t.cardholderId,
    transaction_type: t.type,
    transaction_status: t.status,
    billing_amount: wireAmount(t.amount, t.currency),
    billing_currency: t.currency,
    transaction_amount: wireAmount(t.amount, t.currency),
    transaction_currency: t.currency,
    authorization_code: t.authorizationCode ?? '',
    failure_reason: t.failureReason ?? '',
    original_transaction_id: t.originalTransactionId ?? '',
    merchant_data: [{ category_code: t.merchantCategoryCode, city: '', country: '', name: t.merchantName }],
    card_available_balance: wireAmount(t.cardAvailableBalance, t.currency),
    transaction_time: wireTime(t.createdAt),
    posted_time: wireTime(t.postedAt),
  };
}

export function balance(b: IssuingBalance) {
  return {
    balance_id: b.id,
    currency: b.currency,
    available_balance: wireAmount(b.available, b.currency),
    margin_balance: '0',
    frozen_balance: '0',
    balance_status: 'ACTIVE',
    create_time: wireTime(b.createdAt),
    update_time: wireTime(b.updatedAt),
  };
}

export function balanceTransaction(t: BalanceTransaction) {
  return {
    transaction_id: t.id,
    source_id: t.sourceId,
    currency: t.currency,
    amount: wireAmount(t.amount, t.currency),
    create_time: wireTime(t.createdAt),
  };
}

export function transfer(t: Transfer) {
  return {
    transfer_id: t.id,
    source_account_id: t.sourceAccountId,
    destination_account_id: t.destinationAccountId,
    currency: t.currency,
    amount: wireAmount(t.amount, t.currency),
    transfer_status: t.status,
    create_time: wireTime(t.createdAt),
  };
}
