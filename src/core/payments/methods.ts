/**
 * Payment methods as the core receives them, their validation, and what is
 * kept of them: masked card data and a keyed fingerprint, never the PAN, the
 * CVC or a full wallet payment code.
 */
import { DomainError } from '../errors.ts';
import { convert } from '../fx.ts';
import type { Money } from '../money.ts';
import type { CardDetails, FxRates, WalletFlow, WalletKind } from '../ports.ts';
import { bin, cvcValid, detectNetwork, fingerprint, isExpired, last4, luhnValid } from './card.ts';
import type { BillingDetails, StoredPaymentMethod, WalletCharge } from './types.ts';

export interface CardInput {
  number: string;
  expiryMonth: string;
  expiryYear: string;
  cvc?: string;
  cardName?: string;
  billing?: BillingDetails;
  autoCapture: boolean;
  authorizationType?: string;
  threeDsAction: 'skip_3ds' | 'enforce_3ds';
}

export interface WalletInput {
  /** null: any wallet; the payment code says which (QFPay 800008). */
  kind: WalletKind | null;
  flow: WalletFlow;
  osType?: string;
  paymentCode?: string;
  /** Pre-authorization: the wallet freezes the amount; it is captured (in full or part) or released later. */
  authorizeOnly?: boolean;
  /** The order breaks a provider rule (an amount its settlement cannot take): it is made, and paying it fails with this code. */
  refusal?: string;
}

export type PaymentMethodInput = { type: 'card'; card: CardInput } | { type: 'wallet'; wallet: WalletInput };

/** The validated method, with the secrets that live only in memory for the length of a request. */
export type MethodSecrets = { type: 'card'; card: CardDetails } | { type: 'wallet'; kind: WalletKind; paymentCode?: string };

export function validateCard(input: CardInput, now: number): CardDetails {
  const number = input.number.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
    throw DomainError.validation('card_number is invalid', 'card_number');
  }
  const month = Number(input.expiryMonth);
  if (!/^\d{1,2}$/.test(input.expiryMonth) || month < 1 || month > 12) {
    throw DomainError.validation('expiry_month must be 01-12', 'expiry_month');
  }
  let year = Number(input.expiryYear);
  if (/^\d{2}$/.test(input.expiryYear)) year += 2000;
  else if (!/^\d{4}$/.test(input.expiryYear)) throw DomainError.validation('expiry_year must be a four-digit year', 'expiry_year');
  if (isExpired(month, year, now)) throw DomainError.validation('the card has expired', 'expiry_year');
  const network = detectNetwork(number);
  if (input.cvc !== undefined && input.cvc !== '' && !cvcValid(input.cvc, network)) {
    throw DomainError.validation('cvc is malformed', 'cvc');
  }
  const card: CardDetails = { number, expiryMonth: month, expiryYear: year };
  if (input.cvc) card.cvc = input.cvc;
  if (input.cardName) card.holderName = input.cardName;
  return card;
}

/**
 * Which wallet issued a customer-presented payment code, by its prefix:
 * Alipay 25-30, WeChat Pay 10-15, UnionPay 62 (18-digit codes).
 */
export function walletOfPaymentCode(code: string): WalletKind | null {
  const p2 = Number(code.slice(0, 2));
  if (p2 >= 25 && p2 <= 30) return 'alipaycn';
  if (p2 >= 10 && p2 <= 15) return 'wechatpay';
  if (p2 === 62) return 'unionpay';
  return null;
}

export function validateWallet(input: WalletInput): { kind: WalletKind; paymentCode?: string } {
  if (input.flow !== 'payment_code') {
    if (!input.kind) throw DomainError.validation('the wallet must be named for this flow', 'payment_method.type');
    return { kind: input.kind };
  }
  const code = (input.paymentCode ?? '').trim();
  if (!/^\d{10,32}$/.test(code)) throw DomainError.validation('payment_code must be the 10-32 digits of the shopper\'s code', 'payment_code');
  const kind = input.kind ?? walletOfPaymentCode(code);
  if (!kind) throw DomainError.validation('payment_code does not belong to a supported wallet', 'payment_code');
  return { kind, paymentCode: code };
}

export function validateMethod(input: PaymentMethodInput, now: number): MethodSecrets {
  if (input.type === 'card') return { type: 'card', card: validateCard(input.card, now) };
  const { kind, paymentCode } = validateWallet(input.wallet);
  return paymentCode ? { type: 'wallet', kind, paymentCode } : { type: 'wallet', kind };
}

export function storedMethod(input: PaymentMethodInput, secrets: MethodSecrets, fingerprintKey: Buffer): StoredPaymentMethod {
  if (input.type === 'wallet') {
    if (secrets.type !== 'wallet') throw new Error('wallet secrets expected');
    const { kind, paymentCode } = secrets;
    return {
      type: 'wallet',
      wallet: {
        kind,
        flow: input.wallet.flow,
        ...(input.wallet.osType ? { osType: input.wallet.osType } : {}),
        ...(paymentCode ? { paymentCodeLast4: paymentCode.slice(-4) } : {}),
      },
    };
  }
  if (secrets.type !== 'card') throw new Error('card secrets expected');
  const card = secrets.card;
  const c = input.card;
  return {
    type: 'card',
    card: {
      ...(c.cardName !== undefined ? { cardName: c.cardName } : {}),
      bin: bin(card.number),
      last4: last4(card.number),
      network: detectNetwork(card.number),
      expiryMonth: card.expiryMonth,
      expiryYear: card.expiryYear,
      fingerprint: fingerprint(card.number, fingerprintKey),
      ...(c.billing ? { billing: c.billing } : {}),
      ...(c.authorizationType ? { authorizationType: c.authorizationType } : {}),
      threeDsAction: c.threeDsAction,
    },
  };
}

/** Wallets that always debit the shopper in CNY, whatever the order currency. */
const CNY_WALLETS: ReadonlySet<WalletKind> = new Set(['alipaycn', 'wechatpay']);

/** What the shopper's wallet is charged, and at which rate. */
export function shopperCharge(kind: WalletKind, amount: Money, fx: FxRates): WalletCharge {
  if (!CNY_WALLETS.has(kind) || amount.currency === 'CNY') {
    return { shopperAmount: amount.amount, shopperCurrency: amount.currency, fxRate: null };
  }
  const quote = fx.rate(amount.currency, 'CNY');
  if (!quote) throw DomainError.validation(`no exchange rate from ${amount.currency} to CNY for ${kind}`, 'currency');
  const shopper = convert(amount, 'CNY', quote.rate);
  if (shopper.amount < 1) throw DomainError.validation('amount is below the smallest CNY amount the wallet can charge', 'amount');
  return { shopperAmount: shopper.amount, shopperCurrency: 'CNY', fxRate: quote.rate };
}
