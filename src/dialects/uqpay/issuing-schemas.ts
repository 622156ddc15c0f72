/**
 * UQPAY issuing request shapes (seed 001, spec section 4), one schema each,
 * used by Fastify for validation and by the OpenAPI document. Lenient as the
 * acquiring ones: amounts as strings or numbers, Y/N flags also as booleans,
 * unknown fields ignored.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CARD_STATUSES, CARDHOLDER_STATUSES } from '../../core/issuing/types.ts';
import { Amount, Currency, PageQuery } from './schemas.ts';

const Opt = Type.Optional;
const Str = (maxLength: number, extra: object = {}) => Type.String({ maxLength, ...extra });
const Required = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const Email = Type.String({ minLength: 3, maxLength: 255, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' });
const Phone = Type.String({ minLength: 4, maxLength: 32, pattern: '^\\+?[0-9 ()-]{4,32}$' });
const CountryCode = Type.String({ minLength: 2, maxLength: 2, pattern: '^[A-Za-z]{2}$' });
const DateOfBirth = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'yyyy-mm-dd' });

export const IssuingAddress = Type.Object({
  line1: Opt(Str(255)),
  line2: Opt(Str(255)),
  city: Opt(Str(100)),
  state: Opt(Str(100)),
  postal_code: Opt(Str(32)),
  country: Opt(Str(2)),
});

export const Identity = Type.Object({ type: Opt(Str(32)), number: Opt(Str(64)) });

const cardholderFields = {
  date_of_birth: Opt(DateOfBirth),
  gender: Opt(Type.Union([Type.Literal('MALE'), Type.Literal('FEMALE')])),
  nationality: Opt(CountryCode),
  residential_address: Opt(IssuingAddress),
  identity: Opt(Identity),
  kyc_verification: Opt(Type.Record(Type.String(), Type.Unknown())),
};

export const CreateCardholderBody = Type.Object({
  email: Email,
  first_name: Required(100),
  last_name: Required(100),
  country_code: CountryCode,
  phone_number: Phone,
  ...cardholderFields,
});
export type CreateCardholderBody = Static<typeof CreateCardholderBody>;

export const UpdateCardholderBody = Type.Object({
  email: Opt(Email),
  first_name: Opt(Required(100)),
  last_name: Opt(Required(100)),
  country_code: Opt(CountryCode),
  phone_number: Opt(Phone),
  ...cardholderFields,
});
export type UpdateCardholderBody = Static<typeof UpdateCardholderBody>;

export const ListCardholdersQuery = Type.Object({
  ...PageQuery.properties,
  cardholder_status: Opt(Type.Union(CARDHOLDER_STATUSES.map((s) => Type.Literal(s)))),
  email: Opt(Str(255)),
});
export type ListCardholdersQuery = Static<typeof ListCardholdersQuery>;

/** "Y" / "N" as the docs write them, or a boolean. */
const Flag = Type.Union([Type.Literal('Y'), Type.Literal('N'), Type.Boolean()]);
const Mcc = Type.String({ pattern: '^\\d{4}$' });

export const RiskControls = Type.Object({
  enable_3ds: Opt(Flag),
  allow_3ds_transactions: Opt(Flag),
  allowed_mcc: Opt(Type.Array(Mcc, { maxItems: 200 })),
  blocked_mcc: Opt(Type.Array(Mcc, { maxItems: 200 })),
});
export type RiskControls = Static<typeof RiskControls>;

export const SpendingControls = Type.Array(Type.Object({ amount: Amount, interval: Type.Literal('PER_TRANSACTION') }), { maxItems: 10 });
export type SpendingControls = Static<typeof SpendingControls>;

export const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'At most 3200 bytes as JSON' });

export const CreateCardBody = Type.Object({
  cardholder_id: Required(64),
  card_product_id: Required(64),
  card_currency: Currency,
  card_limit: Opt(Amount),
  spending_controls: Opt(SpendingControls),
  risk_controls: Opt(RiskControls),
  metadata: Opt(Metadata),
  usage_type: Opt(Type.Union([Type.Literal('NORMAL'), Type.Literal('ONE_TIME')])),
  auto_cancel_trigger: Opt(Type.Union([Type.Literal('ON_AUTH'), Type.Literal('ON_CAPTURE')])),
});
export type CreateCardBody = Static<typeof CreateCardBody>;

export const UpdateCardBody = Type.Object({
  card_limit: Opt(Amount),
  spending_controls: Opt(SpendingControls),
  risk_controls: Opt(RiskControls),
  metadata: Opt(Metadata),
});
export type UpdateCardBody = Static<typeof UpdateCardBody>;

export const CardStatusBody = Type.Object({
  card_status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('FROZEN'), Type.Literal('CANCELLED')]),
  update_reason: Opt(Str(255)),
});
export type CardStatusBody = Static<typeof CardStatusBody>;

export const CardAmountBody = Type.Object({ amount: Amount });
export type CardAmountBody = Static<typeof CardAmountBody>;

export const ListCardsQuery = Type.Object({
  ...PageQuery.properties,
  card_status: Opt(Type.Union(CARD_STATUSES.map((s) => Type.Literal(s)))),
  cardholder_id: Opt(Str(64)),
  card_number: Opt(Type.String({ pattern: '^[0-9*]{4,19}$' })),
});
export type ListCardsQuery = Static<typeof ListCardsQuery>;

export const BalanceBody = Type.Object({ currency: Currency });
export type BalanceBody = Static<typeof BalanceBody>;

export const BalanceTransactionsQuery = Type.Object({ ...PageQuery.properties, currency: Opt(Currency) });
export type BalanceTransactionsQuery = Static<typeof BalanceTransactionsQuery>;

export const TransferBody = Type.Object({
  source_account_id: Required(64),
  destination_account_id: Required(64),
  currency: Currency,
  amount: Amount,
});
export type TransferBody = Static<typeof TransferBody>;

export const ListTransactionsQuery = Type.Object({
  ...PageQuery.properties,
  card_id: Opt(Str(64)),
  start_time: Opt(Str(40)),
  end_time: Opt(Str(40)),
});
export type ListTransactionsQuery = Static<typeof ListTransactionsQuery>;

export const SimulateAuthorizationBody = Type.Object({
  card_id: Required(64),
  transaction_amount: Amount,
  transaction_currency: Currency,
  merchant_name: Opt(Str(100)),
  merchant_category_code: Opt(Mcc),
});
export type SimulateAuthorizationBody = Static<typeof SimulateAuthorizationBody>;

export const SimulateReversalBody = Type.Object({ transaction_id: Required(64) });
export type SimulateReversalBody = Static<typeof SimulateReversalBody>;

export const SimulateDepositBody = Type.Object({ currency: Currency, amount: Amount });
export type SimulateDepositBody = Static<typeof SimulateDepositBody>;
