/**
 * QFPay pay_type codes -> the core's wallet and flow. MPM codes show a QR
 * code (qrcode), CPM codes charge the shopper's payment code (auth_code),
 * web / WAP codes send the shopper to a hosted page (pay_url), JSAPI, in-app
 * and mini-program codes hand parameters to the wallet SDK (pay_params).
 */
import type { WalletFlow, WalletKind } from '../../core/ports.ts';

export interface PayType {
  code: string;
  description: string;
  /** null: any wallet, the payment code says which (800008). */
  kind: WalletKind | null;
  flow: WalletFlow;
  /** Besides `qrcode`, also answer with `pay_url` (the Alipay online QR codes of seed 004). */
  payUrlToo?: boolean;
  /** The channel gives no money back once paid: no refund, reversal or close (FPS). */
  noRefunds?: boolean;
  /** return_url's limit where it is below the usual 512 characters (Alipay WAP: 200). */
  returnUrlMaxLength?: number;
}

const table: PayType[] = [
  // Merchant-presented QR codes (MPM).
  { code: '800101', description: 'Alipay MPM (cross-border)', kind: 'alipaycn', flow: 'qrcode' },
  { code: '800201', description: 'WeChat Pay MPM', kind: 'wechatpay', flow: 'qrcode' },
  { code: '801501', description: 'Alipay online QR (Hong Kong merchants)', kind: 'alipayhk', flow: 'qrcode', payUrlToo: true },
  { code: '800701', description: 'UnionPay QuickPass MPM', kind: 'unionpay', flow: 'qrcode' },
  { code: '805801', description: 'PayMe MPM', kind: 'payme', flow: 'qrcode' },
  { code: '802001', description: 'FPS MPM', kind: 'fps', flow: 'qrcode', noRefunds: true },
  { code: '803701', description: 'Octopus dynamic QR', kind: 'octopus', flow: 'qrcode' },
  // Customer-presented payment codes (CPM).
  { code: '800008', description: 'CPM, any wallet', kind: null, flow: 'payment_code' },
  { code: '800108', description: 'Alipay CPM (cross-border)', kind: 'alipaycn', flow: 'payment_code' },
  { code: '800208', description: 'WeChat Pay CPM', kind: 'wechatpay', flow: 'payment_code' },
  { code: '801008', description: 'WeChat Pay HK CPM', kind: 'wechatpay', flow: 'payment_code' },
  { code: '805808', description: 'PayMe CPM', kind: 'payme', flow: 'payment_code' },
  { code: '800708', description: 'UnionPay QuickPass CPM', kind: 'unionpay', flow: 'payment_code' },
  // Hosted pages for desktop and mobile browsers (web / WAP / H5).
  { code: '801101', description: 'Alipay online web (overseas merchants)', kind: 'alipaycn', flow: 'web' },
  { code: '801107', description: 'Alipay online WAP (overseas merchants)', kind: 'alipaycn', flow: 'web', returnUrlMaxLength: 200 },
  { code: '801512', description: 'Alipay online WAP (Hong Kong merchants)', kind: 'alipayhk', flow: 'web', returnUrlMaxLength: 200 },
  { code: '801514', description: 'Alipay online web (Hong Kong merchants)', kind: 'alipayhk', flow: 'web' },
  { code: '800212', description: 'WeChat Pay H5', kind: 'wechatpay', flow: 'web' },
  { code: '800712', description: 'UnionPay QuickPass WAP', kind: 'unionpay', flow: 'web' },
  { code: '800714', description: 'UnionPay QuickPass PC web', kind: 'unionpay', flow: 'web' },
  { code: '805812', description: 'PayMe WAP', kind: 'payme', flow: 'web' },
  { code: '805814', description: 'PayMe web', kind: 'payme', flow: 'web' },
  { code: '803712', description: 'Octopus WAP', kind: 'octopus', flow: 'web' },
  { code: '803714', description: 'Octopus web', kind: 'octopus', flow: 'web' },
  // Wallet SDK hand-offs: JSAPI, in-app, mini program, service window.
  { code: '800207', description: 'WeChat Pay JSAPI (official account)', kind: 'wechatpay', flow: 'sdk' },
  { code: '800210', description: 'WeChat Pay in-app', kind: 'wechatpay', flow: 'sdk' },
  { code: '800213', description: 'WeChat Pay mini program', kind: 'wechatpay', flow: 'sdk' },
  { code: '801010', description: 'WeChat Pay HK in-app', kind: 'wechatpay', flow: 'sdk' },
  { code: '801110', description: 'Alipay in-app (overseas merchants)', kind: 'alipaycn', flow: 'sdk' },
  { code: '801510', description: 'Alipay in-app (Hong Kong merchants)', kind: 'alipayhk', flow: 'sdk' },
  { code: '800107', description: 'Alipay service window H5', kind: 'alipaycn', flow: 'sdk' },
];

export const PAY_TYPES: ReadonlyMap<string, PayType> = new Map(table.map((p) => [p.code, p]));

/** Card pay types QFPay documents that this platform does not take through this API. */
export const CARD_PAY_TYPES: ReadonlyMap<string, string> = new Map([
  ['802801', 'Visa / Mastercard online'],
  ['802808', 'Visa / Mastercard offline'],
  ['806527', 'Apple Pay online'],
  ['806708', 'UnionPay card offline'],
  ['806808', 'American Express offline'],
]);

/**
 * Alipay codes serve both the mainland wallet and AlipayHK; `pay_tag`
 * (ALIPAYHK / ALIPAYCN) picks one, as QFPay's MPM page describes.
 */
export function walletFor(payType: PayType, payTag: string | undefined): WalletKind | null {
  if (!payType.kind || !payTag) return payType.kind;
  const tag = payTag.toUpperCase();
  if ((payType.kind === 'alipaycn' || payType.kind === 'alipayhk') && (tag === 'ALIPAYHK' || tag === 'ALIPAYCN')) {
    return tag === 'ALIPAYHK' ? 'alipayhk' : 'alipaycn';
  }
  return payType.kind;
}

/** Currencies QFPay accepts in txcurrcd. */
export const QFPAY_CURRENCIES: ReadonlySet<string> = new Set([
  'AED', 'CNY', 'EUR', 'HKD', 'IDR', 'JPY', 'MMK', 'MYR', 'SGD', 'THB', 'USD', 'CAD', 'AUD',
]);
