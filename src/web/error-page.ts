/**
 * What a shopper sees when a hosted page cannot be served (no such page, a
 * form too large, the service busy or its database away): a page in the
 * hosted pages' frame, in words a shopper understands, never JSON.
 */
import { FAULT_STATUS, type FaultKind, type FaultRenderer } from '../http/faults.ts';
import { page } from './layout.ts';
import { ALPHAPAY_CASHIER_PATH } from './alphapay-cashier.ts';
import { CARD_PAY_PATH } from './card-pay.ts';
import { CARD_DISPLAY_PATH } from './card-secure-display.ts';
import { CHALLENGE_PATH } from './three-ds-challenge.ts';
import { WALLET_PAY_PATH } from './wallet-pay.ts';

/** Where shoppers' pages live: a fault under these paths is answered with a page. */
export const HOSTED_PAGE_PATHS = [CHALLENGE_PATH, WALLET_PAY_PATH, CARD_PAY_PATH, CARD_DISPLAY_PATH, ALPHAPAY_CASHIER_PATH];

const WORDS: Record<FaultKind, { title: string; text: string }> = {
  not_found: { title: 'Page not found', text: 'This payment page does not exist, or its link is incomplete. Go back to the shop and start again.' },
  bad_request: { title: 'This link cannot be read', text: 'The address of this page is damaged. Go back to the shop and start again.' },
  body_too_large: { title: 'The form could not be sent', text: 'What was sent is far larger than this page ever sends, so nothing was done with it. Go back and try again.' },
  unsupported_media: { title: 'The form could not be read', text: 'Nothing was done with it. Go back and try again.' },
  unavailable: { title: 'Temporarily unavailable', text: 'The payment service cannot be reached right now. Wait a moment, then reload this page.' },
  overloaded: { title: 'Busy right now', text: 'Many payments are being made at this moment. Wait a few seconds, then reload this page.' },
  rate_limited: { title: 'Too many attempts', text: 'Wait a moment, then reload this page.' },
  internal: { title: 'Something went wrong', text: 'This page could not be shown. Wait a moment, then reload it.' },
};

export const hostedPageFault: FaultRenderer = (fault) => {
  const w = WORDS[fault.kind];
  return { status: FAULT_STATUS[fault.kind], body: page(w.title, `<p id="fault" data-kind="${fault.kind}">${w.text}</p>`) };
};
