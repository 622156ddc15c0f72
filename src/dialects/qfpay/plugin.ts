/**
 * The QFPay dialect, mounted at /trade/v1 and /download/v1: its own body
 * parsing (form-encoded, JSON leniently), the X-QF-APPCODE / X-QF-SIGN check
 * over exactly the parameters sent (query string and body, none twice),
 * sub-merchants by mchid, and QFPay's {respcd, resperr, respmsg} answer for
 * everything that goes wrong (HTTP-level faults through the app's fault
 * formats, with qfpayFault).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MerchantService } from '../../core/merchants/merchants.ts';
import { assertSafeInput } from '../../http/input-guard.ts';
import { billRoutes } from './bill.ts';
import { ownQfError, paramError, QfError, signatureError } from './errors.ts';
import { tradeRoutes, type QfpayDeps } from './routes.ts';
import { joinParams, parseBody, parseForm, signatureMatches, signTypeOf, type WireParams } from './transport.ts';

export interface QfpayPluginDeps extends QfpayDeps {
  merchants: MerchantService;
}

const BODY_LIMIT = 64 * 1024;

/** What the body parser hands on: the parameters as decoded and as sent. */
class ParsedBody {
  constructor(readonly wire: WireParams) {}
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function queryOf(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

async function dialectScope(app: FastifyInstance, deps: QfpayPluginDeps, routes: (app: FastifyInstance) => void): Promise<void> {
  app.removeAllContentTypeParsers();
  // Form bodies whatever the Content-Type says (Java's URLConnection and curl send it, other clients may not); JSON objects too.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (req, body, done) => {
    try {
      done(null, new ParsedBody(parseBody(body as string, header(req, 'content-type'))));
    } catch {
      done(new QfError('1103', 'the body is neither form-encoded parameters nor a JSON object'));
    }
  });

  // HTTP-level faults (no route, the database away, overload) go on to the app's handler, which answers them with qfpayFault.
  app.setErrorHandler((error, _req, reply) => {
    const e = ownQfError(error);
    if (!e) throw error;
    void reply.code(e.status).send(e.body);
  });

  app.decorateRequest('qf', null as unknown as FastifyRequest['qf']);
  // After the body is read, before validation: who is asking, and did they sign exactly what they sent?
  app.addHook('preValidation', async (req) => {
    // Parameters in the query string are sent too, and signed with the body's; none may be sent twice.
    const sent = parseForm(queryOf(req.url));
    if (req.body instanceof ParsedBody) joinParams(sent, req.body.wire);
    if (sent.repeated.size > 0) throw paramError(`${[...sent.repeated].join(', ')} sent more than once`);
    const appCode = header(req, 'x-qf-appcode')?.trim();
    if (!appCode) throw signatureError('the X-QF-APPCODE header is missing');
    // Leniently, a client may put the signature among the parameters (sign / sign_type; they are never signed themselves).
    const signature = (header(req, 'x-qf-sign') ?? sent.decoded.sign)?.trim();
    if (!signature) throw signatureError('the X-QF-SIGN header is missing');
    const type = signTypeOf(header(req, 'x-qf-signtype') ?? sent.decoded.sign_type);
    if (!type) throw signatureError('X-QF-SIGNTYPE must be MD5 or SHA256');
    const appMerchant = await deps.merchants.byQfpayAppCode(appCode);
    if (!appMerchant) throw signatureError('unknown app code');
    if (appMerchant.disabledAt !== null) throw signatureError('the merchant of this app code is disabled');
    if (!signatureMatches(sent, appMerchant.qfpay.clientKey, signature, type)) {
      throw signatureError('the signature does not match the parameters sent');
    }
    assertSafeInput(sent.decoded, 'parameters'); // before any of them reaches the database
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(sent.decoded)) if (v !== '' && k !== 'sign' && k !== 'sign_type') params[k] = v;
    let merchant = appMerchant;
    const mchid = params.mchid?.trim();
    if (mchid && mchid !== appMerchant.id) {
      const sub = await deps.merchants.byId(mchid);
      if (!sub || sub.parentId !== appMerchant.id) throw signatureError(`mchid ${mchid} is not a merchant of this app code`);
      if (sub.disabledAt !== null) throw signatureError(`mchid ${mchid} is disabled`);
      merchant = sub;
    }
    req.qf = { app: appMerchant, merchant, mchid: merchant === appMerchant ? null : merchant.id, params };
    // The route schemas validate the parameters sent, from the body and the query string alike.
    req.body = { ...params };
  });

  routes(app);
}

export async function qfpayPlugin(app: FastifyInstance, deps: QfpayPluginDeps): Promise<void> {
  await app.register((scope) => dialectScope(scope, deps, (s) => tradeRoutes(s, deps)), { prefix: '/trade/v1' });
  await app.register((scope) => dialectScope(scope, deps, (s) => billRoutes(s, deps)), { prefix: '/download/v1' });
}

