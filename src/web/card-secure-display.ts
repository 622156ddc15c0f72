/**
 * The hosted secure card display: the page a card program embeds in an
 * iframe to show a cardholder the full card number, expiry and CVV without
 * the data passing through the program's own servers. It opens with a token
 * from POST /v1/issuing/cards/{id}/token, once: an expired or used token
 * gets a page that shows nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { IssuingService } from '../core/issuing/service.ts';
import { escapeHtml, page } from './layout.ts';

export const CARD_DISPLAY_PATH = '/issuing/secure-display';

/** Any site may frame the page (it is meant for the card program's iframe); nothing on it is cached, scripted or sent on as a referrer. */
const HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *",
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
};

const grouped = (pan: string) => pan.replace(/(\d{4})(?=\d)/g, '$1 ');

export async function cardSecureDisplayPages(app: FastifyInstance, issuing: IssuingService): Promise<void> {
  app.get<{ Params: { token: string } }>(`${CARD_DISPLAY_PATH}/:token`, async (req, reply) => {
    void reply.headers(HEADERS).type('text/html; charset=utf-8');
    const token = req.params.token;
    const card = /^[A-Za-z0-9_-]{16,64}$/.test(token) ? await issuing.redeemDisplayToken(token) : null;
    if (!card) {
      return reply
        .code(410)
        .send(page('Card details unavailable', '<div class="banner bad" id="refused">This link has expired or was already used. Ask for a new one.</div>'));
    }
    const expiry = `${String(card.expiryMonth).padStart(2, '0')}/${String(card.expiryYear).slice(-2)}`;
    return reply.send(
      page(
        'Your card',
        `<dl>
<dt>Name</dt><dd id="cardholder">${escapeHtml(card.cardholderName)}</dd>
<dt>Card number</dt><dd id="card-number">${grouped(card.pan)}</dd>
<dt>Expiry</dt><dd id="expiry">${expiry}</dd>
<dt>CVV</dt><dd id="cvv">${card.cvv}</dd>
</dl>
<p class="muted hint">Shown once. Reload and it is gone.</p>`,
        { eyebrow: 'Secure card display' },
      ),
    );
  });
}
