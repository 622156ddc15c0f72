/**
 * The card products every merchant can issue on (docs/issuing.md lists them):
 * a Visa SHARE product on BIN 40963608 (seed 001) and a Mastercard SINGLE
 * product on BIN 527735, which needs card_limit >= 0.01 (seed 001's rule).
 */
import type { CardProduct } from './types.ts';

export const CARD_PRODUCTS: readonly CardProduct[] = [
  {
    id: '467e993f-317a-49fc-9ea0-bf49de7d1f76',
    bin: '40963608',
    scheme: 'VISA',
    modeType: 'SHARE',
    cardForms: ['VIR', 'PHY'],
    currencies: ['USD', 'SGD'],
    limitRequired: false,
  },
  {
    id: '9b1f6c52-52a4-4b43-8f0e-2d7c3a6e8e11',
    bin: '527735',
    scheme: 'MASTERCARD',
    modeType: 'SINGLE',
    cardForms: ['VIR'],
    currencies: ['USD'],
    limitRequired: true,
  },
];

export function productById(id: string): CardProduct | undefined {
  return CARD_PRODUCTS.find((p) => p.id === id);
}

/** The product whose BIN starts this card number, if the platform issued on it. */
export function productOfNumber(number: string): CardProduct | undefined {
  return CARD_PRODUCTS.find((p) => number.startsWith(p.bin));
}
