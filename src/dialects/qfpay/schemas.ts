/**
 * Request shapes of the QFPay dialect: validated by the routes and published
 * in the OpenAPI document. Every value is a string on the wire; the rules
 * that need more than a length (amounts, times, codes) are checked by the
 * routes, which can name the respcd QFPay answers with.
 */
import { Type, type Static } from '@sinclair/typebox';

const s = (maxLength: number, description: string) => Type.String({ maxLength, description });

const common = {
  mchid: Type.Optional(s(64, 'Sub-merchant id, when the app code acts for one of its sub-merchants')),
  udid: Type.Optional(s(40, 'Device id, echoed back')),
};

export const PaymentRequest = Type.Object(
  {
    txamt: s(11, 'Amount in minor units (100 = 1.00), greater than 0'),
    txcurrcd: s(3, 'Currency: AED CNY EUR HKD IDR JPY MMK MYR SGD THB USD CAD AUD'),
    pay_type: s(6, 'Payment type code (800101 Alipay MPM, 800108 Alipay CPM, 801101 Alipay web, ...)'),
    out_trade_no: s(128, 'Merchant order number, unique per merchant across payments and refunds'),
    txdtm: s(26, 'Request time, YYYY-MM-DD hh:mm:ss'),
    auth_code: Type.Optional(s(128, "The shopper's payment code (CPM pay types)")),
    expired_time: Type.Optional(s(3, 'Minutes until an unpaid order expires, 5-120, default 30')),
    goods_name: Type.Optional(s(64, 'Goods name')),
    notify_url: Type.Optional(s(512, 'Where notifications for this order go instead of the configured URL')),
    return_url: Type.Optional(s(512, 'Where the hosted page sends the shopper after paying (web / WAP); at most 200 characters for Alipay WAP (801107, 801512)')),
    pay_tag: Type.Optional(s(16, 'ALIPAYHK or ALIPAYCN: which Alipay wallet an Alipay pay type means')),
    ...common,
  },
  { additionalProperties: true, description: 'POST /trade/v1/payment (application/x-www-form-urlencoded)' },
);
export type PaymentRequest = Static<typeof PaymentRequest>;

export const QueryRequest = Type.Object(
  {
    syssn: Type.Optional(s(4096, 'QFPay transaction numbers, comma separated')),
    out_trade_no: Type.Optional(s(4096, 'Merchant order numbers, comma separated')),
    pay_type: Type.Optional(s(512, 'Payment type codes, comma separated')),
    respcd: Type.Optional(s(64, 'Only rows with this respcd')),
    start_time: Type.Optional(s(26, 'YYYY-MM-DD hh:mm:ss, default: start of this month (ignored with syssn / out_trade_no)')),
    end_time: Type.Optional(s(26, 'YYYY-MM-DD hh:mm:ss, default: end of this month; same month as start_time')),
    page: Type.Optional(s(8, 'Page number, default 1')),
    page_size: Type.Optional(s(8, 'Rows per page, default 10, at most 100')),
    ...common,
  },
  { additionalProperties: true, description: 'POST /trade/v1/query' },
);

export const RefundRequest = Type.Object(
  {
    syssn: s(40, 'syssn of the payment to refund'),
    out_trade_no: s(128, 'New merchant number for the refund, unique per merchant across payments and refunds'),
    txamt: s(11, 'Refund amount in minor units; partial refunds allowed'),
    txdtm: s(26, 'Request time, YYYY-MM-DD hh:mm:ss'),
    ...common,
  },
  { additionalProperties: true, description: 'POST /trade/v1/refund' },
);

export const CancelRequest = Type.Object(
  {
    syssn: Type.Optional(s(40, 'syssn of the order (or out_trade_no; both must name the same order)')),
    out_trade_no: Type.Optional(s(128, 'Merchant order number (or syssn; both must name the same order)')),
    txamt: s(11, 'Order amount in minor units; must be the amount of the order'),
    txdtm: s(26, 'Request time, YYYY-MM-DD hh:mm:ss'),
    ...common,
  },
  { additionalProperties: true, description: 'GET or POST /trade/v1/reversal and /trade/v1/close' },
);

export const AuthTradeRequest = Type.Object(
  {
    syssn: s(40, 'syssn of the pre-authorization (the freeze)'),
    txamt: s(11, 'Amount to capture in minor units, at most the frozen amount; the rest is released'),
    out_trade_no: Type.Optional(s(128, 'Merchant number for the capture, unique per merchant')),
    txcurrcd: Type.Optional(s(3, 'Currency of the freeze')),
    txdtm: Type.Optional(s(26, 'Request time, YYYY-MM-DD hh:mm:ss')),
    ...common,
  },
  { additionalProperties: true, description: 'POST /trade/v1/authtrade (capture a pre-authorization)' },
);

export const UnfreezeRequest = Type.Object(
  {
    syssn: s(40, 'syssn of the pre-authorization (the freeze)'),
    out_trade_no: s(128, 'out_trade_no of the pre-authorization'),
    txamt: s(11, 'The frozen amount in minor units'),
    txdtm: s(26, 'Request time, YYYY-MM-DD hh:mm:ss'),
    ...common,
  },
  { additionalProperties: true, description: 'POST /trade/v1/unfreeze (release a pre-authorization)' },
);

export const TradeBillRequest = Type.Object(
  {
    trade_date: s(10, 'Day of the bill, YYYYMMDD or YYYY-MM-DD (UTC+08:00)'),
    ...common,
  },
  { additionalProperties: true, description: 'GET /download/v1/trade_bill: a zip holding the CSV of the day' },
);
