/**
 * UQPAY request shapes, one schema each, used by Fastify for validation and
 * by the OpenAPI document. Lenient where real clients differ: amounts may be
 * strings or numbers, unknown fields are ignored.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CANCELLATION_REASONS, ATTEMPT_STATUSES, INTENT_STATUSES } from '../../core/payments/types.ts';
import type { WalletKind } from '../../core/ports.ts';

/** The e-wallet payment_method types UQPAY's API takes (the core knows more, which other dialects name). */
export const UQPAY_WALLET_TYPES = [
  'alipaycn', 'alipayhk', 'wechatpay', 'unionpay', 'grabpay', 'paynow', 'truemoney', 'tng', 'gcash',
  'dana', 'kakaopay', 'naverpay', 'tosspay', 'payme', 'fps', 'octopus', 'boost', 'shopeepay', 'linepay',
] as const satisfies readonly WalletKind[];

const Str = (maxLength: number, extra: object = {}) => Type.String({ maxLength, ...extra });
const Opt = Type.Optional;
/** One of a list of words, as a JSON Schema enum: a refusal names the allowed values. */
const OneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>(Type.String({ enum: [...values] }));

export const Amount = Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Number()], {
  description: 'Major-unit decimal, e.g. "8.98"',
});
/**
 * A string of digits that clients may also send as a JSON number. Kept as
 * the number it was (not coerced to text) so that a number too long to be
 * read exactly is refused rather than quietly changed.
 */
const Digits = (maxLength: number, extra: object = {}) =>
  Type.Unsafe<string | number>({ type: ['string', 'number'], maxLength, ...extra });

/** Where the shopper is sent back to after a redirect: an absolute http(s) URL (nothing a browser would run), or empty as seed 002 sends it. */
export const ReturnUrl = Type.String({ maxLength: 1024, pattern: '^([Hh][Tt][Tt][Pp][Ss]?://\\S+)?$', description: 'Absolute http(s) URL, or empty' });

export const Currency = Type.String({ minLength: 3, maxLength: 3, description: 'ISO-4217 code' });
export const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'At most 512 bytes as JSON' });

export const Address = Type.Object({
  country_code: Opt(Str(2)),
  state: Opt(Str(100)),
  city: Opt(Str(100)),
  street: Opt(Str(255)),
  postcode: Opt(Str(32)),
});

export const Billing = Type.Object({
  first_name: Opt(Str(100)),
  last_name: Opt(Str(100)),
  email: Opt(Str(255)),
  phone_number: Opt(Str(32)),
  address: Opt(Address),
});

export const CardPaymentMethod = Type.Object({
  card_name: Opt(Str(100)),
  card_number: Digits(32, { minLength: 1 }),
  expiry_month: Type.String({ minLength: 1, maxLength: 2 }),
  expiry_year: Type.String({ minLength: 2, maxLength: 4 }),
  cvc: Opt(Type.String({ maxLength: 4 })),
  network: Opt(Str(32)),
  billing: Opt(Billing),
  auto_capture: Opt(Type.Boolean()),
  authorization_type: Opt(Str(32)),
  three_ds_action: Opt(OneOf(['skip_3ds', 'enforce_3ds'] as const)),
});

/** A wallet payment method, keyed by its type: {"type":"alipaycn","alipaycn":{"flow":"qrcode",...}}. */
export const WalletPaymentMethod = Type.Object({
  flow: Opt(Type.String({ maxLength: 32 })),
  os_type: Opt(Type.String({ maxLength: 32 })),
  is_present: Opt(Type.Boolean()),
  payment_code: Opt(Digits(64)),
});
export type WalletPaymentMethod = Static<typeof WalletPaymentMethod>;

export const PaymentMethod = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 32 }),
  card: Opt(CardPaymentMethod),
  ...Object.fromEntries(UQPAY_WALLET_TYPES.map((kind) => [kind, Opt(WalletPaymentMethod)])),
});

export const BrowserInfo = Type.Record(Type.String(), Type.Unknown());

export const CreateIntentBody = Type.Object({
  amount: Amount,
  currency: Currency,
  merchant_order_id: Opt(Str(36)),
  description: Opt(Str(32)),
  return_url: Opt(ReturnUrl),
  metadata: Opt(Metadata),
  payment_method: Opt(PaymentMethod),
  ip_address: Opt(Str(64)),
  browser_info: Opt(BrowserInfo),
  customer: Opt(Type.Record(Type.String(), Type.Unknown())),
  customer_id: Opt(Str(64)),
  payment_orders: Opt(Type.Record(Type.String(), Type.Unknown())),
});
export type CreateIntentBody = Static<typeof CreateIntentBody>;

export const UpdateIntentBody = Type.Object({
  amount: Opt(Amount),
  currency: Opt(Currency),
  merchant_order_id: Opt(Str(36)),
  description: Opt(Str(32)),
  return_url: Opt(ReturnUrl),
  metadata: Opt(Metadata),
  customer: Opt(Type.Record(Type.String(), Type.Unknown())),
  customer_id: Opt(Str(64)),
  payment_orders: Opt(Type.Record(Type.String(), Type.Unknown())),
});
export type UpdateIntentBody = Static<typeof UpdateIntentBody>;

export const ConfirmIntentBody = Type.Object({
  payment_method: PaymentMethod,
  ip_address: Opt(Str(64)),
  browser_info: Opt(BrowserInfo),
  return_url: Opt(ReturnUrl),
});
export type ConfirmIntentBody = Static<typeof ConfirmIntentBody>;

export const CaptureIntentBody = Type.Object({ amount_to_capture: Opt(Amount) });
export type CaptureIntentBody = Static<typeof CaptureIntentBody>;

export const CancelIntentBody = Type.Object({
  cancellation_reason: Opt(OneOf(CANCELLATION_REASONS)),
});
export type CancelIntentBody = Static<typeof CancelIntentBody>;

export const CreateRefundBody = Type.Object({
  payment_intent_id: Type.String({ minLength: 1, maxLength: 64 }),
  amount: Amount,
  reason: Type.String({ minLength: 1, maxLength: 100 }),
  payment_attempt_id: Opt(Str(64)),
  metadata: Opt(Metadata),
});
export type CreateRefundBody = Static<typeof CreateRefundBody>;

const PageSize = Type.Integer({ minimum: 1, maximum: 100, default: 10 });
/** At most a 32-bit integer, as the official SDKs send it: beyond that the row offset would not be an integer either database takes. */
const PageNumber = Type.Integer({ minimum: 1, maximum: 2_147_483_647, default: 1 });

export const ListIntentsQuery = Type.Object({
  page_size: Opt(PageSize),
  page_number: Opt(PageNumber),
  intent_status: Opt(OneOf(INTENT_STATUSES)),
  payment_intent_status: Opt(OneOf(INTENT_STATUSES)),
  create_start_time: Opt(Str(40)),
  start_time: Opt(Str(40)),
  create_end_time: Opt(Str(40)),
  end_time: Opt(Str(40)),
  merchant_order_id: Opt(Str(36)),
});
export type ListIntentsQuery = Static<typeof ListIntentsQuery>;

export const ListAttemptsQuery = Type.Object({
  page_size: Opt(PageSize),
  page_number: Opt(PageNumber),
  payment_intent_id: Opt(Str(64)),
  attempt_status: Opt(OneOf(ATTEMPT_STATUSES)),
});
export type ListAttemptsQuery = Static<typeof ListAttemptsQuery>;

export const ListRefundsQuery = Type.Object({
  page_size: Opt(PageSize),
  page_number: Opt(PageNumber),
  payment_intent_id: Opt(Str(64)),
  merchant_order_id: Opt(Str(36)),
  start_time: Opt(Str(40)),
  end_time: Opt(Str(40)),
});
export type ListRefundsQuery = Static<typeof ListRefundsQuery>;

export const PageQuery = Type.Object({ page_size: Opt(PageSize), page_number: Opt(PageNumber) });
export type PageQuery = Static<typeof PageQuery>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type IdParams = Static<typeof IdParams>;

export const CurrencyParams = Type.Object({ currency: Type.String({ minLength: 3, maxLength: 3 }) });
export type CurrencyParams = Static<typeof CurrencyParams>;
