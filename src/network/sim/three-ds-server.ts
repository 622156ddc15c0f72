import { randomBytes, randomUUID } from 'node:crypto';
import type { AuthenticationDecision, AuthenticationRequest, ThreeDSData, ThreeDSServer } from '../../core/ports.ts';
import { defaultTestCard, testCardTable, type TestCard } from './test-cards.ts';

export interface SimThreeDSServerOptions {
  /** The hosted challenge page for a challenge id (built by the composition root). */
  challengeUrl: (challengeId: string) => string;
  /** Extra test cards; an entry with a documented number replaces it. */
  cards?: readonly TestCard[];
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

  constructor(options: SimThreeDSServerOptions) {
    this.cards = testCardTable(options.cards);
    this.challengeUrl = options.challengeUrl;
  }

  async authenticate(req: AuthenticationRequest): Promise<AuthenticationDecision> {
    const card = this.cards.get(req.card.number) ?? defaultTestCard(req.card.number);
    if (card.threeDS === 'frictionless' && req.enforce) {
      return { kind: 'frictionless', data: threeDSData(card.network, true) };
    }
    if (card.threeDS === 'challenge' || req.enforce) {
      const challengeId = randomBytes(24).toString('base64url'); // 192 bits, 32 url-safe characters
      return { kind: 'challenge', challengeId, acsUrl: this.challengeUrl(challengeId) };
    }
    return { kind: 'not_enrolled' };
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
