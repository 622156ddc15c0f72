/**
 * GET /download/v1/trade_bill: the day's statement as QFPay delivers it, a
 * zip archive, here holding one CSV (UTF-8, CRLF, RFC 4180 quoting) of the
 * successful payments and refunds whose sysdtm falls on trade_date (UTC+08:00).
 */
import { strToU8, zipSync } from 'fflate';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BUSINESS_UTC_OFFSET_MS } from '../../core/clock.ts';
import type { IntentView } from '../../core/payments/service.ts';
import type { Refund } from '../../core/payments/types.ts';
import { paramError } from './errors.ts';
import type { QfpayDeps } from './routes.ts';
import { TradeBillRequest } from './schemas.ts';
import { isQfOrder, paymentRow, refundRow } from './wire.ts';

export const BILL_COLUMNS = [
  'sysdtm', 'paydtm', 'txdtm', 'order_type', 'syssn', 'origssn', 'out_trade_no', 'pay_type', 'txcurrcd', 'txamt',
  'respcd', 'cancel', 'chnlsn', 'goods_name', 'exchange_rate', 'cash_fee', 'cash_fee_type', 'cash_refund_fee',
  'cash_refund_fee_type', 'udid', 'mchid',
] as const;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function billCsv(rows: Array<Record<string, string>>): string {
  const lines = [BILL_COLUMNS.join(',')];
  for (const row of rows) lines.push(BILL_COLUMNS.map((c) => csvField(row[c] ?? '')).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** trade_date as YYYYMMDD or YYYY-MM-DD -> the day's bounds at UTC+08:00. */
export function tradeDay(text: string): { compact: string; from: number; to: number } {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text.trim());
  const y = Number(m?.[1]);
  const mo = Number(m?.[2]);
  const d = Number(m?.[3]);
  const utc = Date.UTC(y, mo - 1, d);
  if (!m || new Date(utc).getUTCDate() !== d || new Date(utc).getUTCMonth() !== mo - 1) throw paramError('trade_date must be a date as YYYYMMDD');
  const from = utc - BUSINESS_UTC_OFFSET_MS;
  return { compact: `${m[1]}${m[2]}${m[3]}`, from, to: from + 86_400_000 - 1 };
}

export function billRoutes(app: FastifyInstance, deps: QfpayDeps): void {
  const handler = async (req: FastifyRequest, reply: import('fastify').FastifyReply) => {
    const text = req.qf.params.trade_date;
    if (!text) throw paramError('trade_date is required');
    const day = tradeDay(text);
    const merchantId = req.qf.merchant.id;
    const mchid = req.qf.mchid ?? '';
    const orders = new Map<string, IntentView>();
    const refunds: Refund[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      const chunk = await deps.payments.listIntents(merchantId, { createdFrom: day.from, createdTo: day.to }, { pageSize: 100, pageNumber });
      for (const view of chunk.items) if (isQfOrder(view.intent)) orders.set(view.intent.id, view);
      if (chunk.items.length < 100) break;
    }
    for (let pageNumber = 1; ; pageNumber++) {
      const chunk = await deps.payments.listRefunds(merchantId, { createdFrom: day.from, createdTo: day.to }, { pageSize: 100, pageNumber });
      refunds.push(...chunk.items);
      if (chunk.items.length < 100) break;
    }
    const rows: Array<{ at: number; row: Record<string, string> }> = [];
    for (const view of orders.values()) rows.push({ at: view.intent.createdAt, row: paymentRow(view) });
    for (const refund of refunds) {
      let order = orders.get(refund.intentId) ?? null;
      if (!order) {
        order = await deps.payments.getIntent(merchantId, refund.intentId).catch(() => null);
        if (!order || !isQfOrder(order.intent)) continue;
      }
      rows.push({ at: refund.createdAt, row: refundRow(refund, order) });
    }
    const csv = billCsv(
      rows
        .filter(({ row }) => row.respcd === '0000')
        .sort((a, b) => a.at - b.at)
        .map(({ row }) => ({ ...row, origssn: row.origssn ?? '', mchid })),
    );
    const zip = zipSync({ [`trade_bill_${day.compact}.csv`]: strToU8(csv) }, { level: 6, mtime: new Date(day.from) });
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="trade_bill_${day.compact}.zip"`)
      .send(Buffer.from(zip));
  };
  const schema = { summary: "Download the day's bill (zip of a CSV)", tags: ['qfpay'] };
  app.get('/trade_bill', { schema: { ...schema, querystring: TradeBillRequest } }, handler);
  app.post('/trade_bill', { schema: { ...schema, body: TradeBillRequest } }, handler);
}
