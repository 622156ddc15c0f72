/** AlphaPay v2 routes under /api/v2.0/payments: wire request -> core command -> wire response. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isDomainError } from '../../core/errors.ts';
import { convert } from '../../core/fx.ts';
import type { CommandHooks } from '../../core/payments/command.ts';
import type { CreateIntentInput, IntentView, PaymentMethodInput, PaymentsService } from '../../core/payments/service.ts';
import type { Refund } from '../../core/payments/types.ts';
import type { FxRates, WalletFlow, WalletKind } from '../../core/ports.ts';
import type { ReferenceRepository } from '../../store/references-repo.ts';
import { AlphapayError, paramInvalid, result, type ResultCode } from './results.ts';
import {
  PaymentRef,
  PayRequest,
  RefundRef,
  RefundRequest,
  SettlementsRequest,
  TransactionsRequest,
  type PaymentMethodType,
  type ScenarioCode,
} from './schemas.ts';
import { isoTime } from './transport.ts';
import {
  ALPHAPAY_CURRENCIES,
  orderMeta,
  orderObject,
  PAYMENT_REFERENCE_SCOPE,
  paymentInquiryBody,
  refundInquiryBody,
  REFUND_REFERENCE_SCOPE,
  SETTLE_CURRENCY,
  type AlphapayOrderMeta,
} from './wire.ts';
import { settlementsOf, transactionsOf } from './ledger-views.ts';
import { qrDataUrl } from '../../web/qr-image.ts';

export interface AlphapayDeps {
  payments: PaymentsService;
  references: ReferenceRepository;
  fx: FxRates;
  /** The hosted cashier page of a wallet order. */
  cashierUrl: (walletToken: string) => string;
}

/** The core failure code of an order paid below what AlphaPay settles (a CNY order worth under 0.01 CAD). */
export const AMOUNT_BELOW_MINIMUM = 'amount_below_minimum';

export const WALLETS: Record<PaymentMethodType, WalletKind> = { Alipay: 'alipaycn', Wechat: 'wechatpay', UnionPay: 'unionpay' };

const FLOWS: Record<Exclude<ScenarioCode, 'CREDIT_CARD'>, WalletFlow> = {
  ONLINE_QRCODE: 'qrcode',
  OFFLINE_QRCODE: 'qrcode',
  ONLINE_WEB: 'web',
  ONLINE_WAP: 'web',
  JSAPI: 'sdk',
  NATIVE_JSAPI: 'sdk',
  APP: 'sdk',
  MINI_APP: 'sdk',
  OFFLINE: 'payment_code',
};

export function minorUnits(value: string, field: string): number {
  const n = Number(value);
  if (!/^\d{1,7}$/.test(value) || n <= 0) throw paramInvalid(`${field} must be 1 to 7 digits of minor units, more than 0`);
  return n;
}

export function orderCurrency(text: string, field: string): string {
  const currency = text.toUpperCase();
  if (!ALPHAPAY_CURRENCIES.has(currency)) throw paramInvalid(`${field} must be CAD, USD or CNY`);
  return currency;
}

export function httpUrl(text: string | undefined, field: string): string | undefined {
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw paramInvalid(`${field} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw paramInvalid(`${field} must be an absolute http(s) URL`);
  return text;
}

/** An order's value in the settlement currency: CNY is converted at the FX table; CAD and USD settle as they are. */
export function settlementValue(amount: number, currency: string, fx: FxRates): { payAmount: { value: string; currency: string }; exchangeRate: string; belowMinimum: boolean } {
  if (currency !== 'CNY') return { payAmount: { value: String(amount), currency }, exchangeRate: '1', belowMinimum: false };
  const quote = fx.rate('CNY', SETTLE_CURRENCY);
  const table = fx.rate(SETTLE_CURRENCY, 'CNY');
  if (!quote || !table) throw new AlphapayError('SYSTEM_ERROR', `no exchange rate between CNY and ${SETTLE_CURRENCY}`);
  const settled = convert({ amount, currency }, SETTLE_CURRENCY, quote.rate);
  // Worth under one cent, reckoned exactly at the table's CNY per CAD (not after rounding): fen < rate.
  const [whole, frac = ''] = table.rate.split('.');
  const belowMinimum = BigInt(amount) * 10n ** BigInt(frac.length) < BigInt(whole! + frac);
  return { payAmount: { value: String(settled.amount), currency: SETTLE_CURRENCY }, exchangeRate: quote.rate, belowMinimum };
}

/** Reserves a merchant reference for what a command creates, in the command's first unit (the unique index decides). */
export function reserving<O>(scope: string, merchantId: string, reference: string, now: () => number): CommandHooks<O> {
  return {
    async begin(tx, subjectId) {
      if (!(await tx.reserveReference(merchantId, scope, reference, subjectId, now()))) {
        throw new AlphapayError('DUPLICATE_REQUEST_ID', `${scope === PAYMENT_REFERENCE_SCOPE ? 'paymentRequestId' : 'refundRequestId'} ${reference} was already used by this merchant`);
      }
    },
  };
}

/** Order lookups shared by v2 and v1: by AlphaPay's id or the merchant's, AlphaPay orders only, settled first when a payer was confirming. */
export class AlphapayOrders {
  constructor(private readonly deps: AlphapayDeps) {}

  async byId(merchantId: string, paymentId: string): Promise<IntentView | null> {
    if (!/^PI[A-Za-z0-9_-]{1,62}$/.test(paymentId)) return null;
    try {
      const view = await this.deps.payments.getIntent(merchantId, paymentId);
      return orderMeta(view.intent) ? this.settled(merchantId, view) : null;
    } catch (e) {
      if (isDomainError(e) && e.kind === 'not_found') return null;
      throw e;
    }
  }

  async byRequestId(merchantId: string, requestId: string): Promise<IntentView | null> {
    const objectId = (await this.deps.references.find(merchantId, PAYMENT_REFERENCE_SCOPE, [requestId])).get(requestId);
    return objectId ? this.byId(merchantId, objectId) : null;
  }

  async refund(merchantId: string, ref: { refundId?: string; refundRequestId?: string }): Promise<Refund | null> {
    let id = ref.refundId;
    if (!id && ref.refundRequestId) id = (await this.deps.references.find(merchantId, REFUND_REFERENCE_SCOPE, [ref.refundRequestId])).get(ref.refundRequestId);
    if (!id || !/^RF[A-Za-z0-9_-]{1,62}$/.test(id)) return null;
    try {
      const refund = await this.deps.payments.getRefund(merchantId, id);
      return (await this.byId(merchantId, refund.intentId)) ? refund : null;
    } catch (e) {
      if (isDomainError(e) && e.kind === 'not_found') return null;
      throw e;
    }
  }

  /** A payment code whose payer was still confirming: ask the wallet first, so the answer is the latest. */
  private async settled(merchantId: string, view: IntentView): Promise<IntentView> {
    if (view.attempt?.status !== 'PENDING_AUTHORIZATION') return view;
    if (!(await this.deps.payments.settleWalletAttempt(view.attempt))) return view;
    return this.deps.payments.getIntent(merchantId, view.intent.id);
  }

  /**
   * Refunds `amount` of an order after AlphaPay's checks; both APIs share it.
   * Returns the refund as settled (or still in flight).
   */
  async refundOrder(
    merchantId: string,
    view: IntentView,
    input: { amount: number; currency?: string; refundRequestId?: string; description?: string; notifyUrl?: string },
    now: () => number,
  ): Promise<Refund> {
    const { intent, attempt } = view;
    if (input.currency !== undefined && input.currency.toUpperCase() !== intent.currency) {
      throw new AlphapayError('CURRENCY_MISMATCH', `the refund currency must be the payment's (${intent.currency})`);
    }
    if (intent.status === 'CANCELLED' || intent.status === 'FAILED') throw new AlphapayError('ORDER_CLOSED', `payment ${intent.id} is ${intent.status === 'CANCELLED' ? 'cancelled' : 'closed'}`);
    if (intent.status !== 'SUCCEEDED' || !attempt) throw new AlphapayError('ORDER_NOT_PAID', `payment ${intent.id} is not paid`);
    const refundable = attempt.capturedAmount - attempt.refundedAmount;
    if (input.amount > refundable) {
      throw new AlphapayError('REFUND_AMOUNT_EXCEED', `the refund (${input.amount}) is more than the ${refundable} still refundable on payment ${intent.id}`);
    }
    const meta = { ...(input.refundRequestId ? { refundRequestId: input.refundRequestId } : {}), ...(input.description ? { description: input.description } : {}) };
    try {
      return await this.deps.payments.createRefund(
        merchantId,
        { intentId: intent.id, amount: input.amount, reason: 'requested_by_customer', metadata: { alphapay: meta }, notifyUrl: input.notifyUrl ?? intent.notifyUrl },
        input.refundRequestId ? reserving<Refund>(REFUND_REFERENCE_SCOPE, merchantId, input.refundRequestId, now) : undefined,
      );
    } catch (e) {
      // Checked again under the intent's lock: a refund that landed meanwhile counts.
      if (isDomainError(e) && e.kind === 'amount') throw new AlphapayError('REFUND_AMOUNT_EXCEED', e.message);
      if (isDomainError(e) && e.kind === 'invalid_state') throw new AlphapayError('ORDER_NOT_PAID', e.message);
      throw e;
    }
  }
}

/** The result an order's answer carries right after it was made. */
function payResult(view: IntentView): { code: ResultCode; message?: string } {
  const { intent, attempt } = view;
  if (intent.status === 'SUCCEEDED') return { code: 'SUCCESS' };
  if (intent.status === 'PENDING') return { code: 'PAYMENT_IN_PROCESS' };
  if (intent.status === 'REQUIRES_CUSTOMER_ACTION') {
    // An order waiting for its shopper was made: S; a card waiting on its 3DS challenge is still in process.
    return attempt?.paymentMethod.type === 'card' ? { code: 'PAYMENT_IN_PROCESS' } : { code: 'SUCCESS' };
  }
  if (attempt?.failureCode === AMOUNT_BELOW_MINIMUM) return { code: 'AMOUNT_INVALID', message: 'the order is worth less than 0.01 CAD' };
  return { code: 'PAYMENT_FAILED', message: `the payment was declined (${attempt?.failureCode ?? 'declined'})` };
}

/** paymentQRImage: 4 pixels a module (about 130 px): a third of the CPU of a 240 px image, and any phone reads it. */
export const QR_IMAGE = { margin: 1, scale: 4 } as const;

/** paymentInfo of a new order: what the shopper pays through. */
export async function paymentInfo(view: IntentView, scenario: ScenarioCode, cashierUrl: (token: string) => string): Promise<Record<string, unknown> | undefined> {
  const next = view.intent.nextAction;
  const token = view.attempt?.walletToken;
  if (!next || view.intent.status !== 'REQUIRES_CUSTOMER_ACTION') return undefined;
  if (next.type === 'redirect_to_url' && view.attempt?.paymentMethod.type === 'card') return { payUrl: next.url };
  if (!token) return undefined;
  if (next.type === 'display_qr_code') {
    return { paymentUrl: next.qrCode, paymentQRImage: qrDataUrl(next.qrCode, QR_IMAGE), payUrl: cashierUrl(token) };
  }
  if (next.type === 'redirect_to_url') return { paymentUrl: next.url, payUrl: cashierUrl(token), channelPayUrl: next.url };
  return { paymentUrl: next.url, sdkParams: { ...next.params }, ...(scenario === 'JSAPI' || scenario === 'ONLINE_WAP' ? { payUrl: cashierUrl(token) } : {}) };
}

export function paymentsRoutes(app: FastifyInstance, deps: AlphapayDeps, now: () => number): void {
  const { payments } = deps;
  const orders = new AlphapayOrders(deps);
  const merchantOf = (req: FastifyRequest) => req.alphapayMerchant!;

  async function findOrder(req: FastifyRequest, ref: { paymentId?: string; paymentRequestId?: string }): Promise<IntentView> {
    const merchantId = merchantOf(req).id;
    if (!ref.paymentId && !ref.paymentRequestId) throw paramInvalid('paymentId is required');
    const view = ref.paymentId ? await orders.byId(merchantId, ref.paymentId) : await orders.byRequestId(merchantId, ref.paymentRequestId!);
    if (!view) throw new AlphapayError('ORDER_NOT_EXIST', `no payment ${ref.paymentId ?? ref.paymentRequestId} for this merchant`);
    return view;
  }

  app.post('/pay', { schema: { body: PayRequest, summary: 'Create a payment (every scenarioCode)', tags: ['alphapay'] } }, async (req) => {
    const body = req.body as PayRequest;
    const merchant = merchantOf(req);
    const scenario = body.scenarioCode;
    const isCard = scenario === 'CREDIT_CARD';
    const methodType = body.paymentMethod?.paymentMethodType;
    if (!isCard && !methodType) throw paramInvalid('paymentMethod.paymentMethodType is required');
    if (scenario === 'ONLINE_WEB' && methodType === 'Wechat') throw paramInvalid('ONLINE_WEB takes Alipay or UnionPay');
    if ((scenario === 'MINI_APP' || scenario === 'NATIVE_JSAPI') && !body.customer?.appId) throw paramInvalid(`customer.appId is required for ${scenario}`);
    if (isCard && !body.card?.info) throw paramInvalid('card.info is required for CREDIT_CARD');
    const amount = minorUnits(body.order.orderAmount.value, 'order.orderAmount.value');
    const currency = orderCurrency(body.order.orderAmount.currency, 'order.orderAmount.currency');
    const description = [...body.order.description].slice(0, 128).join('');
    const notifyUrl = httpUrl(body.order.notifyUrl, 'order.notifyUrl');
    const redirectUrl = httpUrl(body.order.redirectUrl, 'order.redirectUrl');
    const settlement = settlementValue(amount, currency, deps.fx);
    if (isCard && settlement.belowMinimum) throw new AlphapayError('AMOUNT_INVALID', 'the order is worth less than 0.01 CAD');

    let paymentMethod: PaymentMethodInput;
    if (isCard) {
      const info = body.card!.info!;
      paymentMethod = {
        type: 'card',
        card: {
          number: info.number,
          expiryMonth: info.expMonth,
          expiryYear: info.expYear,
          ...(info.cvv ? { cvc: info.cvv } : {}),
          ...(info.holder ? { cardName: info.holder } : {}),
          billing: {
            ...(body.card!.email ? { email: body.card!.email } : {}),
            address: {
              ...(info.country ? { countryCode: info.country } : {}),
              ...(info.state ? { state: info.state } : {}),
              ...(info.city ? { city: info.city } : {}),
              ...(info.address ? { street: info.address } : {}),
              ...(info.postalCode ? { postcode: info.postalCode } : {}),
            },
          },
          autoCapture: true,
          threeDsAction: 'skip_3ds',
        },
      };
    } else {
      const flow = FLOWS[scenario as Exclude<ScenarioCode, 'CREDIT_CARD'>];
      const paymentCode = body.paymentMethod?.paymentCode;
      if (flow === 'payment_code' && !paymentCode) throw paramInvalid('paymentMethod.paymentCode is required for OFFLINE');
      if (flow === 'payment_code' && !/^\d{10,32}$/.test(paymentCode!)) throw paramInvalid('paymentMethod.paymentCode must be the 10-32 digits of the shopper\'s code');
      paymentMethod = {
        type: 'wallet',
        wallet: {
          kind: WALLETS[methodType!],
          flow,
          ...(body.env?.osType ? { osType: body.env.osType } : {}),
          ...(flow === 'payment_code' ? { paymentCode: paymentCode! } : {}),
          ...(settlement.belowMinimum ? { refusal: AMOUNT_BELOW_MINIMUM } : {}),
        },
      };
    }
    const meta: AlphapayOrderMeta = {
      api: 'v2',
      scenarioCode: scenario,
      paymentMethodType: isCard ? 'CreditCard' : methodType!,
      orderAmount: { value: String(amount), currency },
      payAmount: settlement.payAmount,
      exchangeRate: settlement.exchangeRate,
      ...(redirectUrl ? { redirectUrl } : {}),
      ...(body.customer ? { customer: body.customer } : {}),
      ...(body.env ? { env: body.env } : {}),
    };
    const input: CreateIntentInput = {
      amount,
      currency,
      description,
      merchantOrderId: body.paymentRequestId,
      metadata: { alphapay: meta },
      returnUrl: redirectUrl ?? null,
      origin: 'alphapay',
      notifyUrl: notifyUrl ?? null,
      paymentMethod,
    };
    let view: IntentView;
    try {
      view = await payments.createIntent(merchant.id, input, reserving(PAYMENT_REFERENCE_SCOPE, merchant.id, body.paymentRequestId, now));
    } catch (e) {
      if (isDomainError(e) && e.kind === 'validation') throw paramInvalid(e.message);
      throw e;
    }
    const outcome = payResult(view);
    const info = await paymentInfo(view, scenario, deps.cashierUrl);
    return {
      scenarioCode: scenario,
      paymentRequestId: body.paymentRequestId,
      order: orderObject(view.intent, meta),
      paymentMethod: { paymentMethodType: meta.paymentMethodType },
      ...(body.customer ? { customer: body.customer } : {}),
      ...(isCard ? { card: { cardId: body.card?.cardId ?? view.attempt?.id ?? '' } } : {}),
      ...(info ? { paymentInfo: info } : {}),
      paymentCreateTime: isoTime(view.intent.createdAt),
      paymentExpireTime: isoTime(view.intent.expiresAt),
      paymentId: view.intent.id,
      result: result(outcome.code, outcome.message),
    };
  });

  app.post('/inquiryPayment', { schema: { body: PaymentRef, summary: 'A payment and its status', tags: ['alphapay'] } }, async (req) => {
    const view = await findOrder(req, req.body as PaymentRef);
    return { ...paymentInquiryBody(view), result: result('SUCCESS') };
  });

  app.post('/cancel', { schema: { body: PaymentRef, summary: 'Cancel an unpaid payment', tags: ['alphapay'] } }, async (req) => {
    const merchantId = merchantOf(req).id;
    const order = await findOrder(req, req.body as PaymentRef);
    const paidRefusal = () => new AlphapayError('ORDER_PAID', `payment ${order.intent.id} is paid: refund it instead`);
    let view = order;
    if (order.intent.status === 'SUCCEEDED') throw paidRefusal();
    if (order.intent.status === 'FAILED') throw new AlphapayError('ORDER_CLOSED', `payment ${order.intent.id} is closed`);
    if (order.intent.status !== 'CANCELLED') {
      try {
        // Checked again as the cancel settles: a payment that landed meanwhile is not given back either.
        view = await payments.cancel(merchantId, order.intent.id, 'requested_by_customer', {
          end: async (_tx, outcome) => {
            if ((outcome.attempt?.capturedAmount ?? 0) > 0) throw paidRefusal();
          },
        });
      } catch (e) {
        if (!isDomainError(e) || e.kind !== 'invalid_state') throw e;
        const now = await orders.byId(merchantId, order.intent.id);
        if (now?.intent.status === 'SUCCEEDED') throw paidRefusal();
        throw new AlphapayError('ORDER_CLOSED', e.message);
      }
    }
    return {
      paymentRequestId: view.intent.merchantOrderId ?? '',
      paymentId: view.intent.id,
      cancelTime: isoTime(view.intent.cancelTime ?? now()),
      result: result('SUCCESS'),
    };
  });

  app.post('/refund', { schema: { body: RefundRequest, summary: 'Refund a payment, in part or in full', tags: ['alphapay'] } }, async (req) => {
    const body = req.body as RefundRequest;
    const merchantId = merchantOf(req).id;
    const amount = minorUnits(body.refund.refundAmount.value, 'refund.refundAmount.value');
    const notifyUrl = httpUrl(body.refund.notifyUrl, 'refund.notifyUrl');
    const view = await findOrder(req, { paymentId: body.paymentId });
    const refund = await orders.refundOrder(
      merchantId,
      view,
      {
        amount,
        ...(body.refund.refundAmount.currency !== undefined ? { currency: body.refund.refundAmount.currency } : {}),
        ...(body.refundRequestId ? { refundRequestId: body.refundRequestId } : {}),
        ...(body.refund.description ? { description: body.refund.description } : {}),
        ...(notifyUrl ? { notifyUrl } : {}),
      },
      now,
    );
    const code: ResultCode = refund.status === 'SUCCEEDED' ? 'SUCCESS' : refund.status === 'FAILED' ? 'REFUND_FAILED' : 'REFUND_IN_PROCESS';
    return { ...refundInquiryBody(refund), result: result(code) };
  });

  app.post('/inquiryRefund', { schema: { body: RefundRef, summary: 'A refund and its status', tags: ['alphapay'] } }, async (req) => {
    const ref = req.body as RefundRef;
    if (!ref.refundId && !ref.refundRequestId) throw paramInvalid('refundId or refundRequestId is required');
    const refund = await orders.refund(merchantOf(req).id, ref);
    if (!refund) throw new AlphapayError('REFUND_NOT_EXIST', `no refund ${ref.refundId ?? ref.refundRequestId} for this merchant`);
    return { ...refundInquiryBody(refund), result: result('SUCCESS') };
  });

  app.post('/transactions', { schema: { body: TransactionsRequest, summary: 'The day\'s payments and refunds, by page', tags: ['alphapay'] } }, async (req) => {
    const body = req.body as TransactionsRequest;
    const page = body.page ?? 1;
    const pageLimit = body.pageLimit ?? 10;
    const all = (await transactionsOf(payments, deps.fx, merchantOf(req).id, body.date)).filter(
      (t) => !body.transactionType || body.transactionType === 'All' || t.transactionType === body.transactionType,
    );
    return {
      transactions: all.slice((page - 1) * pageLimit, page * pageLimit),
      pagination: { page, pageLimit, totalPage: Math.max(1, Math.ceil(all.length / pageLimit)), total: all.length },
      result: result('SUCCESS'),
    };
  });

  app.post('/settlements', { schema: { body: SettlementsRequest, summary: 'The day\'s settlement per currency', tags: ['alphapay'] } }, async (req) => {
    const body = req.body as SettlementsRequest;
    return { settlements: settlementsOf(await transactionsOf(payments, deps.fx, merchantOf(req).id, body.date), body.date), result: result('SUCCESS') };
  });
}

