/**
 * Seed 000's request bodies (UQPAY's quickstart card payment), shared by the
 * tests and the benchmark. Pure data: no test framework imports.
 */
import { randomBytes } from 'node:crypto';

/** Seed 000's card, with an expiry that stays in the future. */
export function seedCard(overrides: Record<string, unknown> = {}) {
  return {
    type: 'card',
    card: {
      card_name: 'UQPAY',
      card_number: '5346930100108117',
      expiry_month: '12',
      expiry_year: String(new Date().getUTCFullYear() + 2),
      cvc: '811',
      network: 'mastercard',
      billing: {
        first_name: 'UQPAY',
        last_name: 'ACQ',
        email: '[email protected]',
        phone_number: '0524-91353515',
        address: { country_code: 'SG', state: 'Singapore', city: 'Singapore', street: '444 Orchard Rd, Midpoint Orchard, Singapore', postcode: '924011' },
      },
      auto_capture: true,
      authorization_type: 'authorization',
      three_ds_action: 'skip_3ds',
      ...overrides,
    },
  };
}

/** Seed 000's intent fields (no payment method), with a fresh merchant_order_id. */
export function intentBody(overrides: Record<string, unknown> = {}) {
  return {
    amount: '8.98',
    currency: 'SGD',
    merchant_order_id: `order-${randomBytes(4).toString('hex')}`,
    description: 'Test payment',
    metadata: {},
    return_url: 'https://example.com/callback',
    ...overrides,
  };
}
