/** How the payments pages write a payment's method and status. */
import type { IntentStatus, PaymentAttempt } from '../../core/payments/types.ts';
import { methodLabel } from './format.ts';
import { html, type Html } from './html.ts';

export const NETWORKS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'Amex', unionpay: 'UnionPay', jcb: 'JCB', discover: 'Discover', diners: 'Diners' };

/** "Visa •••• 4242", "WeChat Pay", or "" before any attempt. */
export function methodText(attempt: PaymentAttempt | null): string {
  if (!attempt) return '';
  const m = attempt.paymentMethod;
  if (m.type === 'card') return `${NETWORKS[m.card.network] ?? m.card.network} •••• ${m.card.last4}`;
  return methodLabel(m.wallet.kind);
}

const STATUS_KIND: Record<IntentStatus, 'ok' | 'bad' | 'warn' | 'info'> = {
  SUCCEEDED: 'ok',
  FAILED: 'bad',
  CANCELLED: 'bad',
  REQUIRES_CAPTURE: 'warn',
  REQUIRES_PAYMENT_METHOD: 'warn',
  REQUIRES_CUSTOMER_ACTION: 'warn',
  PENDING: 'info',
};

/** "Requires capture" in the colour of what it asks of the merchant. */
export function statusBadge(status: IntentStatus): Html {
  const words = status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, ' ');
  return html`<span class="badge ${STATUS_KIND[status] ?? 'info'}">${words}</span>`;
}
