/** QFPay trade routes: wire request -> core command -> wire response. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.ts';
import { isDomainError } from '../../core/errors.ts';
import type { IdGenerator } from '../../core/ids.ts';
import type { Merchant } from '../../core/merchants/merchants.ts';
import { walletOfPaymentCode } from '../../core/payments/methods.ts';
import type { CreateIntentInput, IntentView, PaymentsService } from '../../core/payments/service.ts';
import type { CommandHooks } from '../../core/payments/command.ts';
import type { Refund } from '../../core/payments/types.ts';
import type { ReferenceRepository } from '../../store/references-repo.ts';
import { paramError, QfError, RESPCD, type Respcd } from './errors.ts';
import { PAY_TYPES, QFPAY_CURRENCIES, RETIRED_PAY_TYPES, walletFor, type PayType } from './pay-types.ts';
import { AuthTradeRequest, CancelRequest, PaymentRequest, QueryRequest, RefundRequest, UnfreezeRequest } from './schemas.ts';
import {
  cashFee,
  cashRefund,
  hkMonth,
  intentIdOf,
  isQfOrder,
  orderFields,
  orderStatus,
  parseQfTime,
  payTypeOf,
  paymentRow,
  qfTime,
  refundIdOf,
  refundRow,
  refundStatus,
  syssnOf,
  type QfOrderMeta,
  type QfRefundMeta,
} from './wire.ts';

export interface QfpayDeps {
  payments: PaymentsService;
  references: ReferenceRepository;
  clock: Clock;
  ids: IdGenerator;
  /** The hosted card page of an order of a card pay_type (its pay_url). */
  cardPageUrl: (view: IntentView) => string;
}

/** Who is asking: the app code's merchant, and the merchant acted for (itself or a sub-merchant named by mchid). */
export interface QfContext {
  app: Merchant;
  merchant: Merchant;
  /** The mchid sent, when it named a sub-merchant. */
  mchid: string | null;
  /** Decoded parameters, empty ones dropped. */
  params: Record<string, string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    qf: QfContext;
  }
}

/** merchant_references scope of out_trade_no (payments and refunds share it). */
export const REFERENCE_SCOPE = 'qfpay';
/** merchant_references scope of the syssn a pre-authorization's capture (authtrade) answers with -> the order. */
export const CAPTURE_SCOPE = 'qfpay_authtrade';

const MAX_PAGE_SIZE = 100;
/** Rows a time-range query reads at most before filtering and paging. */
const MAX_SCAN = 10_000;

function param(req: FastifyRequest, name: string): string | undefined {
  const v = req.qf.params[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function required(req: FastifyRequest, name: string): string {
  const v = param(req, name);
  if (v === undefined) throw paramError(`${name} is required`);
  return v;
}

function minorUnits(text: string, field: string): number {
  if (!/^\d{1,11}$/.test(text)) throw paramError(`${field} must be a whole number of minor units (at most 11 digits)`);
  const n = Number(text);
  if (n <= 0) throw paramError(`${field} must be greater than 0`);
  return n;
}

function requestTime(text: string, field: string): number {
  const ms = parseQfTime(text);
  if (ms === null) throw paramError(`${field} must be a time as YYYY-MM-DD hh:mm:ss`);
  return ms;
}

function httpUrl(text: string | undefined, field: string): string | undefined {
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw paramError(`${field} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw paramError(`${field} must be an absolute http(s) URL`);
  return text;
}

function list(text: string | undefined): string[] {
  return text === undefined ? [] : [...new Set(text.split(',').map((x) => x.trim()).filter(Boolean))];
}

/** Pay types that give no money back (FPS): once paid, an order of theirs is neither reversed nor closed. */
function refuseNonReversible(view: IntentView): void {
  const payType = payTypeOf(view.intent);
  if (payType?.noRefunds && (view.attempt?.capturedAmount ?? 0) > 0) {
    throw new QfError('1150', `pay_type ${payType.code} (${payType.description}) orders cannot be reversed or closed once paid`);
  }
}

/**
 * A pay type offered only to merchants of a region is refused in another
 * region's currency: the merchant is not set up for it there (QFPay's 1250,
 * a transaction the account may not make).
 */
function refuseOutsideRegion(payType: PayType, currency: string): void {
  if (payType.currencies && !payType.currencies.includes(currency)) {
    throw new QfError(
      '1250',
      `pay_type ${payType.code} (${payType.description}) is for ${payType.region} merchants paid in ${payType.currencies.join(' or ')}; this merchant is not set up for it in ${currency}`,
    );
  }
}

const ok = (): { respcd: Respcd; respmsg: string; resperr: string } => ({ respcd: '0000', respmsg: '', resperr: 'success' });

/** A status other than success: resperr says what happened, respmsg what the code means. */
function status(respcd: Respcd, errmsg: string) {
  return respcd === '0000' ? ok() : { respcd, respmsg: RESPCD[respcd], resperr: errmsg };
}

export function tradeRoutes(app: FastifyInstance, deps: QfpayDeps): void {
  const { payments, references } = deps;

  /** An order of this merchant by syssn, or null (UQPAY intents are not QFPay orders). */
  async function orderBySyssn(merchantId: string, syssn: string): Promise<IntentView | null> {
    if (!/^\d{1,40}$/.test(syssn)) return null;
    // A pre-authorization's capture answered with a syssn of its own: refunds name the payment by it.
    const captured = (await references.find(merchantId, CAPTURE_SCOPE, [syssn])).get(syssn);
    try {
      const view = await payments.getIntent(merchantId, captured ?? intentIdOf(syssn));
      return isQfOrder(view.intent) ? view : null;
    } catch (e) {
      if (isDomainError(e) && e.kind === 'not_found') return null;
      throw e;
    }
  }

  async function refundBySyssn(merchantId: string, syssn: string): Promise<Refund | null> {
    if (!/^\d{1,40}$/.test(syssn)) return null;
    try {
      return await payments.getRefund(merchantId, refundIdOf(syssn));
    } catch (e) {
      if (isDomainError(e) && e.kind === 'not_found') return null;
      throw e;
    }
  }

  /** Before answering about a CPM order whose payer was still confirming, ask the wallet how it ended. */
  async function settled(merchantId: string, view: IntentView): Promise<IntentView> {
    if (view.attempt?.status !== 'PENDING_AUTHORIZATION') return view;
    if (!(await payments.settleWalletAttempt(view.attempt))) return view;
    return payments.getIntent(merchantId, view.intent.id);
  }

  /** The order named by syssn, else by out_trade_no; when both are sent they must name the same order. */
  async function findOrder(req: FastifyRequest): Promise<IntentView> {
    const merchantId = req.qf.merchant.id;
    const syssn = param(req, 'syssn');
    const outTradeNo = param(req, 'out_trade_no');
    if (!syssn && !outTradeNo) throw paramError('syssn or out_trade_no is required');
    let view: IntentView | null = null;
    if (syssn) view = await orderBySyssn(merchantId, syssn);
    else {
      const objectId = (await references.find(merchantId, REFERENCE_SCOPE, [outTradeNo!])).get(outTradeNo!);
      if (objectId?.startsWith('PI')) view = await orderBySyssn(merchantId, syssnOf(objectId));
    }
    if (!view) throw new QfError('1268', `no payment with ${syssn ? `syssn ${syssn}` : `out_trade_no ${outTradeNo}`} for this merchant`);
    if (syssn && outTradeNo && view.intent.merchantOrderId !== outTradeNo) {
      throw new QfError('1267', `syssn ${syssn} is the order with out_trade_no ${view.intent.merchantOrderId ?? ''}, not ${outTradeNo}`);
    }
    return settled(merchantId, view);
  }

  /**
   * Reserves out_trade_no for what a command creates, in the command's first
   * unit of work: the reservation is an insert into merchant_references (its
   * primary key decides), so of two requests with one out_trade_no exactly
   * one goes on, and it is recorded together with the order or refund.
   */
  function reserving<O>(merchantId: string, outTradeNo: string): CommandHooks<O> {
    return {
      async begin(tx, subjectId) {
        if (!(await tx.reserveReference(merchantId, REFERENCE_SCOPE, outTradeNo, subjectId, deps.clock.now()))) {
          throw new QfError('2011', `out_trade_no ${outTradeNo} was already used by a payment or refund of this merchant`);
        }
      },
    };
  }

  // ---- payment ------------------------------------------------------------

  app.post('/payment', { schema: { body: PaymentRequest, summary: 'Create a payment (every pay_type)', tags: ['qfpay'] } }, async (req) => {
    const code = required(req, 'pay_type');
    const retired = RETIRED_PAY_TYPES.get(code);
    if (retired) throw new QfError('1250', `pay_type ${code} (${retired}) has been withdrawn from QFPay's pay types; no merchant is set up for it`);
    const payType = PAY_TYPES.get(code);
    if (!payType) throw paramError(`pay_type ${code} is not a known QFPay pay_type`);
    const currency = required(req, 'txcurrcd').toUpperCase();
    if (!QFPAY_CURRENCIES.has(currency)) throw paramError(`txcurrcd ${currency} is not supported; use one of ${[...QFPAY_CURRENCIES].join(', ')}`);
    refuseOutsideRegion(payType, currency);
    const amount = minorUnits(required(req, 'txamt'), 'txamt');
    const outTradeNo = required(req, 'out_trade_no');
    if (outTradeNo.length > 128) throw paramError('out_trade_no must be at most 128 characters');
    const txdtm = required(req, 'txdtm');
    requestTime(txdtm, 'txdtm');
    const goodsName = param(req, 'goods_name');
    if (goodsName !== undefined && [...goodsName].length > 64) throw paramError('goods_name must be at most 64 characters');
    const udid = param(req, 'udid');
    if (udid !== undefined && udid.length > 40) throw paramError('udid must be at most 40 characters');
    const notifyUrl = httpUrl(param(req, 'notify_url'), 'notify_url');
    const returnUrl = httpUrl(param(req, 'return_url'), 'return_url');
    if (returnUrl !== undefined && payType.returnUrlMaxLength !== undefined && [...returnUrl].length > payType.returnUrlMaxLength) {
      throw paramError(`return_url must be at most ${payType.returnUrlMaxLength} characters for pay_type ${code}`);
    }
    if (returnUrl === undefined && payType.returnUrlRequired) throw paramError(`return_url is required for pay_type ${code}`);
    let expiresInMs: number | undefined;
    const expired = param(req, 'expired_time');
    if (expired !== undefined && payType.flow !== 'payment_code') {
      const minutes = /^\d{1,3}$/.test(expired) ? Number(expired) : NaN;
      if (!(minutes >= 5 && minutes <= 120)) throw paramError('expired_time must be 5 to 120 minutes');
      expiresInMs = minutes * 60_000;
    }

    const kind = walletFor(payType, param(req, 'pay_tag'));
    let paymentCode: string | undefined;
    if (payType.flow === 'payment_code') {
      paymentCode = param(req, 'auth_code');
      if (!paymentCode) throw paramError(`auth_code is required for pay_type ${code}`);
      if (!/^\d{10,32}$/.test(paymentCode)) throw new QfError('1202', 'auth_code must be the 10-32 digits of the shopper\'s payment code');
    }
    if (!payType.card && !(kind ?? walletOfPaymentCode(paymentCode!))) throw new QfError('1202', 'auth_code does not belong to a supported wallet');

    const merchantId = req.qf.merchant.id;
    const meta: QfOrderMeta = {
      pay_type: code,
      txdtm,
      ...(udid ? { udid } : {}),
      ...(goodsName ? { goods_name: goodsName } : {}),
      ...(req.qf.mchid ? { mchid: req.qf.mchid } : {}),
    };
    const input: CreateIntentInput = {
      amount,
      currency,
      description: goodsName ?? null,
      merchantOrderId: outTradeNo,
      metadata: { qfpay: meta },
      returnUrl: returnUrl ?? null,
      origin: 'qfpay',
      // A sub-merchant's notifications go where its app code's do (one URL per app code).
      notifyUrl: notifyUrl ?? (req.qf.mchid ? req.qf.app.webhookUrl : null),
      // A card order waits for the card on the hosted card page.
      ...(payType.card ? {} : { paymentMethod: { type: 'wallet' as const, wallet: { kind, flow: payType.flow, ...(paymentCode ? { paymentCode } : {}), ...(payType.preAuth ? { authorizeOnly: true } : {}) } } }),
      ...(expiresInMs !== undefined ? { expiresInMs } : {}),
    };
    const view = await payments.createIntent(merchantId, input, reserving(merchantId, outTradeNo));

    const fields = orderFields(view);
    const next = view.intent.nextAction;
    const waiting = view.intent.status === 'REQUIRES_CUSTOMER_ACTION' || (payType.card !== undefined && view.intent.status === 'REQUIRES_PAYMENT_METHOD');
    const st = payType.flow === 'payment_code' || !waiting ? orderStatus(view) : { respcd: '0000' as Respcd, errmsg: 'success' };
    const extra: Record<string, unknown> = {};
    if (waiting && payType.card) {
      extra.pay_url = deps.cardPageUrl(view);
    } else if (waiting && next?.type === 'display_qr_code') {
      extra.qrcode = next.qrCode;
      if (payType.payUrlToo) extra.pay_url = next.qrCodeUrl;
    } else if (waiting && next?.type === 'redirect_to_url') {
      extra.pay_url = next.url;
      if (payType.returnUrlRequired) extra.web_url = next.url;
    } else if (waiting && next?.type === 'sdk_params') {
      extra.pay_params = { ...next.params };
    }
    return {
      ...status(st.respcd, st.errmsg),
      pay_type: code,
      txamt: fields.txamt,
      txcurrcd: fields.txcurrcd,
      txdtm: fields.txdtm,
      sysdtm: fields.sysdtm,
      paydtm: fields.paydtm,
      out_trade_no: fields.out_trade_no,
      syssn: fields.syssn,
      chnlsn: fields.chnlsn,
      cardcd: fields.cardcd,
      udid: fields.udid,
      ...extra,
    };
  });

  // ---- query ----------------------------------------------------------------

  app.post('/query', { schema: { body: QueryRequest, summary: 'Query payments and refunds', tags: ['qfpay'] } }, async (req) => {
    const merchantId = req.qf.merchant.id;
    const pageText = param(req, 'page') ?? '1';
    const sizeText = param(req, 'page_size') ?? '10';
    if (!/^\d{1,8}$/.test(pageText) || Number(pageText) < 1) throw paramError('page must be a number from 1');
    if (!/^\d{1,8}$/.test(sizeText) || Number(sizeText) < 1) throw paramError('page_size must be a number from 1 to 100');
    const page = Number(pageText);
    const pageSize = Math.min(Number(sizeText), MAX_PAGE_SIZE);
    const payTypes = new Set(list(param(req, 'pay_type')));
    const respcds = new Set(list(param(req, 'respcd')));
    const syssns = list(param(req, 'syssn'));
    const outTradeNos = list(param(req, 'out_trade_no'));

    /** The payments asked for, and the refunds asked for. */
    const orders = new Map<string, IntentView>();
    const refunds = new Map<string, Refund>();
    /** Every order looked at, also those only read as a refund's payment. */
    const seen = new Map<string, IntentView | null>();
    const orderOf = async (intentId: string): Promise<IntentView | null> => {
      if (!seen.has(intentId)) seen.set(intentId, orders.get(intentId) ?? (await orderBySyssn(merchantId, syssnOf(intentId))));
      return seen.get(intentId)!;
    };

    if (syssns.length || outTradeNos.length) {
      const ids = new Set<string>();
      for (const s of syssns) {
        if (!/^\d{1,40}$/.test(s)) continue;
        ids.add(intentIdOf(s));
        ids.add(refundIdOf(s));
      }
      for (const objectId of (await references.find(merchantId, CAPTURE_SCOPE, syssns)).values()) ids.add(objectId);
      for (const objectId of (await references.find(merchantId, REFERENCE_SCOPE, outTradeNos)).values()) {
        if (/^(PI|RF)/.test(objectId)) ids.add(objectId);
      }
      for (const id of ids) {
        if (id.startsWith('PI')) {
          const view = await orderOf(id);
          if (view) orders.set(view.intent.id, view);
        } else {
          const refund = await refundBySyssn(merchantId, syssnOf(id));
          if (refund && (await orderOf(refund.intentId))) refunds.set(refund.id, refund);
        }
      }
    } else {
      const now = deps.clock.now();
      const month = hkMonth(now);
      const startText = param(req, 'start_time');
      const endText = param(req, 'end_time');
      const from = startText !== undefined ? requestTime(startText, 'start_time') : endText !== undefined ? hkMonth(requestTime(endText, 'end_time')).start : month.start;
      const to = endText !== undefined ? requestTime(endText, 'end_time') : hkMonth(from).end - 1;
      if (to < from) throw paramError('end_time must not be before start_time');
      if (hkMonth(from).start !== hkMonth(to).start) throw paramError('start_time and end_time must be in the same calendar month');
      for (let pageNumber = 1; ; pageNumber++) {
        const chunk = await payments.listIntents(merchantId, { createdFrom: from, createdTo: to }, { pageSize: 100, pageNumber });
        for (const view of chunk.items) if (isQfOrder(view.intent)) orders.set(view.intent.id, view);
        if (chunk.items.length < 100 || pageNumber * 100 >= MAX_SCAN) break;
      }
      for (let pageNumber = 1; ; pageNumber++) {
        const chunk = await payments.listRefunds(merchantId, { createdFrom: from, createdTo: to }, { pageSize: 100, pageNumber });
        for (const refund of chunk.items) refunds.set(refund.id, refund);
        if (chunk.items.length < 100 || pageNumber * 100 >= MAX_SCAN) break;
      }
      for (const refund of refunds.values()) if (!(await orderOf(refund.intentId))) refunds.delete(refund.id);
    }

    // Payer still confirming: ask the wallet first, so the answer is the latest.
    for (const [id, view] of orders) {
      const latest = await settled(merchantId, view);
      orders.set(id, latest);
      seen.set(id, latest);
    }

    const rows: Array<{ at: number; id: string; row: Record<string, string> }> = [];
    for (const view of orders.values()) rows.push({ at: view.intent.createdAt, id: view.intent.id, row: paymentRow(view) });
    for (const refund of refunds.values()) {
      const order = await orderOf(refund.intentId);
      if (order) rows.push({ at: refund.createdAt, id: refund.id, row: refundRow(refund, order) });
    }
    const filtered = rows
      .filter(({ row }) => (payTypes.size === 0 || payTypes.has(row.pay_type!)) && (respcds.size === 0 || respcds.has(row.respcd!)))
      .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return {
      ...ok(),
      page: String(page),
      page_size: String(pageSize),
      data: filtered.slice((page - 1) * pageSize, page * pageSize).map((r) => r.row),
    };
  });

  // ---- refund -----------------------------------------------------------------

  app.post('/refund', { schema: { body: RefundRequest, summary: 'Refund a payment, fully or partly', tags: ['qfpay'] } }, async (req) => {
    const merchantId = req.qf.merchant.id;
    const syssn = required(req, 'syssn');
    const outTradeNo = required(req, 'out_trade_no');
    if (outTradeNo.length > 128) throw paramError('out_trade_no must be at most 128 characters');
    const amount = minorUnits(required(req, 'txamt'), 'txamt');
    const txdtm = required(req, 'txdtm');
    requestTime(txdtm, 'txdtm');
    const udid = param(req, 'udid');
    if (udid !== undefined && udid.length > 40) throw paramError('udid must be at most 40 characters');

    const found = await orderBySyssn(merchantId, syssn);
    if (!found) throw new QfError('1268', `no payment with syssn ${syssn} for this merchant`);
    const order = await settled(merchantId, found);
    const { intent, attempt } = order;
    if (payTypeOf(intent)?.noRefunds) throw new QfError('1155', `pay_type ${orderFields(order).pay_type} payments cannot be refunded`);
    if (intent.status === 'CANCELLED') throw new QfError('1263', `payment ${syssn} was cancelled`);
    if (intent.status !== 'SUCCEEDED' || !attempt) throw new QfError('1261', `payment ${syssn} is not paid`);
    const refundable = attempt.capturedAmount - attempt.refundedAmount;
    if (refundable <= 0) throw new QfError('1125', `payment ${syssn} has been refunded in full`);
    if (amount > refundable) throw new QfError('1272', `txamt ${amount} is more than the ${refundable} still refundable on payment ${syssn}`);

    const meta: QfRefundMeta = { out_trade_no: outTradeNo, txdtm, ...(udid ? { udid } : {}) };
    let refund: Refund;
    try {
      refund = await payments.createRefund(
        merchantId,
        { intentId: intent.id, amount, reason: 'requested_by_customer', metadata: { qfpay: meta } },
        reserving(merchantId, outTradeNo),
      );
    } catch (e) {
      if (isDomainError(e) && e.kind === 'amount') throw new QfError('1272', 'txamt is more than the amount still refundable on this payment');
      if (isDomainError(e) && e.kind === 'invalid_state') throw new QfError('1261', e.message);
      throw e;
    }
    const after = await payments.getIntent(merchantId, intent.id);
    const st = refundStatus(refund);
    return {
      ...status(st.respcd, st.errmsg),
      syssn: syssnOf(refund.id),
      orig_syssn: syssn,
      out_trade_no: outTradeNo,
      pay_type: orderFields(order).pay_type,
      txamt: String(refund.amount),
      txcurrcd: refund.currency,
      txdtm,
      sysdtm: qfTime(refund.createdAt),
      paydtm: qfTime(refund.updatedAt),
      chnlsn: attempt.wallet?.walletTransactionId ?? '',
      cardcd: '',
      udid: udid ?? '',
      ...cashFee(after.attempt),
      ...cashRefund(after.attempt, refund),
    };
  });

  // ---- pre-authorization: capture (authtrade) and release (unfreeze) ----------

  /** The pre-authorization named by syssn, settled with the wallet first. */
  async function freezeOf(req: FastifyRequest): Promise<IntentView> {
    const syssn = required(req, 'syssn');
    const found = await orderBySyssn(req.qf.merchant.id, syssn);
    if (!found) throw new QfError('1268', `no payment with syssn ${syssn} for this merchant`);
    if (!payTypeOf(found.intent)?.preAuth) throw new QfError('1136', `syssn ${syssn} is not a pre-authorization (pay_type ${orderFields(found).pay_type})`);
    return settled(req.qf.merchant.id, found);
  }

  /** Why a pre-authorization is no longer frozen: captured, released, or never frozen. */
  function notFrozen({ intent }: IntentView): QfError {
    if (intent.status === 'SUCCEEDED') return new QfError('1264', 'the pre-authorization was finished by its capture (authtrade): what was not captured was released then');
    if (intent.status === 'CANCELLED') return new QfError('1263', 'the pre-authorization was released (unfrozen or reversed)');
    if (intent.status === 'FAILED') return new QfError('1181', 'the pre-authorization expired before the payer froze the funds');
    return new QfError('1261', 'the payer has not frozen the funds yet');
  }

  const frozenAnswer = (view: IntentView, own: { syssn: string; txamt: number; txdtm: string; outTradeNo: string; respmsg: string }) => {
    const fields = orderFields(view);
    return {
      ...ok(),
      respmsg: own.respmsg,
      syssn: own.syssn,
      orig_syssn: fields.syssn,
      out_trade_no: own.outTradeNo,
      pay_type: fields.pay_type,
      txamt: String(own.txamt),
      txcurrcd: fields.txcurrcd,
      txdtm: own.txdtm,
      sysdtm: qfTime(deps.clock.now()),
      paydtm: qfTime(deps.clock.now()),
      chnlsn: fields.chnlsn,
      cardcd: '',
      udid: fields.udid,
    };
  };

  app.post('/authtrade', { schema: { body: AuthTradeRequest, summary: 'Capture a pre-authorization, in full or part (the rest is released)', tags: ['qfpay'] } }, async (req) => {
    const merchantId = req.qf.merchant.id;
    const amount = minorUnits(required(req, 'txamt'), 'txamt');
    const txdtmText = param(req, 'txdtm');
    if (txdtmText !== undefined) requestTime(txdtmText, 'txdtm');
    const outTradeNo = param(req, 'out_trade_no');
    if (outTradeNo !== undefined && outTradeNo.length > 128) throw paramError('out_trade_no must be at most 128 characters');
    const order = await freezeOf(req);
    const currency = param(req, 'txcurrcd')?.toUpperCase();
    if (currency !== undefined && currency !== order.intent.currency) throw new QfError('1267', `txcurrcd ${currency} is not the currency of the pre-authorization (${order.intent.currency})`);
    if (order.intent.status !== 'REQUIRES_CAPTURE') throw notFrozen(order);
    if (amount > order.intent.amount) throw new QfError('1266', `txamt ${amount} is more than the ${order.intent.amount} frozen`);
    const captureSyssn = syssnOf(deps.ids.next('CP'));
    let view: IntentView;
    try {
      view = await payments.capture(merchantId, order.intent.id, amount, {
        async begin(tx) {
          const now = deps.clock.now();
          if (outTradeNo && !(await tx.reserveReference(merchantId, REFERENCE_SCOPE, outTradeNo, order.intent.id, now))) {
            throw new QfError('2011', `out_trade_no ${outTradeNo} was already used by a payment or refund of this merchant`);
          }
          await tx.reserveReference(merchantId, CAPTURE_SCOPE, captureSyssn, order.intent.id, now);
        },
      });
    } catch (e) {
      // Captured or released meanwhile by another request.
      if (isDomainError(e) && e.kind === 'invalid_state') throw notFrozen(await payments.getIntent(merchantId, order.intent.id));
      throw e;
    }
    return frozenAnswer(view, { syssn: captureSyssn, txamt: amount, txdtm: txdtmText ?? qfTime(deps.clock.now()), outTradeNo: outTradeNo ?? '', respmsg: 'Capture received' });
  });

  app.post('/unfreeze', { schema: { body: UnfreezeRequest, summary: 'Release a pre-authorization that was not captured', tags: ['qfpay'] } }, async (req) => {
    const merchantId = req.qf.merchant.id;
    const amount = minorUnits(required(req, 'txamt'), 'txamt');
    const txdtm = required(req, 'txdtm');
    requestTime(txdtm, 'txdtm');
    const outTradeNo = required(req, 'out_trade_no');
    const order = await freezeOf(req);
    if (order.intent.merchantOrderId !== outTradeNo) {
      throw new QfError('1267', `syssn ${orderFields(order).syssn} is the order with out_trade_no ${order.intent.merchantOrderId ?? ''}, not ${outTradeNo}`);
    }
    if (order.intent.status !== 'REQUIRES_CAPTURE') throw notFrozen(order);
    if (amount !== order.intent.amount) throw new QfError('1266', `txamt ${amount} is not the ${order.intent.amount} frozen`);
    let view: IntentView;
    try {
      view = await payments.cancel(merchantId, order.intent.id, 'requested_by_customer');
    } catch (e) {
      if (isDomainError(e) && e.kind === 'invalid_state') throw notFrozen(await payments.getIntent(merchantId, order.intent.id));
      throw e;
    }
    return frozenAnswer(view, { syssn: syssnOf(deps.ids.next('UF')), txamt: amount, txdtm, outTradeNo, respmsg: 'Void received' });
  });

  // ---- reversal / close -----------------------------------------------------

  const cancelOrder = async (req: FastifyRequest) => {
    const merchantId = req.qf.merchant.id;
    const txamt = minorUnits(required(req, 'txamt'), 'txamt');
    const txdtm = required(req, 'txdtm');
    requestTime(txdtm, 'txdtm');
    const order = await findOrder(req);
    if (txamt !== order.intent.amount) throw new QfError('1266', `txamt ${txamt} is not the amount of the order (${order.intent.amount})`);
    refuseNonReversible(order);
    let view = order;
    // Reversal is the last resort when the outcome is unknown: asking again after success succeeds again.
    if (order.intent.status !== 'CANCELLED') {
      try {
        // Checked again as the cancel settles, in its unit: a payment that landed meanwhile is not given back either.
        view = await payments.cancel(merchantId, order.intent.id, 'requested_by_customer', { end: async (_tx, outcome) => refuseNonReversible(outcome) });
      } catch (e) {
        if (!isDomainError(e) || e.kind !== 'invalid_state') throw e;
        const { intent, attempt } = order;
        if (intent.status === 'SUCCEEDED' && (attempt?.refundedAmount ?? 0) > 0) throw new QfError('1262', 'the order has refunds: it can no longer be reversed');
        if (intent.status === 'SUCCEEDED' && attempt?.paymentMethod.type === 'card') throw new QfError('1260', 'a paid card order is not reversed: use /trade/v1/refund');
        if (intent.status === 'SUCCEEDED') throw new QfError('1260', 'the order was paid on an earlier day: use /trade/v1/refund');
        if (intent.status === 'FAILED') throw new QfError('1181', 'the order has expired');
        throw new QfError('1205', e.message);
      }
    }
    const fields = orderFields(view);
    return {
      ...ok(),
      orig_syssn: fields.syssn,
      syssn: syssnOf(deps.ids.next('RV')),
      out_trade_no: fields.out_trade_no,
      pay_type: fields.pay_type,
      txamt: fields.txamt,
      txcurrcd: fields.txcurrcd,
      txdtm,
      sysdtm: qfTime(view.intent.cancelTime ?? deps.clock.now()),
      chnlsn: fields.chnlsn,
      cardcd: '',
      udid: param(req, 'udid') ?? fields.udid,
    };
  };
  for (const path of ['/reversal', '/close']) {
    app.post(path, { schema: { body: CancelRequest, summary: 'Cancel an unpaid order, or reverse a same-day wallet payment', tags: ['qfpay'] } }, cancelOrder);
    app.get(path, { schema: { querystring: CancelRequest, summary: 'Cancel an unpaid order, or reverse a same-day wallet payment', tags: ['qfpay'] } }, cancelOrder);
  }
}
