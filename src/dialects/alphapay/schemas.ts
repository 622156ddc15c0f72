/** AlphaPay v2 request bodies: one TypeBox schema per shape, for validation and the OpenAPI document. */
import { Type, type Static } from '@sinclair/typebox';

export const SCENARIO_CODES = [
  'ONLINE_QRCODE', 'ONLINE_WEB', 'JSAPI', 'NATIVE_JSAPI', 'ONLINE_WAP', 'APP', 'MINI_APP', 'CREDIT_CARD', 'OFFLINE_QRCODE', 'OFFLINE',
] as const;
export type ScenarioCode = (typeof SCENARIO_CODES)[number];

export const PAYMENT_METHOD_TYPES = ['Alipay', 'Wechat', 'UnionPay'] as const;
export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const Url = (description: string) => Type.String({ minLength: 1, maxLength: 512, description });

export const Amount = Type.Object({
  value: Type.String({ pattern: '^\\d{1,7}$', description: 'minor units ("100" = 1.00 CAD)' }),
  currency: Type.String({ minLength: 3, maxLength: 3, description: 'CAD, USD or CNY' }),
});

export const PayRequest = Type.Object(
  {
    scenarioCode: Type.Union(SCENARIO_CODES.map((c) => Type.Literal(c))),
    paymentRequestId: Id('the merchant\'s order id, unique per merchant'),
    order: Type.Object({
      orderAmount: Amount,
      description: Type.String({ minLength: 1, maxLength: 4096, description: 'order title; longer than 128 characters is cut' }),
      notifyUrl: Type.Optional(Url('where payment notifications go')),
      redirectUrl: Type.Optional(Url('where the shopper goes after paying')),
    }),
    paymentMethod: Type.Optional(
      Type.Object({
        paymentMethodType: Type.Optional(Type.Union(PAYMENT_METHOD_TYPES.map((c) => Type.Literal(c)))),
        paymentCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'OFFLINE: the shopper\'s payment code' })),
      }),
    ),
    customer: Type.Optional(Type.Object({ appId: Type.Optional(Type.String({ maxLength: 64 })), customerId: Type.Optional(Type.String({ maxLength: 128 })) })),
    env: Type.Optional(Type.Object({ osType: Type.Optional(Type.String({ maxLength: 32 })), version: Type.Optional(Type.String({ maxLength: 32 })) })),
    card: Type.Optional(
      Type.Object({
        cardId: Type.Optional(Type.String({ maxLength: 64 })),
        info: Type.Optional(
          Type.Object({
            number: Type.String({ minLength: 1, maxLength: 32 }),
            expMonth: Type.String({ minLength: 1, maxLength: 2 }),
            expYear: Type.String({ minLength: 2, maxLength: 4 }),
            cvv: Type.Optional(Type.String({ maxLength: 4 })),
            holder: Type.Optional(Type.String({ maxLength: 128 })),
            address: Type.Optional(Type.String({ maxLength: 256 })),
            city: Type.Optional(Type.String({ maxLength: 128 })),
            state: Type.Optional(Type.String({ maxLength: 128 })),
            country: Type.Optional(Type.String({ maxLength: 2 })),
            postalCode: Type.Optional(Type.String({ maxLength: 32 })),
          }),
        ),
        remember: Type.Optional(Type.Boolean()),
        customerId: Type.Optional(Type.String({ maxLength: 128 })),
        email: Type.Optional(Type.String({ maxLength: 256 })),
      }),
    ),
  },
  { $id: 'AlphapayPayRequest' },
);
export type PayRequest = Static<typeof PayRequest>;

export const PaymentRef = Type.Object(
  {
    paymentId: Type.Optional(Id('AlphaPay\'s payment id')),
    paymentRequestId: Type.Optional(Id('the merchant\'s order id (when paymentId is not sent)')),
  },
  { $id: 'AlphapayPaymentRef' },
);
export type PaymentRef = Static<typeof PaymentRef>;

export const RefundRequest = Type.Object(
  {
    paymentId: Id('the payment to refund'),
    refundRequestId: Type.Optional(Id('the merchant\'s refund id, unique per merchant')),
    refund: Type.Object({
      refundAmount: Type.Object({
        value: Type.String({ pattern: '^\\d{1,7}$' }),
        currency: Type.Optional(Type.String({ minLength: 3, maxLength: 3 })),
      }),
      description: Type.Optional(Type.String({ maxLength: 256 })),
      notifyUrl: Type.Optional(Url('where the refund notification goes')),
    }),
  },
  { $id: 'AlphapayRefundRequest' },
);
export type RefundRequest = Static<typeof RefundRequest>;

export const RefundRef = Type.Object(
  { refundId: Type.Optional(Id('AlphaPay\'s refund id')), refundRequestId: Type.Optional(Id('the merchant\'s refund id')) },
  { $id: 'AlphapayRefundRef' },
);
export type RefundRef = Static<typeof RefundRef>;

export const TransactionsRequest = Type.Object(
  {
    date: Type.String({ pattern: '^\\d{8}$', description: 'yyyyMMdd (UTC)' }),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    pageLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    transactionType: Type.Optional(Type.Union([Type.Literal('All'), Type.Literal('Credit'), Type.Literal('Debit')])),
  },
  { $id: 'AlphapayTransactionsRequest' },
);
export type TransactionsRequest = Static<typeof TransactionsRequest>;

export const SettlementsRequest = Type.Object({ date: Type.String({ pattern: '^\\d{8}$', description: 'yyyyMMdd (UTC)' }) }, { $id: 'AlphapaySettlementsRequest' });
export type SettlementsRequest = Static<typeof SettlementsRequest>;
