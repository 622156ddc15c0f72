/**
 * /transactions and /settlements: a merchant's payments (Credit) and refunds
 * (Debit) completed on a UTC day, whatever API made them (the same ledger
 * the other dialects show), with their value in the settlement currency.
 */
import { convert } from '../../core/fx.ts';
import type { PaymentsService } from '../../core/payments/service.ts';
import type { FxRates } from '../../core/ports.ts';
import { paramInvalid } from './results.ts';
import { isoTime } from './transport.ts';
import { orderMeta, refundMeta, SETTLE_CURRENCY } from './wire.ts';

const DAY = 86_400_000;
/** Rows read at most per day and kind. */
const MAX_SCAN = 10_000;
const PAGE = 100;

export interface TransactionRow {
  requestId: string;
  transactionId: string;
  amount: string;
  currency: string;
  transactionType: 'Credit' | 'Debit';
  settleAmount: string;
  settleCurrency: string;
  exchangeRate: string;
  paymentMethod: string;
  createTime: string;
  transactionTime: string;
}

/** yyyyMMdd as the UTC day [start, end). */
export function utcDay(date: string): { start: number; end: number } {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  const start = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(start) || new Date(start).getUTCDate() !== Number(m[3])) throw paramInvalid('date must be a day as yyyyMMdd');
  return { start, end: start + DAY };
}

const METHOD_NAMES: Record<string, string> = { alipaycn: 'Alipay', wechatpay: 'Wechat', unionpay: 'UnionPay' };

function settle(amount: number, currency: string, fx: FxRates): { settleAmount: string; settleCurrency: string; exchangeRate: string } {
  if (currency !== 'CNY') return { settleAmount: String(amount), settleCurrency: currency, exchangeRate: '1' };
  const rate = fx.rate('CNY', SETTLE_CURRENCY)?.rate ?? '0';
  return { settleAmount: String(convert({ amount, currency }, SETTLE_CURRENCY, rate).amount), settleCurrency: SETTLE_CURRENCY, exchangeRate: rate };
}

export async function transactionsOf(payments: PaymentsService, fx: FxRates, merchantId: string, date: string): Promise<TransactionRow[]> {
  const { start, end } = utcDay(date);
  const rows: TransactionRow[] = [];
  // Paid on the day: made at most a day before (intents live 30 minutes unless told otherwise).
  for (let pageNumber = 1; pageNumber * PAGE <= MAX_SCAN; pageNumber++) {
    const chunk = await payments.listIntents(merchantId, { createdFrom: start - DAY, createdTo: end - 1 }, { pageSize: PAGE, pageNumber });
    for (const { intent, attempt } of chunk.items) {
      const paidAt = intent.completeTime;
      if (!attempt || attempt.capturedAmount <= 0 || paidAt === null || paidAt < start || paidAt >= end) continue;
      const meta = orderMeta(intent);
      const method = attempt.paymentMethod.type === 'wallet' ? METHOD_NAMES[attempt.paymentMethod.wallet.kind] ?? attempt.paymentMethod.wallet.kind : 'CreditCard';
      rows.push({
        requestId: intent.merchantOrderId ?? intent.id,
        transactionId: intent.id,
        amount: String(attempt.capturedAmount),
        currency: intent.currency,
        transactionType: 'Credit',
        ...settle(attempt.capturedAmount, intent.currency, fx),
        paymentMethod: meta?.paymentMethodType ?? method,
        createTime: isoTime(intent.createdAt),
        transactionTime: isoTime(paidAt),
      });
    }
    if (chunk.items.length < PAGE) break;
  }
  for (let pageNumber = 1; pageNumber * PAGE <= MAX_SCAN; pageNumber++) {
    const chunk = await payments.listRefunds(merchantId, { createdFrom: start - DAY, createdTo: end - 1 }, { pageSize: PAGE, pageNumber });
    for (const refund of chunk.items) {
      if (refund.status !== 'SUCCEEDED' || refund.updatedAt < start || refund.updatedAt >= end) continue;
      rows.push({
        requestId: refundMeta(refund).refundRequestId ?? refund.id,
        transactionId: refund.id,
        amount: String(refund.amount),
        currency: refund.currency,
        transactionType: 'Debit',
        ...settle(refund.amount, refund.currency, fx),
        paymentMethod: '',
        createTime: isoTime(refund.createdAt),
        transactionTime: isoTime(refund.updatedAt),
      });
    }
    if (chunk.items.length < PAGE) break;
  }
  return rows.sort((a, b) => (a.transactionTime < b.transactionTime ? -1 : a.transactionTime > b.transactionTime ? 1 : a.transactionId < b.transactionId ? -1 : 1));
}

/** One settlement per settlement currency of the day's transactions; the sandbox charges no service fee. */
export function settlementsOf(rows: TransactionRow[], date: string) {
  const byCurrency = new Map<string, TransactionRow[]>();
  for (const r of rows) byCurrency.set(r.settleCurrency, [...(byCurrency.get(r.settleCurrency) ?? []), r]);
  return [...byCurrency.entries()].map(([currency, list]) => {
    const credits = list.filter((r) => r.transactionType === 'Credit');
    const debits = list.filter((r) => r.transactionType === 'Debit');
    const sum = (xs: TransactionRow[]) => xs.reduce((n, r) => n + Number(r.settleAmount), 0);
    const net = sum(credits) - sum(debits);
    return {
      settleInfo: {
        settleNo: `${date}${currency}`,
        settleCurrency: currency,
        creditNum: credits.length,
        debitNum: debits.length,
        creditAmount: String(sum(credits)),
        debitAmount: String(sum(debits)),
        netAmount: String(net),
        serviceFee: '0',
        settleAmount: String(net),
      },
      bankInfo: { bankName: 'Sandbox Bank', accountName: 'Sandbox settlement account', accountNo: '****0000', currency },
    };
  });
}
