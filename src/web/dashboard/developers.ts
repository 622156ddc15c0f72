/**
 * /dashboard/developers: each dialect's identifiers and credentials, their
 * rotation (a confirm step, then the new secret shown once, in the answer
 * to the POST itself: never in a cookie, a URL or a later page), the
 * webhook URL and secret, a test event, and the delivery log with Resend.
 * Viewers see identifiers only: no secret, no button.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CredentialKind, Merchant } from '../../core/merchants/merchants.ts';
import { DeliveryLog } from '../../delivery/delivery-log.ts';
import { DeliveryNotFound, Redelivery } from '../../delivery/redelivery.ts';
import { webhookUrlRefusal } from '../../delivery/webhook-url.ts';
import type { DashboardDeps } from './deps.ts';
import { deliveryLogSection, logQuery } from './delivery-log-view.ts';
import { actionForm, backTo, confirmStep, fields, formKey, onceField, shownOnce } from './forms.ts';
import { DashboardNotFound, isAdmin, requireAdmin } from './guards.ts';
import { html, type Html } from './html.ts';
import { csrfField, DASHBOARD_PATH, dashboardPage, redirectWithFlash } from './layout.ts';

const PAGE = `${DASHBOARD_PATH}/developers`;

const CREDENTIALS: Record<CredentialKind, { label: string; consequence: string }> = {
  'uqpay-api-key': { label: 'UQPAY API key', consequence: 'The current key stops working at once, and so do the access tokens it issued.' },
  'uqpay-webhook-secret': { label: 'UQPAY webhook secret', consequence: 'Webhooks from now on are signed with the new secret only.' },
  'qfpay-client-key': { label: 'QFPay client key', consequence: 'Requests signed with the current key are refused from now on, and notifications are signed with the new one.' },
  'alphapay-keys': {
    label: 'AlphaPay key pairs',
    consequence: 'You get a new private key to sign requests with and a new platform public key to verify answers and notifications with. Requests signed with the current key are refused from now on.',
  },
  'alphapay-credential-code': { label: 'AlphaPay v1 credential code', consequence: 'v1 requests signed with the current code are refused from now on.' },
};

const isKind = (k: string): k is CredentialKind => Object.hasOwn(CREDENTIALS, k);

/** What a rotation showed, labelled for the page. */
const SHOWN_LABELS: Record<string, string> = {
  api_key: 'New API key',
  webhook_secret: 'New webhook secret',
  client_key: 'New client key',
  merchant_private_key: 'New merchant private key (PKCS#8, base64)',
  platform_public_key: 'New platform public key (SPKI, base64)',
  credential_code: 'New credential code',
};

interface Rotation {
  kind: CredentialKind;
  /** The new secrets, or null when the same form had already rotated them. */
  shown: Record<string, string> | null;
}

/** One credential's row: its value hidden, and (for admins) Rotate, its confirm step, or what the rotation just showed. */
function credentialRow(req: FastifyRequest, kind: CredentialKind, confirm: string | undefined, rotation: Rotation | undefined): Html {
  const c = CREDENTIALS[kind];
  let action: Html | string = '';
  if (rotation?.kind === kind) {
    action = rotation.shown
      ? html`<p class="small">Shown once: copy it now. It cannot be shown again.</p>${Object.entries(rotation.shown).map(([k, v]) => shownOnce(SHOWN_LABELS[k] ?? k, v))}`
      : html`<p class="flash bad">This form had already rotated the ${c.label}; its new value was shown then and cannot be shown again.</p>`;
  } else if (isAdmin(req)) {
    action =
      confirm === kind
        ? confirmStep(req, `${PAGE}/credentials/${kind}/rotate`, `Rotate the ${c.label}?`, c.consequence, `Rotate ${c.label}`, `${PAGE}#${kind}`)
        : html`<a class="button secondary small" href="${PAGE}?confirm=${kind}#${kind}">Rotate…</a>`;
  }
  return html`<dt id="${kind}">${c.label}</dt><dd><span class="muted">Hidden: shown once when made</span>${action}</dd>`;
}

function credentialsSection(req: FastifyRequest, m: Merchant, confirm: string | undefined, rotation: Rotation | undefined): Html {
  const row = (kind: CredentialKind) => credentialRow(req, kind, confirm, rotation);
  return html`<section class="card" aria-labelledby="creds-uqpay"><h2 id="creds-uqpay">UQPAY</h2>
  <dl class="kv"><dt>Client ID</dt><dd><code>${m.uqpay.clientId}</code></dd>${row('uqpay-api-key')}${row('uqpay-webhook-secret')}</dl></section>
<section class="card" aria-labelledby="creds-qfpay"><h2 id="creds-qfpay">QFPay</h2>
  <dl class="kv"><dt>App code</dt><dd><code>${m.qfpay.appCode}</code></dd>${row('qfpay-client-key')}</dl></section>
<section class="card" aria-labelledby="creds-alphapay"><h2 id="creds-alphapay">AlphaPay</h2>
  <dl class="kv"><dt>Merchant code</dt><dd><code>${m.alphapay.merchantCode}</code></dd>
  <dt>Platform public key</dt><dd><code class="key">${m.alphapay.platformPublicKey}</code></dd>${row('alphapay-keys')}${row('alphapay-credential-code')}</dl></section>`;
}

function webhookSection(req: FastifyRequest, m: Merchant): Html {
  const admin = isAdmin(req);
  return html`<section class="card" aria-labelledby="webhooks"><h2 id="webhooks">Webhooks</h2>
  <p class="small muted">UQPAY webhooks, and QFPay and AlphaPay notifications of orders that name no notify URL of their own, go to this URL.</p>
  ${
    admin
      ? html`<form method="post" action="${PAGE}/webhook-url" class="webhook-form">${csrfField(req)}${onceField()}
    <label for="webhook-url">Webhook URL</label>
    <div class="inline"><input id="webhook-url" name="url" type="url" inputmode="url" maxlength="512" placeholder="https://example.com/webhooks" value="${m.webhookUrl ?? ''}"><button type="submit">Save URL</button></div>
  </form>
  <div class="actions">${actionForm(req, `${PAGE}/test-event`, 'Send test event', { kind: 'secondary' })}</div>`
      : html`<dl class="kv"><dt>Webhook URL</dt><dd>${m.webhookUrl ? html`<code>${m.webhookUrl}</code>` : html`<span class="muted">None set</span>`}</dd></dl>`
  }
</section>`;
}

export async function developersPages(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const log = new DeliveryLog(deps.store);
  const redelivery = new Redelivery(deps.store, deps.clock);
  const live = !deps.sandbox;

  async function render(req: FastifyRequest, reply: FastifyReply, rotation?: Rotation) {
    const q = req.query as Record<string, string | undefined>;
    const merchant = (await deps.merchants.byId(req.dashboard.merchant.id)) ?? req.dashboard.merchant;
    const page = await log.page(logQuery(req.dashboard.merchantIds, q));
    const body = html`${credentialsSection(req, merchant, rotation ? undefined : q.confirm, rotation)}${webhookSection(req, merchant)}${deliveryLogSection(req, page, q)}`;
    return reply.type('text/html; charset=utf-8').send(dashboardPage(req, { title: 'Developers', section: 'developers', body, styles: ['devtools.css'] }));
  }

  app.get('/developers', (req, reply) => render(req, reply));

  app.post<{ Params: { kind: string } }>('/developers/credentials/:kind/rotate', async (req, reply) => {
    requireAdmin(req);
    const kind = req.params.kind;
    if (!isKind(kind)) throw new DashboardNotFound('Not found');
    const shown = await deps.merchants.rotate(req.dashboard.merchant.id, kind, formKey(req));
    // The new secret goes out in this answer only.
    return render(req, reply, { kind, shown: shown as Record<string, string> | null });
  });

  app.post('/developers/webhook-url', async (req, reply) => {
    requireAdmin(req);
    const f = fields(req);
    const url = (f.url ?? '').trim();
    const refusal = url ? webhookUrlRefusal(url, live) : null;
    if (refusal) return redirectWithFlash(reply, `${PAGE}#webhooks`, 'bad', `Not saved: ${refusal}.`);
    await deps.merchants.setWebhookUrl(req.dashboard.merchant.id, url || null, formKey(req));
    return redirectWithFlash(reply, `${PAGE}#webhooks`, 'ok', url ? `Webhooks now go to ${url}.` : 'Webhook URL removed: no webhooks are sent.');
  });

  app.post('/developers/test-event', async (req, reply) => {
    requireAdmin(req);
    const merchant = await deps.merchants.byId(req.dashboard.merchant.id);
    if (!merchant?.webhookUrl) return redirectWithFlash(reply, `${PAGE}#webhooks`, 'bad', 'Set a webhook URL first: a test event goes to it.');
    const eventId = await redelivery.sendTestEvent(merchant.id, merchant.webhookUrl, formKey(req));
    return redirectWithFlash(reply, `${PAGE}#deliveries`, 'ok', `Test event ${eventId} is on its way to ${merchant.webhookUrl}.`);
  });

  app.post<{ Params: { deliveryId: string } }>('/developers/deliveries/:deliveryId/resend', async (req, reply) => {
    requireAdmin(req);
    // Back where the button was: the payment's timeline, or this page's log.
    const back = backTo(req, `${PAGE}#deliveries`);
    try {
      await redelivery.resend(req.dashboard.merchantIds, req.params.deliveryId, formKey(req));
    } catch (e) {
      if (e instanceof DeliveryNotFound) throw new DashboardNotFound('Not found');
      throw e;
    }
    return redirectWithFlash(reply, back, 'ok', 'The webhook will be sent again in a moment; it shows in the delivery log.');
  });
}
