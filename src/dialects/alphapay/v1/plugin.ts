/**
 * AlphaPay v1 under /api/v1.0: what shop plugins and the public npm client
 * speak. Every call carries `?time=<ms>&nonce_str=<random>&sign=<hex>` with
 * sign = SHA256("partner_code&time&nonce_str&credential_code"); the body is
 * not signed. A call without a valid sign (the npm client's refund calls send
 * none) is refused with INVALID_SIGN and moves nothing. Every answer, errors
 * included, is JSON with `return_code` (HTTP 200, 404 for no such endpoint).
 *
 * The orders are v2's: the path's order id is the merchant's
 * partner_order_id (= v2 paymentRequestId), order_id is AlphaPay's id
 * (= v2 paymentId), and a refund's partner_refund_id is v2's refundRequestId.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../../../core/errors.ts';
import type { Merchant } from '../../../core/merchants/merchants.ts';
import type { CreateIntentInput, IntentView } from '../../../core/payments/service.ts';
import type { Refund } from '../../../core/payments/types.ts';
import type { AlphapayPluginDeps } from '../plugin.ts';
import { qrDataUrl } from '../../../web/qr-image.ts';
import { AlphapayOrders, AMOUNT_BELOW_MINIMUM, QR_IMAGE, httpUrl, minorUnits, orderCurrency, paymentInfo, reserving, settlementValue, WALLETS } from '../payments-routes.ts';
import type { FaultKind, FaultRenderer } from '../../../http/faults.ts';
import { AlphapayError } from '../results.ts';
import { v1QuerySign } from '../signature.ts';
import type { PaymentMethodType, ScenarioCode } from '../schemas.ts';
import { BODY_LIMIT, REQUEST_TIME_WINDOW_MS } from '../transport.ts';
import { PAYMENT_REFERENCE_SCOPE, type AlphapayOrderMeta } from '../wire.ts';
import { v1OrderFields, v1OrderStatus } from './wire.ts';

/** A v1 refusal: `{return_code, return_msg}`. */
export class V1Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 200,
  ) {
    super(message);
  }
}

/** Any error under /api/v1.0 as the status and body AlphaPay v1 answers with. */
export function renderAlphapayV1Error(error: unknown): { status: number; body: { return_code: string; return_msg: string }; unexpected: boolean } {
  if (error instanceof V1Error) return { status: error.httpStatus, body: { return_code: error.code, return_msg: error.message }, unexpected: false };
  if (error instanceof AlphapayError) {
    const code: Record<string, string> = {
      PARAM_INVALID: 'PARAM_INVALID', ORDER_NOT_EXIST: 'ORDER_NOT_EXIST', ORDER_PAID: 'ORDER_PAID', REFUND_AMOUNT_EXCEED: 'REFUND_AMOUNT_EXCEED',
      DUPLICATE_REQUEST_ID: 'REFUND_EXISTS', ORDER_NOT_PAID: 'ORDER_NOT_PAID', ORDER_CLOSED: 'ORDER_CLOSED', CURRENCY_MISMATCH: 'PARAM_INVALID',
    };
    return { status: 200, body: { return_code: code[error.code] ?? 'SYSTEMERROR', return_msg: error.message }, unexpected: false };
  }
  if (isDomainError(error)) return { status: 200, body: { return_code: error.kind === 'not_found' ? 'ORDER_NOT_EXIST' : 'PARAM_INVALID', return_msg: error.message }, unexpected: false };
  const e = error as { code?: string; statusCode?: number; message?: string };
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: 200, body: { return_code: 'PARAM_INVALID', return_msg: e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'the body is larger than 64 KiB' : e.message ?? 'invalid request' }, unexpected: false };
  }
  return { status: 500, body: { return_code: 'SYSTEMERROR', return_msg: 'internal error; nothing was changed' }, unexpected: true };
}

/** HTTP-level faults as the v1 API answers them: JSON with return_code, like every v1 answer. */
const V1_FAULTS: Record<FaultKind, { status: number; code: string }> = {
  not_found: { status: 404, code: 'NOT_FOUND' },
  bad_request: { status: 200, code: 'PARAM_INVALID' },
  body_too_large: { status: 200, code: 'PARAM_INVALID' },
  unsupported_media: { status: 200, code: 'PARAM_INVALID' },
  unavailable: { status: 503, code: 'SYSTEMERROR' },
  overloaded: { status: 503, code: 'SYSTEM_BUSY' },
  rate_limited: { status: 429, code: 'SYSTEM_BUSY' },
  internal: { status: 500, code: 'SYSTEMERROR' },
};

export const alphapayV1Fault: FaultRenderer = (fault) => {
  const f = V1_FAULTS[fault.kind];
  return { status: f.status, body: { return_code: f.code, return_msg: fault.message } };
};

const CHANNELS = new Set<PaymentMethodType>(['Alipay', 'Wechat', 'UnionPay']);

type Params = { pc: string; orderId: string; refundId?: string };

declare module 'fastify' {
  interface FastifyRequest {
    alphapayV1Merchant: Merchant | null;
  }
}

export async function v1Scope(app: FastifyInstance, deps: AlphapayPluginDeps): Promise<void> {
  const orders = new AlphapayOrders(deps);
  const now = () => deps.clock.now();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const raw = (body as string).trim();
    if (raw === '') return done(null, {});
    try {
      const parsed = JSON.parse(raw);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
      done(null, parsed);
    } catch {
      done(new V1Error('PARAM_INVALID', 'the body must be a JSON object'));
    }
  });
  app.setErrorHandler((error, req, reply) => {
    const rendered = renderAlphapayV1Error(error);
    // Not one of AlphaPay's own (the database away, a bug): the app's fault formats answer it (alphapayV1Fault).
    if (rendered.unexpected) throw error;
    void reply.code(rendered.status).send(rendered.body);
  });
  app.decorateRequest('alphapayV1Merchant', null);

  // Who is asking, and did they sign? Before anything is read or written.
  app.addHook('preHandler', async (req) => {
    if (req.is404) return;
    const { pc } = req.params as Params;
    const q = req.query as Record<string, string | string[] | undefined>;
    const one = (k: string) => (Array.isArray(q[k]) ? undefined : (q[k] as string | undefined));
    const time = one('time');
    const nonce = one('nonce_str');
    const sign = one('sign');
    const merchant = pc ? await deps.merchants.byAlphapayMerchantCode(pc) : null;
    if (!merchant) throw new V1Error('INVALID_SHORT_ID', `no partner ${pc}`);
    if (merchant.disabledAt !== null) throw new V1Error('INVALID_SHORT_ID', `partner ${pc} is disabled`);
    if (!time || !nonce || !sign) throw new V1Error('INVALID_SIGN', 'time, nonce_str and sign are required in the query string');
    const credential = deps.merchants.alphapayCredentialCode(merchant);
    if (!credential) throw new V1Error('INVALID_SIGN', 'this partner has no v1 credential code');
    const expected = Buffer.from(v1QuerySign(pc, time, nonce, credential), 'utf8');
    const given = Buffer.from(sign.toLowerCase(), 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new V1Error('INVALID_SIGN', 'sign does not match');
    const sentAt = /^\d{1,15}$/.test(time) ? Number(time) : NaN;
    const real = deps.realClock.now();
    if (!(Math.abs(real - sentAt) <= REQUEST_TIME_WINDOW_MS)) throw new V1Error('SIGN_TIMEOUT', 'time is more than 5 minutes from the platform\'s time');
    if (nonce.length > 64 || !(await deps.nonces.claim(merchant.id, `v1:${nonce}`, Math.max(sentAt, real) + REQUEST_TIME_WINDOW_MS, real))) {
      throw new V1Error('INVALID_SIGN', 'this nonce_str was already used');
    }
    req.alphapayV1Merchant = merchant;
  });

  const partnerOrderId = (id: string) => {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new V1Error('PARAM_INVALID', 'the order id must be 1-64 letters, digits, _ . -');
    return id;
  };

  async function orderOf(req: FastifyRequest): Promise<IntentView> {
    const { orderId } = req.params as Params;
    const view = await orders.byRequestId(req.alphapayV1Merchant!.id, partnerOrderId(orderId));
    if (!view) throw new V1Error('ORDER_NOT_EXIST', `no order ${orderId}`);
    return view;
  }

  function orderAnswer(view: IntentView, merchant: Merchant) {
    return { return_code: 'SUCCESS', result_code: v1OrderStatus(view), partner_code: merchant.alphapay.merchantCode, ...v1OrderFields(view), order_description: view.intent.description ?? '' };
  }

  /** QR, JSAPI and H5 orders: one shape, a scenario each. */
  const createOrder = (scenario: ScenarioCode) => async (req: FastifyRequest, reply: FastifyReply) => {
    const merchant = req.alphapayV1Merchant!;
    const id = partnerOrderId((req.params as Params).orderId);
    const body = req.body as Record<string, unknown>;
    const str = (k: string) => (body[k] === undefined || body[k] === null ? undefined : typeof body[k] === 'string' || typeof body[k] === 'number' ? String(body[k]) : null);
    const description = str('description');
    if (!description) throw new V1Error('PARAM_INVALID', 'description is required');
    const price = str('price');
    if (!price) throw new V1Error('PARAM_INVALID', 'price is required (minor units)');
    let amount: number;
    let currency: string;
    try {
      amount = minorUnits(price, 'price');
      currency = orderCurrency(str('currency') ?? 'CAD', 'currency');
    } catch (e) {
      throw new V1Error('PARAM_INVALID', (e as Error).message);
    }
    const channel = (str('channel') ?? (scenario === 'ONLINE_WAP' ? 'Alipay' : 'Wechat')) as PaymentMethodType;
    if (!CHANNELS.has(channel)) throw new V1Error('INVALID_CHANNEL', 'channel must be Alipay, Wechat or UnionPay');
    if (scenario === 'ONLINE_WAP' && channel === 'Wechat') throw new V1Error('INVALID_CHANNEL', 'H5 payments take Alipay or UnionPay');
    let notifyUrl: string | undefined;
    try {
      notifyUrl = httpUrl(str('notify_url') ?? undefined, 'notify_url');
    } catch (e) {
      throw new V1Error('PARAM_INVALID', (e as Error).message);
    }
    const settlement = settlementValue(amount, currency, deps.fx);
    const existing = await orders.byRequestId(merchant.id, id);
    if (existing) {
      if (existing.intent.amount !== amount || existing.intent.currency !== currency) throw new V1Error('ORDER_MISMATCH', `order ${id} exists with another amount`);
      if (existing.intent.status === 'SUCCEEDED') throw new V1Error('ORDER_PAID', `order ${id} is paid`);
      return reply.send(await createdAnswer(existing, merchant, scenario, 'EXISTS'));
    }
    const meta: AlphapayOrderMeta = {
      api: 'v1',
      scenarioCode: scenario,
      paymentMethodType: channel,
      channel,
      orderAmount: { value: String(amount), currency },
      payAmount: settlement.payAmount,
      exchangeRate: settlement.exchangeRate,
    };
    const input: CreateIntentInput = {
      amount,
      currency,
      description: [...description].slice(0, 128).join(''),
      merchantOrderId: id,
      metadata: { alphapay: meta },
      origin: 'alphapay',
      notifyUrl: notifyUrl ?? null,
      paymentMethod: {
        type: 'wallet',
        wallet: { kind: WALLETS[channel], flow: scenario === 'ONLINE_QRCODE' ? 'qrcode' : 'web', ...(settlement.belowMinimum ? { refusal: AMOUNT_BELOW_MINIMUM } : {}) },
      },
    };
    let view: IntentView;
    try {
      view = await deps.payments.createIntent(merchant.id, input, reserving(PAYMENT_REFERENCE_SCOPE, merchant.id, id, now));
    } catch (e) {
      if (e instanceof AlphapayError && e.code === 'DUPLICATE_REQUEST_ID') throw new V1Error('ORDER_MISMATCH', `order ${id} was just made by another request`);
      throw e;
    }
    return reply.send(await createdAnswer(view, merchant, scenario, 'SUCCESS'));
  };

  async function createdAnswer(view: IntentView, merchant: Merchant, scenario: ScenarioCode, resultCode: 'SUCCESS' | 'EXISTS') {
    const info = (await paymentInfo(view, scenario, deps.cashierUrl)) ?? {};
    const codeUrl = (info.paymentUrl as string | undefined) ?? '';
    return {
      return_code: 'SUCCESS',
      result_code: resultCode,
      partner_code: merchant.alphapay.merchantCode,
      full_name: merchant.name,
      partner_name: merchant.name,
      channel: orderChannel(view),
      partner_order_id: view.intent.merchantOrderId ?? '',
      order_id: view.intent.id,
      code_url: codeUrl,
      pay_url: (info.payUrl as string | undefined) ?? codeUrl,
      ...(scenario === 'ONLINE_QRCODE' ? { qrcode_img: (info.paymentQRImage as string | undefined) ?? (codeUrl ? qrDataUrl(codeUrl, QR_IMAGE) : '') } : {}),
    };
  }

  const orderChannel = (view: IntentView) => v1OrderFields(view).channel;

  const ORDER = '/:pc/orders/:orderId';
  app.put(`/gateway/partners${ORDER}`, createOrder('ONLINE_QRCODE'));
  app.put(`/jsapi_gateway/partners${ORDER}`, createOrder('JSAPI'));
  app.put(`/h5_payment/partners${ORDER}`, createOrder('ONLINE_WAP'));

  const query = async (req: FastifyRequest) => orderAnswer(await orderOf(req), req.alphapayV1Merchant!);
  app.get(`/gateway/partners${ORDER}`, query);
  app.get(`/gateway/partners${ORDER}/`, query);

  /** The hosted pay page of an order (QR or H5), honouring `redirect`: the cashier. */
  const payPage = async (req: FastifyRequest, reply: FastifyReply) => {
    const view = await orderOf(req);
    const token = view.attempt?.walletToken;
    if (!token) throw new V1Error('ORDER_NOT_EXIST', 'the order has no pay page');
    const redirect = (req.query as { redirect?: string }).redirect;
    return reply.redirect(`${deps.cashierUrl(token)}${redirect ? `?redirect=${encodeURIComponent(redirect)}` : ''}`, 302);
  };
  app.get(`/gateway/partners${ORDER}/pay`, payPage);
  app.get(`/h5_payment/partners${ORDER}/pay`, payPage);

  const REFUND = `/gateway/partners${ORDER}/refunds/:refundId`;
  const refundAnswer = (refund: Refund) => ({
    return_code: 'SUCCESS',
    result_code: refund.status === 'SUCCEEDED' ? 'FINISHED' : refund.status === 'FAILED' ? 'CHANGE' : 'PROCESSING',
    refund_id: refund.id,
    partner_refund_id: (refund.metadata as { alphapay?: { refundRequestId?: string } } | null)?.alphapay?.refundRequestId ?? '',
    amount: refund.amount,
    currency: refund.currency,
  });
  app.put(REFUND, async (req) => {
    const merchant = req.alphapayV1Merchant!;
    const refundId = partnerOrderId((req.params as Params).refundId!);
    const body = req.body as Record<string, unknown>;
    const fee = typeof body.fee === 'number' || typeof body.fee === 'string' ? String(body.fee) : undefined;
    if (!fee) throw new V1Error('PARAM_INVALID', 'fee is required (minor units)');
    let amount: number;
    try {
      amount = minorUnits(fee, 'fee');
    } catch (e) {
      throw new V1Error('PARAM_INVALID', (e as Error).message);
    }
    const view = await orderOf(req);
    const earlier = await orders.refund(merchant.id, { refundRequestId: refundId });
    if (earlier) {
      if (earlier.intentId !== view.intent.id || earlier.amount !== amount) throw new V1Error('REFUND_EXISTS', `refund ${refundId} exists with another order or amount`);
      return refundAnswer(earlier);
    }
    const description = typeof body.description === 'string' ? body.description.slice(0, 256) : undefined;
    return refundAnswer(await orders.refundOrder(merchant.id, view, { amount, refundRequestId: refundId, ...(description ? { description } : {}) }, now));
  });
  app.get(REFUND, async (req) => {
    const view = await orderOf(req);
    const refund = await orders.refund(req.alphapayV1Merchant!.id, { refundRequestId: partnerOrderId((req.params as Params).refundId!) });
    if (!refund || refund.intentId !== view.intent.id) throw new V1Error('ORDER_NOT_EXIST', 'no such refund of this order');
    return refundAnswer(refund);
  });

  /** CAD to CNY at the platform's FX table (WeChat and Alipay use the same sandbox table). */
  const exchangeRate = async () => {
    const rate = Number(deps.fx.rate('CAD', 'CNY')?.rate ?? '0');
    return { return_code: 'SUCCESS', wechat_rate: rate, alipay_retail_rate: rate, alipay_online_rate: rate };
  };
  app.get('/gateway/partners/:pc/exchange_rate', exchangeRate);
  app.get('/gateway/partners/:pc/channel_exchange_rate', exchangeRate);
}
