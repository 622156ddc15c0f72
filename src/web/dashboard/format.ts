/** How the dashboard writes amounts, dialects, methods and times. */
import { formatFixed } from '../../core/money.ts';

/** 123456 SGD -> "SGD 1,234.56": the currency's own decimals, digits grouped by thousands. */
export function formatMoney(minor: number, currency: string): string {
  const fixed = formatFixed(minor, currency);
  const [whole, frac] = fixed.replace('-', '').split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${minor < 0 ? '-' : ''}${currency} ${grouped}${frac === undefined ? '' : `.${frac}`}`;
}

const DIALECTS: Record<string, string> = { uqpay: 'UQPAY', qfpay: 'QFPay', alphapay: 'AlphaPay' };

/** The API a payment was made through (the intent's origin), as its provider writes its name. */
export const dialectLabel = (origin: string): string => DIALECTS[origin] ?? origin;

const METHODS: Record<string, string> = {
  card: 'Card',
  alipaycn: 'Alipay',
  alipayhk: 'AlipayHK',
  wechatpay: 'WeChat Pay',
  unionpay: 'UnionPay',
  grabpay: 'GrabPay',
  paynow: 'PayNow',
  truemoney: 'TrueMoney',
  tng: "Touch 'n Go",
  gcash: 'GCash',
  kakaopay: 'KakaoPay',
  naverpay: 'Naver Pay',
  tosspay: 'Toss Pay',
  payme: 'PayMe',
  fps: 'FPS',
  shopeepay: 'ShopeePay',
  linepay: 'LINE Pay',
  promptpay: 'PromptPay',
  gopay: 'GoPay',
};

/** "card" or a wallet's kind, as shoppers know it. */
export const methodLabel = (method: string): string => METHODS[method] ?? method;

/** A time as "2026-12-04 17:30:05 UTC": unambiguous, the same on every screen. */
export const formatTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** A ratio as a whole or one-decimal percentage, "-" when there is nothing to divide. */
export function formatRate(part: number, whole: number): string {
  if (whole === 0) return '-';
  const tenths = Math.round((part * 1000) / whole);
  return `${Math.floor(tenths / 10)}${tenths % 10 ? `.${tenths % 10}` : ''}%`;
}
