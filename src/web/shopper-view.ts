/**
 * How a payment reads to the shopper on a hosted page: where it stands in
 * words a shopper understands (never the API's status codes), and who is
 * being paid.
 */
import type { MerchantService } from '../core/merchants/merchants.ts';
import type { PaymentAttempt, PaymentIntent } from '../core/payments/types.ts';

export type ShopperState = 'waiting' | 'paid' | 'approved' | 'processing' | 'declined' | 'not_verified' | 'failed' | 'expired' | 'cancelled' | 'closed';

export interface ShopperWords {
  /** One or two words for a status line. */
  label: string;
  /** A page title once the payment is over. */
  title: string;
  /** The sentence on the page's banner. */
  message: string;
  tone: 'ok' | 'bad' | 'info';
}

export const SHOPPER_WORDS: Record<ShopperState, ShopperWords> = {
  waiting: { label: 'Waiting for payment', title: 'Waiting for payment', message: 'This payment is waiting for you.', tone: 'info' },
  paid: { label: 'Paid', title: 'Payment complete', message: 'Paid. You can return to the merchant.', tone: 'ok' },
  approved: { label: 'Approved', title: 'Payment approved', message: 'Your payment was approved; the merchant will collect it.', tone: 'ok' },
  processing: { label: 'Processing', title: 'Payment processing', message: 'Your payment is being confirmed. Reload this page to see the result.', tone: 'info' },
  declined: { label: 'Declined', title: 'Payment declined', message: 'You declined this payment. You have not been charged.', tone: 'bad' },
  not_verified: { label: 'Not verified', title: 'Verification failed', message: 'Your card issuer could not verify you. You have not been charged.', tone: 'bad' },
  failed: { label: 'Not completed', title: 'Payment not completed', message: 'This payment did not go through. You have not been charged.', tone: 'bad' },
  expired: { label: 'Expired', title: 'Payment expired', message: 'This payment has expired. You have not been charged; ask the merchant to start again.', tone: 'bad' },
  cancelled: { label: 'Cancelled', title: 'Payment cancelled', message: 'The merchant cancelled this payment. Any money taken is returned to you.', tone: 'bad' },
  closed: { label: 'Closed', title: 'Payment closed', message: 'This payment can no longer be made here.', tone: 'info' },
};

/**
 * Where the payment stands for the shopper holding this attempt's page (the
 * attempt may no longer be the intent's latest: an old QR code after a new
 * confirm). `expiresAt`: when the page stops taking the payment, if it does.
 */
export function shopperStateOf(intent: PaymentIntent, attempt: PaymentAttempt, now: number, expiresAt?: number): ShopperState {
  if (attempt.status === 'AUTHENTICATION_REDIRECTED' && intent.status === 'REQUIRES_CUSTOMER_ACTION' && intent.latestAttemptId === attempt.id) {
    return expiresAt !== undefined && now >= expiresAt ? 'expired' : 'waiting';
  }
  switch (attempt.status) {
    case 'EXPIRED':
      return 'expired';
    case 'CAPTURE_REQUESTED':
    case 'SETTLED':
    case 'SUCCEEDED':
      return 'paid';
    case 'AUTHORIZED':
      return 'approved';
    case 'INITIATED':
    case 'PENDING_AUTHORIZATION':
      return 'processing';
    case 'CANCELLED':
      return 'cancelled';
    case 'FAILED':
      if (attempt.failureCode === 'payment_declined_by_payer') return 'declined';
      return attempt.failureCode === 'authentication_failed' ? 'not_verified' : 'failed';
    default:
      return intent.status === 'CANCELLED' ? 'cancelled' : 'closed';
  }
}

/** The name shoppers know the merchant by (a sub-merchant's own name). */
export async function merchantNameOf(merchants: Pick<MerchantService, 'byId'>, intent: PaymentIntent): Promise<string> {
  return (await merchants.byId(intent.merchantId))?.name ?? 'the merchant';
}
