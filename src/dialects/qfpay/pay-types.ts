/**
 * QFPay's published pay_type table, every code of it, -> the core's payment
 * method. MPM codes show a QR code (qrcode), CPM codes charge the shopper's
 * payment code (auth_code), web / WAP / online codes send the shopper to a
 * hosted page (pay_url), JSAPI, in-app and mini-program codes hand parameters
 * to the wallet SDK (pay_params); card codes send the shopper to the hosted
 * card page (pay_url), where the card is entered (and 3DS done) on this
 * platform, never at the merchant. Alipay pre-authorization codes freeze the
 * amount (captured later with /trade/v1/authtrade).
 *
 * Currencies follow the region QFPay gives each code (TH merchants: THB, MY:
 * MYR, SG: SGD, HK: HKD, JP: JPY); cross-border Alipay, WeChat Pay and
 * UnionPay QR take every QFPay currency. Alipay pre-authorization takes the
 * currencies its page lists that QFPay's currency table has (AUD HKD MYR SGD
 * THB USD).
 */
import type { CardNetworkName } from '../../core/payments/card.ts';
import type { WalletFlow, WalletKind } from '../../core/ports.ts';

/** A card pay type: the networks it takes, and whether the card is present (a terminal: no 3DS) or online. */
export interface CardPayType {
  /** null: every network of the test-card table. */
  networks: readonly CardNetworkName[] | null;
  /** skip_3ds: 3DS only for a card that always asks for it (the challenge test card); enforce_3ds: every card that can. */
  threeDs: 'skip_3ds' | 'enforce_3ds';
  /** What the hosted page names the card method. */
  label: string;
}

export interface PayType {
  code: string;
  description: string;
  /** Where QFPay offers it: a merchant region (HK, TH, MY, SG, JP, ID) or cross-border. */
  region: string;
  /** Order currencies it takes; null: every QFPay currency. */
  currencies: readonly string[] | null;
  /** null: any wallet, the payment code says which (800008); also null for cards. */
  kind: WalletKind | null;
  flow: WalletFlow;
  /** Set for the card pay types: paid on the hosted card page. */
  card?: CardPayType;
  /** Alipay pre-authorization: the amount is frozen, then captured (authtrade) or released (unfreeze / reversal). */
  preAuth?: boolean;
  /** Besides `qrcode`, also answer with `pay_url` (the Alipay online QR codes of seed 004). */
  payUrlToo?: boolean;
  /** The channel gives no money back once paid: no refund, reversal or close (QFPay's *** codes). */
  noRefunds?: boolean;
  /** return_url's limit where it is below the usual 512 characters (Alipay WAP: 200). */
  returnUrlMaxLength?: number;
  /** return_url must be sent, and the answer carries the page in web_url too (QFPay's * codes: GrabPay online for SG). */
  returnUrlRequired?: boolean;
}

const ANY = null;
const HKD = ['HKD'];
const THB = ['THB'];
const MYR = ['MYR'];
const SGD = ['SGD'];
/** Alipay pre-authorization: AUD, HKD, MYR, NZD, PHP, SGD, THB, USD, of which QFPay's currency table has these. */
const PRE_AUTH = ['AUD', 'HKD', 'MYR', 'SGD', 'THB', 'USD'];

type Row = Omit<PayType, 'code' | 'description' | 'region' | 'currencies' | 'kind' | 'flow'>;
const w = (code: string, description: string, region: string, currencies: readonly string[] | null, kind: WalletKind | null, flow: WalletFlow, extra: Row = {}): PayType => ({
  code, description, region, currencies, kind, flow, ...extra,
});
const card = (code: string, description: string, c: CardPayType): PayType => ({ code, description, region: 'HK', currencies: HKD, kind: null, flow: 'web', card: c });

const table: PayType[] = [
  // Alipay (cross-border, "overseas merchants") and AlipayHK.
  w('800008', 'CPM, any wallet (WeChat Pay, Alipay, UnionPay, PayMe)', 'cross-border', ANY, null, 'payment_code'),
  w('800101', 'Alipay MPM (overseas merchants)', 'cross-border', ANY, 'alipaycn', 'qrcode'),
  w('800108', 'Alipay CPM (overseas and HK merchants)', 'cross-border', ANY, 'alipaycn', 'payment_code'),
  w('801101', 'Alipay online web (overseas merchants)', 'cross-border', ANY, 'alipaycn', 'web'),
  w('801107', 'Alipay online WAP (overseas merchants)', 'cross-border', ANY, 'alipaycn', 'web', { returnUrlMaxLength: 200 }),
  w('801110', 'Alipay in-app (overseas merchants)', 'cross-border', ANY, 'alipaycn', 'sdk'),
  w('800107', 'Alipay service window H5', 'cross-border', ANY, 'alipaycn', 'sdk'),
  w('801501', 'Alipay MPM (HK merchants)', 'HK', HKD, 'alipayhk', 'qrcode', { payUrlToo: true }),
  w('801510', 'Alipay in-app (HK merchants)', 'HK', HKD, 'alipayhk', 'sdk'),
  w('801512', 'Alipay online WAP (HK merchants)', 'HK', HKD, 'alipayhk', 'web', { returnUrlMaxLength: 200 }),
  w('801514', 'Alipay online web (HK merchants)', 'HK', HKD, 'alipayhk', 'web'),
  // WeChat Pay.
  w('800201', 'WeChat Pay MPM (overseas and HK merchants)', 'cross-border', ANY, 'wechatpay', 'qrcode'),
  w('800208', 'WeChat Pay CPM (overseas and HK merchants)', 'cross-border', ANY, 'wechatpay', 'payment_code'),
  w('800207', 'WeChat Pay JSAPI (official account)', 'cross-border', ANY, 'wechatpay', 'sdk'),
  w('800212', 'WeChat Pay H5 (mobile browser)', 'cross-border', ANY, 'wechatpay', 'web'),
  w('800210', 'WeChat Pay in-app (overseas and HK merchants)', 'cross-border', ANY, 'wechatpay', 'sdk'),
  w('800213', 'WeChat Pay mini program (overseas and HK merchants)', 'cross-border', ANY, 'wechatpay', 'sdk'),
  w('801008', 'WeChat Pay HK CPM (direct settlement, HK merchants)', 'HK', HKD, 'wechatpay', 'payment_code'),
  w('801010', 'WeChat Pay HK in-app (direct settlement, HK merchants)', 'HK', HKD, 'wechatpay', 'sdk'),
  // PayMe, UnionPay, FPS, Octopus (Hong Kong).
  w('805801', 'PayMe MPM (HK merchants)', 'HK', HKD, 'payme', 'qrcode'),
  w('805808', 'PayMe CPM (HK merchants)', 'HK', HKD, 'payme', 'payment_code'),
  w('805814', 'PayMe online web (HK merchants)', 'HK', HKD, 'payme', 'web'),
  w('805812', 'PayMe online WAP (HK merchants)', 'HK', HKD, 'payme', 'web'),
  w('800701', 'UnionPay QuickPass MPM', 'cross-border', ANY, 'unionpay', 'qrcode'),
  w('800708', 'UnionPay QuickPass CPM', 'cross-border', ANY, 'unionpay', 'payment_code'),
  w('800712', 'UnionPay WAP (HK merchants)', 'HK', HKD, 'unionpay', 'web'),
  w('800714', 'UnionPay PC web (HK merchants)', 'HK', HKD, 'unionpay', 'web'),
  w('800710', 'UnionPay in-app (HK merchants)', 'HK', HKD, 'unionpay', 'sdk'),
  w('802001', 'FPS MPM (HK merchants, no refunds)', 'HK', HKD, 'fps', 'qrcode', { noRefunds: true }),
  w('803701', 'Octopus MPM (HK merchants)', 'HK', HKD, 'octopus', 'qrcode'),
  w('803712', 'Octopus WAP (HK merchants)', 'HK', HKD, 'octopus', 'web'),
  w('803714', 'Octopus PC web (HK merchants)', 'HK', HKD, 'octopus', 'web'),
  // Thailand.
  w('801208', 'LINE Pay CPM (TH merchants)', 'TH', THB, 'linepay', 'payment_code'),
  w('801301', 'LINE Pay online (TH merchants)', 'TH', THB, 'linepay', 'web'),
  w('801408', 'AirPay CPM (TH merchants)', 'TH', THB, 'airpay', 'payment_code'),
  w('802201', 'AirPay online (TH merchants)', 'TH', THB, 'airpay', 'web'),
  w('802901', 'PromptPay MPM (TH merchants, no refunds)', 'TH', THB, 'promptpay', 'qrcode', { noRefunds: true }),
  w('805208', 'TrueMoney CPM (TH merchants)', 'TH', THB, 'truemoney', 'payment_code'),
  // Singapore.
  w('801701', 'NETSPAY MPM', 'SG', SGD, 'netspay', 'qrcode'),
  w('802301', 'PayNow MPM (SG merchants, no refunds)', 'SG', SGD, 'paynow', 'qrcode', { noRefunds: true }),
  w('803801', 'Dash MPM (SG merchants)', 'SG', SGD, 'dash', 'qrcode'),
  w('803808', 'Dash CPM (SG merchants)', 'SG', SGD, 'dash', 'payment_code'),
  // Malaysia.
  w('803208', "Touch 'n Go CPM (MY merchants)", 'MY', MYR, 'tng', 'payment_code'),
  w('803214', "Touch 'n Go online (MY merchants)", 'MY', MYR, 'tng', 'web'),
  w('803301', 'Razer MPM (MY merchants)', 'MY', MYR, 'razer', 'qrcode'),
  w('803308', 'Razer CPM (MY merchants)', 'MY', MYR, 'razer', 'payment_code'),
  w('803314', 'Razer online (MY merchants)', 'MY', MYR, 'razer', 'web'),
  w('804001', 'Boost MPM (MY merchants)', 'MY', MYR, 'boost', 'qrcode'),
  w('804008', 'Boost CPM (MY merchants)', 'MY', MYR, 'boost', 'payment_code'),
  w('804014', 'Boost online (MY merchants)', 'MY', MYR, 'boost', 'web'),
  w('804101', 'Maybank MPM (MY merchants)', 'MY', MYR, 'maybank', 'qrcode'),
  w('804108', 'Maybank CPM (MY merchants)', 'MY', MYR, 'maybank', 'payment_code'),
  w('804114', 'Maybank online (MY merchants)', 'MY', MYR, 'maybank', 'web'),
  w('804201', 'GrabPay MPM (MY and SG merchants)', 'MY/SG', ['MYR', 'SGD'], 'grabpay', 'qrcode'),
  w('804208', 'GrabPay CPM (MY merchants)', 'MY', MYR, 'grabpay', 'payment_code'),
  w('804214', 'GrabPay online (MY and SG merchants; return_url required)', 'MY/SG', ['MYR', 'SGD'], 'grabpay', 'web', { returnUrlRequired: true }),
  w('805401', 'ThaiQR MPM (SG and MY merchants, no refunds)', 'SG/MY', ['SGD', 'MYR'], 'thaiqr', 'qrcode', { noRefunds: true }),
  // Japan and Hong Kong; Indonesia; regions QFPay does not name.
  w('801908', 'Origami CPM', 'JP', ['JPY'], 'origami', 'payment_code'),
  w('803101', 'VIA MPM (JP and HK merchants)', 'JP/HK', ['JPY', 'HKD'], 'via', 'qrcode'),
  w('803108', 'VIA CPM (JP and HK merchants)', 'JP/HK', ['JPY', 'HKD'], 'via', 'payment_code'),
  w('805601', 'GoPay MPM (no refunds)', 'ID', ['IDR'], 'gopay', 'qrcode', { noRefunds: true }),
  w('805612', 'GoPay WAP (no refunds)', 'ID', ['IDR'], 'gopay', 'web', { noRefunds: true }),
  w('803001', 'eWallet MPM', 'cross-border', ANY, 'ewallet', 'qrcode'),
  w('803008', 'eWallet CPM', 'cross-border', ANY, 'ewallet', 'payment_code'),
  // Alipay pre-authorization (QFPay's table names 801801 CPM and 801808 MPM).
  w('801801', 'Alipay pre-authorization CPM', 'cross-border', PRE_AUTH, 'alipaycn', 'payment_code', { preAuth: true }),
  w('801808', 'Alipay pre-authorization MPM', 'cross-border', PRE_AUTH, 'alipaycn', 'qrcode', { preAuth: true }),
  w('801810', 'Alipay pre-authorization in-app', 'cross-border', PRE_AUTH, 'alipaycn', 'sdk', { preAuth: true }),
  w('801814', 'Alipay pre-authorization online', 'cross-border', PRE_AUTH, 'alipaycn', 'web', { preAuth: true }),
  // Cards (Hong Kong): entered on the hosted card page.
  card('802801', 'Visa / Mastercard online', { networks: ['visa', 'mastercard'], threeDs: 'skip_3ds', label: 'Visa / Mastercard' }),
  card('802808', 'Visa / Mastercard offline', { networks: ['visa', 'mastercard'], threeDs: 'skip_3ds', label: 'Visa / Mastercard' }),
  card('806527', 'Apple Pay online', { networks: null, threeDs: 'skip_3ds', label: 'Apple Pay' }),
  card('806708', 'UnionPay card offline', { networks: ['unionpay'], threeDs: 'skip_3ds', label: 'UnionPay card' }),
  card('806808', 'American Express offline', { networks: ['amex'], threeDs: 'skip_3ds', label: 'American Express' }),
  card('805508', 'Credit card, first_data quick payment (HK merchants)', { networks: null, threeDs: 'skip_3ds', label: 'Credit card' }),
  card('805514', 'Credit card, first_data security verification (HK merchants)', { networks: null, threeDs: 'enforce_3ds', label: 'Credit card' }),
];

export const PAY_TYPES: ReadonlyMap<string, PayType> = new Map(table.map((p) => [p.code, p]));

/** Codes QFPay has published and since taken out of its table: answered as a channel the merchant cannot use. */
export const RETIRED_PAY_TYPES: ReadonlyMap<string, string> = new Map([['805810', 'PayMe in-app (HK merchants)']]);

/**
 * Alipay codes serve both the mainland wallet and AlipayHK; `pay_tag`
 * (ALIPAYHK / ALIPAYCN) picks one, as QFPay's MPM page describes.
 */
export function walletFor(payType: PayType, payTag: string | undefined): WalletKind | null {
  if (!payType.kind || !payTag || payType.preAuth) return payType.kind;
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
