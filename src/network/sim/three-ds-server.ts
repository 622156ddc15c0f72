import { randomBytes, randomUUID } from 'node:crypto';
import type { AuthenticationDecision, AuthenticationRequest, CardIssuer, ThreeDSData, ThreeDSServer } from '../../core/ports.ts';
import { defaultTestCard, testCardTable, type TestCard } from './test-cards.ts';

export interface SimThreeDSServerOptions {
  /** The hosted challenge page for a challenge id (built by the composition root). */
  challengeUrl: (challengeId: string) => string;
  /** Extra test cards; an entry with a documented number replaces it. */
  cards?: readonly TestCard[];
  /** The platform's own issuer: its cards' 3DS follows their risk controls. */
  issuer?: CardIssuer;
}

/**
 * The simulated 3DS server (directory server and issuer ACS in one):
 * - a 'challenge' test card is always challenged, enforced or not;
 * - with `enforce`, the 'frictionless' test card authenticates without a
 *   challenge and every other card is challenged;
 * - otherwise the card is not enrolled.
 * It keeps no state: a challenge's result depends only on how the shopper
 * finished it and the card's network, so any node answers it alike, also
 * after a restart.
 */
export class SimThreeDSServer implements ThreeDSServer {
  private readonly cards: ReadonlyMap<string, TestCard>;
  private readonly challengeUrl: (challengeId: string) => string;
  private readonly issuer: CardIssuer | undefined;

  constructor(options: SimThreeDSServerOptions) {
    this.cards = testCardTable(options.cards);
    this.challengeUrl = options.challengeUrl;
    this.issuer = options.issuer;
  }

  async authenticate(req: AuthenticationRequest): Promise<AuthenticationDecision> {
    if (this.issuer?.issues(req.card.number)) {
      const enrollment = await this.issuer.threeDSEnrollment(req.card);
      if (enrollment === 'always' || (enrollment === 'when_enforced' && req.enforce)) return this.challenge();
      return { kind: 'not_enrolled' };
    }
    const card = this.cards.get(req.card.number) ?? defaultTestCard(req.card.number);
    if (card.threeDS === 'frictionless' && req.enforce) {
      return { kind: 'frictionless', data: threeDSData(card.network, true) };
    }
    if (card.threeDS === 'challenge' || req.enforce) return this.challenge();
    return { kind: 'not_enrolled' };
  }

  private challenge(): AuthenticationDecision {
    const challengeId = randomBytes(24).toString('base64url'); // 192 bits, 32 url-safe characters
    return { kind: 'challenge', challengeId, acsUrl: this.challengeUrl(challengeId) };
  }

  challengeResult(_challengeId: string, success: boolean, network: string): ThreeDSData {
    return threeDSData(network, success);
  }
}

function threeDSData(network: string, success: boolean): ThreeDSData {
  const mastercard = network === 'mastercard';
  return {
    version: '2.2.0',
    eci: success ? (mastercard ? '02' : '05') : mastercard ? '00' : '07',
    cavv: randomBytes(20).toString('base64'), // 28 characters
    dsTransactionId: randomUUID(),
    status: success ? 'Y' : 'N',
  };
}
