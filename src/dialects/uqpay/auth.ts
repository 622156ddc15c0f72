/**
 * UQPAY access tokens: POST /api/v1/connect/token trades x-client-id and
 * x-api-key for a signed JWT (HS256) carrying the claims the official SDKs
 * read. Every other call presents it as `x-auth-token: Bearer <jwt>`.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Clock } from '../../core/clock.ts';
import { apiKeyMatches, uqpayKeyRef, type MerchantService } from '../../core/merchants/merchants.ts';
import { UqpayHttpError, unauthorized } from './errors.ts';

export const TOKEN_LIFETIME_S = 30 * 60;

export interface TokenClaims {
  entity_id: string;
  short_entity_id: string;
  parent_entity_id: string;
  client_id: string;
  api_version: string;
  bus_type: string;
  /** Which api key the token was issued for (uqpayKeyRef): rotating the key ends the token. */
  key_ref: string;
  exp: number;
}

export class UqpayAuth {
  /** Verified tokens by their text: a token is checked once, then only its expiry. */
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    private readonly secret: Uint8Array,
    private readonly merchants: MerchantService,
    private readonly clock: Clock,
  ) {}

  async issue(clientId: string | undefined, apiKey: string | undefined): Promise<{ auth_token: string; expired_at: number }> {
    if (!clientId) throw new UqpayHttpError(400, { type: 'unauthorized_error', code: 'invalid_client_id', message: 'Invalid client id' });
    const merchant = await this.merchants.byUqpayClientId(clientId);
    if (!merchant) throw new UqpayHttpError(400, { type: 'unauthorized_error', code: 'invalid_client_id', message: 'Invalid client id' });
    if (!apiKey || !apiKeyMatches(merchant, apiKey)) {
      throw new UqpayHttpError(400, { type: 'unauthorized_error', code: 'invalid_api_key', message: 'Invalid api key' });
    }
    if (merchant.disabledAt !== null) throw new UqpayHttpError(400, { type: 'unauthorized_error', code: 'merchant_disabled', message: 'this merchant is disabled' });
    const now = Math.floor(this.clock.now() / 1000);
    const exp = now + TOKEN_LIFETIME_S;
    const token = await new SignJWT({
      entity_id: merchant.id,
      short_entity_id: merchant.id.slice(-8),
      parent_entity_id: merchant.parentId ?? '',
      client_id: clientId,
      api_version: 'V1.6.0',
      bus_type: 'ACQUIRING',
      key_ref: uqpayKeyRef(merchant.uqpay.apiKeyHash),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.secret);
    return { auth_token: token, expired_at: exp };
  }

  /** Checks the x-auth-token header, and that its merchant is still active; throws the documented 401s. */
  async verify(header: string | undefined): Promise<TokenClaims> {
    const m = header ? /^Bearer\s+(\S+)$/.exec(header.trim()) : null;
    // Anything that is not a compact JWS (three base64url segments) is a format error, like a missing "Bearer".
    if (!m || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(m[1]!)) throw unauthorized('invalid auth token format', 'invalid_token');
    const token = m[1]!;
    const nowS = this.clock.now() / 1000;
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp <= nowS) throw unauthorized('token has expired', 'token_expired');
      return this.ofActiveMerchant(cached);
    }
    let claims: TokenClaims;
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        currentDate: new Date(this.clock.now()),
      });
      claims = payload as unknown as TokenClaims;
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw unauthorized('token has expired', 'token_expired');
      throw unauthorized('invalid auth token', 'invalid_token');
    }
    if (typeof claims.entity_id !== 'string' || typeof claims.exp !== 'number') throw unauthorized('invalid auth token', 'invalid_token');
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(token, claims);
    return this.ofActiveMerchant(claims);
  }

  /**
   * A token dies with its merchant (disabled or gone) and with its api key
   * (rotated): it is refused however long it had left. A token without the
   * key claim (issued before tokens carried it) is refused too; the client
   * asks for a new one, as on expiry.
   */
  private async ofActiveMerchant(claims: TokenClaims): Promise<TokenClaims> {
    const access = await this.merchants.accessOf(claims.entity_id);
    if (!access.active) throw unauthorized('the merchant of this token is disabled', 'merchant_disabled');
    if (claims.key_ref !== access.uqpayKeyRef) throw unauthorized('the api key this token was issued for has been rotated', 'invalid_token');
    return claims;
  }
}
