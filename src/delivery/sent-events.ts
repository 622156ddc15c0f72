/**
 * Which core events each dialect notifies. Deliveries are planned only for
 * these (store/outbox.ts), so an event a dialect never sends leaves no row
 * for the relay to claim, render and skip. A renderer may still decline one
 * of these (a refund retried, a merchant gone): that delivery is 'skipped'.
 */

/** null: every event (UQPAY has a webhook type for each acquiring and issuing event). */
const SENT: Record<string, ReadonlySet<string> | null> = {
  uqpay: null,
  qfpay: new Set(['payment_intent.succeeded', 'refund.succeeded', 'cancel.succeeded']),
  alphapay: new Set(['payment_intent.succeeded', 'refund.succeeded']),
};

/** Whether `dialect` notifies events of `type` (an unknown dialect: yes, so its rows show up as held, not lost). */
export function dialectSends(dialect: string, type: string): boolean {
  const types = SENT[dialect];
  return types === undefined || types === null || types.has(type);
}
