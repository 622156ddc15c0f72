/**
 * The filtered payments list as CSV (RFC 4180), streamed a page at a time
 * so an export of 100k payments never sits whole in memory. Amounts are
 * decimal strings in the currency's units, made from minor units. A cell a
 * spreadsheet would take for a formula (=, +, -, @, tab, CR first) is
 * prefixed with a quote: order ids and descriptions come from shoppers.
 */
import { Readable } from 'node:stream';
import { formatFixed } from '../../core/money.ts';
import type { ListCursor, PaymentConsoleReads, PaymentListFilter } from '../../core/payments/console.ts';
import type { IntentView } from '../../core/payments/service.ts';
import { dialectLabel } from './format.ts';
import { dialectIds } from './payment-ids.ts';
import { methodText } from './payment-view.ts';

const EXPORT_PAGE = 500;
const HEADER = ['created', 'payment_id', 'dialect', 'dialect_ids', 'merchant_order_id', 'merchant_id', 'method', 'status', 'currency', 'amount', 'captured', 'refunded', 'description'];

/** One cell: text made inert for spreadsheets, then quoted when it holds a comma, quote or line break. */
export function csvCell(value: string): string {
  const inert = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(inert) ? `"${inert.replace(/"/g, '""')}"` : inert;
}

function line(view: IntentView): string {
  const { intent, attempt } = view;
  const cells = [
    new Date(intent.createdAt).toISOString(),
    intent.id,
    dialectLabel(intent.origin),
    dialectIds(intent).map((i) => `${i.label}=${i.value}`).join(' '),
    intent.merchantOrderId ?? '',
    intent.merchantId,
    methodText(attempt),
    intent.status,
    intent.currency,
  ].map(csvCell);
  // Amounts are ours, never text from outside: written as they are (a refund is never negative here).
  const money = [intent.amount, attempt?.capturedAmount ?? 0, attempt?.refundedAmount ?? 0].map((m) => formatFixed(m, intent.currency));
  return [...cells, ...money, csvCell(intent.description ?? '')].join(',') + '\r\n';
}

export function paymentsCsv(reads: PaymentConsoleReads, filter: PaymentListFilter): Readable {
  async function* lines() {
    yield HEADER.join(',') + '\r\n';
    let after: ListCursor | null = null;
    do {
      const page = await reads.list(filter, after, EXPORT_PAGE);
      yield page.items.map(line).join('');
      after = page.next;
    } while (after);
  }
  return Readable.from(lines());
}
