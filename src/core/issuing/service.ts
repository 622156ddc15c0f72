/**
 * The issuing service: the issuing API's commands and queries, and the
 * platform's card issuer as the card network sees it (CardIssuer). Every
 * state change commits with its ledger journal and its events in one unit.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { DomainError } from '../errors.ts';
import { uuid } from '../ids.ts';
import type { Money } from '../money.ts';
import type { AuthorizationRequest, AuthorizationResult, CardDetails, CardIssuer, ThreeDSEnrollment } from '../ports.ts';
import type { SecretBox } from '../secret-box.ts';
import { decide, networkFailureCode, type AuthorizationInput, type DeclineReason } from './authorization.ts';
import { CardSecrets, luhnValid, newPan } from './card-data.ts';
import * as cards from './cards.ts';
import { CARD_PRODUCTS, productById, productOfNumber } from './products.ts';
import type { CardFilter, CardholderFilter, IssuingStore, IssuingTx, Page, PageRequest, TransactionFilter } from './repository.ts';
import type {
  Card,
  CardControls,
  Cardholder,
  CardholderDetails,
  CardOrder,
  CardOrderType,
  CardProduct,
  CardView,
  IssuingBalance,
  IssuingEntry,
  IssuingEvent,
  IssuingEventType,
  IssuingTransaction,
  RiskControls,
  SpendingControl,
  Transfer,
  UsageType,
  AutoCancelTrigger,
} from './types.ts';

/** The units a caller (the HTTP edge's idempotency) joins: `begin` first in the command's unit, `end` last with its outcome. */
export interface IssuingHooks<O> {
  begin?(tx: KeyGuards, subjectId: string): Promise<void>;
  begun?(): void;
  end?(tx: KeyGuards, outcome: O): Promise<void>;
  ended?(): void;
}
export type KeyGuards = Pick<IssuingTx, 'claimKey' | 'completeKey'>;

export interface IssuingDeps {
  store: IssuingStore;
  clock: { now(): number };
  /** Seals PANs at rest. */
  vault: SecretBox;
  /** Derives CVVs and PAN fingerprints; a key of its own, never stored with the data. */
  cardKey: Buffer;
}

/** How long a secure-display token lives. */
export const DISPLAY_TOKEN_TTL_MS = 60_000;

/** The merchant category code an acquiring payment carries through the closed loop (miscellaneous retail). */
export const NETWORK_MCC = '5999';

export interface CreateCardholderInput {
  email: string;
  phoneNumber: string;
  firstName: string;
  lastName: string;
  countryCode: string;
  details: CardholderDetails;
}

export type UpdateCardholderInput = Partial<CreateCardholderInput>;

export interface CreateCardInput {
  cardholderId: string;
  productId: string;
  currency: string;
  /** Minor units; undefined: not sent. */
  cardLimit?: number;
  spending?: SpendingControl[];
  risk?: Partial<RiskControls>;
  metadata?: Record<string, unknown>;
  usageType?: UsageType;
  autoCancelTrigger?: AutoCancelTrigger;
}

export interface UpdateCardInput {
  cardLimit?: number;
  spending?: SpendingControl[];
  risk?: Partial<RiskControls>;
  metadata?: Record<string, unknown>;
}

export interface CardWithOrder {
  card: CardView;
  order: CardOrder;
}

export interface SecureCard {
  pan: string;
  cvv: string;
  expiryMonth: number;
  expiryYear: number;
}

export interface SimulatedAuthorization {
  cardId: string;
  amount: number;
  currency: string;
  merchantName: string;
  merchantCategoryCode: string;
}

const DEFAULT_RISK: RiskControls = { enable3ds: false, allow3dsTransactions: true, allowedMcc: [], blockedMcc: [] };

const notFound = (what: string, id: string) => DomainError.notFound(what, id);

export class IssuingService implements CardIssuer {
  private readonly secrets: CardSecrets;

  constructor(private readonly deps: IssuingDeps) {
    this.secrets = new CardSecrets(deps.cardKey);
  }

  private get now(): number {
    return this.deps.clock.now();
  }

  /** One unit with the caller's hooks: claim first, the command, then its stored response. */
  private async command<O>(hooks: IssuingHooks<O> | undefined, subjectId: string, fn: (tx: IssuingTx) => Promise<O>): Promise<O> {
    const outcome = await this.deps.store.unit(async (tx) => {
      if (hooks?.begin) await hooks.begin(tx, subjectId);
      const o = await fn(tx);
      if (hooks?.end) await hooks.end(tx, o);
      return o;
    });
    hooks?.begun?.();
    hooks?.ended?.();
    return outcome;
  }

  // --- products ---

  products(): readonly CardProduct[] {
    return CARD_PRODUCTS;
  }

  // --- cardholders ---

  async createCardholder(merchantId: string, input: CreateCardholderInput, hooks?: IssuingHooks<Cardholder>): Promise<Cardholder> {
    const now = this.now;
    const cardholder: Cardholder = {
      id: uuid(),
      merchantId,
      email: input.email,
      phoneNumber: input.phoneNumber,
      firstName: input.firstName,
      lastName: input.lastName,
      countryCode: input.countryCode,
      status: cards.kycStatus(input.lastName),
      details: input.details,
      createdAt: now,
      updatedAt: now,
    };
    return this.command(hooks, cardholder.id, async (tx) => {
      await this.assertContactFree(tx, merchantId, cardholder.email, cardholder.phoneNumber);
      await tx.insertCardholder(cardholder);
      return cardholder;
    });
  }

  async updateCardholder(merchantId: string, id: string, input: UpdateCardholderInput, hooks?: IssuingHooks<Cardholder>): Promise<Cardholder> {
    return this.command(hooks, id, async (tx) => {
      const current = await tx.cardholder(merchantId, id);
      if (!current) throw notFound('cardholder', id);
      const next: Cardholder = {
        ...current,
        ...(input.email !== undefined && { email: input.email }),
        ...(input.phoneNumber !== undefined && { phoneNumber: input.phoneNumber }),
        ...(input.firstName !== undefined && { firstName: input.firstName }),
        ...(input.lastName !== undefined && { lastName: input.lastName }),
        ...(input.countryCode !== undefined && { countryCode: input.countryCode }),
        details: { ...current.details, ...input.details },
        updatedAt: this.now,
      };
      // A changed name is checked again; a cardholder already approved stays approved unless the new name says otherwise.
      if (input.lastName !== undefined) next.status = cards.kycStatus(next.lastName);
      await this.assertContactFree(tx, merchantId, next.email, next.phoneNumber, id);
      await tx.updateCardholder(next);
      return next;
    });
  }

  private async assertContactFree(tx: IssuingTx, merchantId: string, email: string, phone: string, exceptId?: string): Promise<void> {
    const other = await tx.cardholderWithContact(merchantId, email, phone, exceptId);
    if (!other) return;
    const field = other.email === email ? 'email' : 'phone_number';
    throw new DomainError('duplicate', 'cardholder_already_exists', `a cardholder with this ${field} already exists`, field);
  }

  async getCardholder(merchantId: string, id: string): Promise<Cardholder> {
    const c = await this.deps.store.reads.cardholder(merchantId, id);
    if (!c) throw notFound('cardholder', id);
    return c;
  }

  listCardholders(merchantId: string, f: CardholderFilter, page: PageRequest): Promise<Page<Cardholder>> {
    return this.deps.store.reads.listCardholders(merchantId, f, page);
  }

  // --- cards ---

  async createCard(merchantId: string, input: CreateCardInput, hooks?: IssuingHooks<CardWithOrder>): Promise<CardWithOrder> {
    const product = productById(input.productId);
    if (!product) throw new DomainError('validation', 'invalid_card_product', `card_product_id ${input.productId} is not one of your card products`, 'card_product_id');
    if (!product.currencies.includes(input.currency)) {
      throw DomainError.validation(`card_currency ${input.currency} is not offered by product ${product.id} (${product.currencies.join(', ')})`, 'card_currency');
    }
    if (product.limitRequired && (input.cardLimit === undefined || input.cardLimit < 1)) {
      throw DomainError.validation(`card_limit is required and must be at least 0.01 for BIN ${product.bin}`, 'card_limit');
    }
    if (input.autoCancelTrigger && input.usageType !== 'ONE_TIME') {
      throw DomainError.validation('auto_cancel_trigger is only for usage_type ONE_TIME', 'auto_cancel_trigger');
    }
    const now = this.now;
    const limit = input.cardLimit ?? 0;
    const controls: CardControls = {
      spending: input.spending ?? [],
      risk: { ...DEFAULT_RISK, ...input.risk },
      usageType: input.usageType ?? 'NORMAL',
      autoCancelTrigger: input.usageType === 'ONE_TIME' ? (input.autoCancelTrigger ?? 'ON_AUTH') : null,
    };
    const expiry = new Date(now);
    const base: Omit<Card, 'panSealed' | 'panFingerprint' | 'last4'> = {
      id: uuid(),
      merchantId,
      cardholderId: input.cardholderId,
      productId: product.id,
      currency: input.currency,
      bin: product.bin,
      expiryMonth: expiry.getUTCMonth() + 1,
      expiryYear: expiry.getUTCFullYear() + cards.CARD_VALIDITY_YEARS,
      status: 'PENDING',
      cardLimit: limit,
      available: limit,
      consumed: 0,
      controls,
      metadata: input.metadata ?? {},
      stepDueAt: now + cards.CARD_ORDER_DELAY_MS,
      createdAt: now,
      updatedAt: now,
    };
    const order = this.order(merchantId, base.id, 'CARD_CREATE', 'PROCESSING', null, input.currency, now);
    return this.command(hooks, base.id, async (tx) => {
      const cardholder = await tx.cardholder(merchantId, input.cardholderId);
      if (!cardholder) throw notFound('cardholder', input.cardholderId);
      cards.assertCardholderCanHoldCards(cardholder);
      const card = await this.withFreshPan(tx, product, base);
      if (product.modeType === 'SINGLE' && limit > 0) await this.moveFunds(tx, card, limit);
      await tx.insertCard(card);
      await tx.insertOrder(order);
      return { card: this.view(card, cardholder, null), order };
    });
  }

  /** A PAN no card has: a collision with the unique fingerprint is drawn again. */
  private async withFreshPan(tx: IssuingTx, product: CardProduct, base: Omit<Card, 'panSealed' | 'panFingerprint' | 'last4'>): Promise<Card> {
    for (let i = 0; i < 10; i++) {
      const pan = newPan(product.bin);
      const fingerprint = this.secrets.fingerprint(pan);
      if (await tx.cardByFingerprint(fingerprint)) continue;
      return { ...base, panSealed: this.deps.vault.seal(pan), panFingerprint: fingerprint, last4: pan.slice(-4) };
    }
    throw new Error('no free card number on this BIN after 10 draws');
  }

  private order(merchantId: string, cardId: string, type: CardOrderType, status: CardOrder['status'], amount: number | null, currency: string, now: number): CardOrder {
    return { id: uuid(), merchantId, cardId, type, status, amount, currency, createdAt: now, updatedAt: now };
  }

  async getCard(merchantId: string, id: string): Promise<CardView> {
    const card = await this.deps.store.reads.card(merchantId, id);
    if (!card) throw notFound('card', id);
    return (await this.views(merchantId, [card]))[0]!;
  }

  async listCards(merchantId: string, f: CardFilter, page: PageRequest): Promise<Page<CardView>> {
    const found = await this.deps.store.reads.listCards(merchantId, f, page);
    return { total: found.total, items: await this.views(merchantId, found.items) };
  }

  private async views(merchantId: string, list: Card[]): Promise<CardView[]> {
    const reads = this.deps.store.reads;
    const holders = new Map((await reads.cardholdersByIds(merchantId, [...new Set(list.map((c) => c.cardholderId))])).map((h) => [h.id, h]));
    const balances = new Map((await reads.balances(merchantId)).map((b) => [b.currency, b.available]));
    return list.map((c) => this.view(c, holders.get(c.cardholderId)!, balances.get(c.currency) ?? 0));
  }

  /** The card as reads and events show it. `shareBalance`: the issuing balance an unlimited SHARE card spends from. */
  private view(card: Card, cardholder: Cardholder, shareBalance: number | null): CardView {
    const { panSealed: _p, panFingerprint: _f, ...rest } = card;
    const product = productById(card.productId)!;
    const unlimited = product.modeType === 'SHARE' && card.cardLimit === 0;
    return { ...rest, cardholder, product, availableBalance: unlimited ? (shareBalance ?? 0) : card.available };
  }

  async updateCard(merchantId: string, id: string, input: UpdateCardInput, hooks?: IssuingHooks<CardWithOrder>): Promise<CardWithOrder> {
    return this.command(hooks, id, async (tx) => {
      const { card, cardholder, product } = await this.lockedCard(tx, merchantId, id);
      cards.assertChangeable(card);
      const now = this.now;
      let next: Card = {
        ...card,
        controls: {
          ...card.controls,
          ...(input.spending !== undefined && { spending: input.spending }),
          risk: { ...card.controls.risk, ...input.risk },
        },
        metadata: input.metadata ?? card.metadata,
        updatedAt: now,
      };
      if (input.cardLimit !== undefined && input.cardLimit !== card.cardLimit) {
        if (product.limitRequired && input.cardLimit < 1) throw DomainError.validation(`card_limit must be at least 0.01 for BIN ${product.bin}`, 'card_limit');
        next = await this.changeLimit(tx, next, product, input.cardLimit - card.cardLimit, now);
      }
      await tx.updateCard(next);
      const order = this.order(merchantId, id, 'CARD_UPDATE', 'SUCCESS', null, card.currency, now);
      await tx.insertOrder(order);
      const view = await this.eventView(tx, next, cardholder);
      await tx.appendEvents([this.event('card.update.succeeded', order.id, { card: view }, now)]);
      return { card: view, order };
    });
  }

  /** A recharge (positive) or withdrawal (negative) of the card's limit, as a card order. */
  async rechargeOrWithdraw(merchantId: string, id: string, amount: number, direction: 'recharge' | 'withdraw', hooks?: IssuingHooks<CardWithOrder>): Promise<CardWithOrder> {
    return this.command(hooks, id, async (tx) => {
      const { card, cardholder, product } = await this.lockedCard(tx, merchantId, id);
      const now = this.now;
      const next = await this.changeLimit(tx, card, product, direction === 'recharge' ? amount : -amount, now);
      await tx.updateCard(next);
      const type = direction === 'recharge' ? 'CARD_RECHARGE' : 'CARD_WITHDRAW';
      const order = this.order(merchantId, id, type, 'SUCCESS', amount, card.currency, now);
      await tx.insertOrder(order);
      const view = await this.eventView(tx, next, cardholder);
      await tx.appendEvents([this.event(direction === 'recharge' ? 'card.recharge.succeeded' : 'card.withdraw.succeeded', order.id, { card: view }, now)]);
      return { card: view, order };
    });
  }

  /**
   * The limit moves by `delta`. A SINGLE card's funds move with it between
   * the issuing balance and the card; a SHARE card's limit is only a cap.
   */
  private async changeLimit(tx: IssuingTx, card: Card, product: CardProduct, delta: number, now: number): Promise<Card> {
    cards.assertChangeable(card);
    if (product.modeType === 'SINGLE') {
      const next = cards.adjustLimit(card, delta, now);
      await this.moveFunds(tx, card, delta);
      return next;
    }
    const limit = card.cardLimit + delta;
    if (limit < 0) throw DomainError.amount(`card_limit cannot fall below zero`, 'invalid_card_limit');
    if (limit > 0 && limit < card.consumed) {
      throw DomainError.amount(`the card has spent ${card.consumed} minor units: its limit cannot be below that`, 'invalid_card_limit');
    }
    return { ...card, cardLimit: limit, available: limit > 0 ? limit - card.consumed : 0, updatedAt: now };
  }

  /** Moves `amount` (signed: positive onto the card) between the issuing balance and a SINGLE card, with its journal. */
  private async moveFunds(tx: IssuingTx, card: Card, amount: number): Promise<void> {
    if (amount === 0) return;
    const now = this.now;
    const balance = await this.lockedBalance(tx, card.merchantId, card.currency);
    if (amount > 0 && balance.available < amount) {
      throw DomainError.amount(`the issuing balance in ${card.currency} is too low to put this on the card`, 'insufficient_balance');
    }
    await tx.saveBalance({ ...balance, available: balance.available - amount, updatedAt: now }, false);
    await tx.post({ id: uuid(), merchantId: card.merchantId, sourceId: card.id, entries: journal(card.currency, amount, 'issuing_balance', 'issuing_card_funds') }, now);
  }

  async changeCardStatus(merchantId: string, id: string, target: 'ACTIVE' | 'FROZEN' | 'CANCELLED', hooks?: IssuingHooks<CardWithOrder>): Promise<CardWithOrder> {
    return this.command(hooks, id, async (tx) => {
      const { card, cardholder } = await this.lockedCard(tx, merchantId, id);
      const now = this.now;
      const next = cards.changeStatus(card, target, now);
      await tx.updateCard(next);
      const order = this.order(merchantId, id, 'CARD_STATUS_UPDATE', next.status === 'PRE_CANCEL' ? 'PROCESSING' : 'SUCCESS', null, card.currency, now);
      await tx.insertOrder(order);
      const view = await this.eventView(tx, next, cardholder);
      // A cancel is told when it completes (the sweep); freeze and unfreeze at once.
      if (next.status !== 'PRE_CANCEL') await tx.appendEvents([this.event('card.status.update.succeeded', order.id, { card: view }, now)]);
      return { card: view, order };
    });
  }

  /** Cards whose order has come due: PENDING -> ACTIVE (card.create.succeeded), PRE_CANCEL -> CANCELLED. */
  async completeDueSteps(limit = 200): Promise<number> {
    const due = await this.deps.store.reads.cardsWithStepDue(this.now, limit);
    let done = 0;
    for (const { merchantId, id } of due) {
      const changed = await this.deps.store.unit(async (tx) => {
        const found = await tx.card(merchantId, id, true);
        const now = this.now;
        if (!found || found.stepDueAt === null || found.stepDueAt > now) return false;
        const cardholder = (await tx.cardholder(merchantId, found.cardholderId))!;
        let next = cards.completeStep(found, now);
        if (next.status === 'CANCELLED' && productById(found.productId)!.modeType === 'SINGLE' && next.available > 0) {
          // What is left on a cancelled SINGLE card goes back to the issuing balance.
          await this.moveFunds(tx, found, -next.available);
          next = { ...next, available: 0, cardLimit: next.cardLimit - next.available };
        }
        await tx.updateCard(next);
        // The order the card was waiting on succeeds; its id is the webhook's source_id (seed 001).
        const orderId = await tx.completeOrder(found.id, found.status === 'PENDING' ? 'CARD_CREATE' : 'CARD_STATUS_UPDATE', now);
        const view = await this.eventView(tx, next, cardholder);
        const type: IssuingEventType = found.status === 'PENDING' ? 'card.create.succeeded' : 'card.status.update.succeeded';
        await tx.appendEvents([this.event(type, orderId ?? found.id, { card: view }, now)]);
        return true;
      });
      if (changed) done++;
    }
    return done;
  }

  private async lockedCard(tx: IssuingTx, merchantId: string, id: string): Promise<{ card: Card; cardholder: Cardholder; product: CardProduct }> {
    const card = await tx.card(merchantId, id, true);
    if (!card) throw notFound('card', id);
    const cardholder = (await tx.cardholder(merchantId, card.cardholderId))!;
    return { card, cardholder, product: productById(card.productId)! };
  }

  private async eventView(tx: IssuingTx, card: Card, cardholder: Cardholder): Promise<CardView> {
    const balance = await tx.balance(card.merchantId, card.currency);
    return this.view(card, cardholder, balance?.available ?? 0);
  }

  private event(type: IssuingEventType, sourceId: string, payload: IssuingEvent['payload'], now: number, merchantId = payload.card.merchantId): IssuingEvent {
    return { id: uuid(), merchantId, type, sourceId, payload, createdAt: now };
  }

  // --- card data ---

  async secure(merchantId: string, id: string): Promise<SecureCard> {
    const card = await this.deps.store.reads.card(merchantId, id);
    if (!card) throw notFound('card', id);
    return this.secureOf(card);
  }

  private secureOf(card: Card): SecureCard {
    const pan = this.deps.vault.open(card.panSealed);
    return { pan, cvv: this.secrets.cvv(pan, card.expiryMonth, card.expiryYear), expiryMonth: card.expiryMonth, expiryYear: card.expiryYear };
  }

  /** A single-use token for the hosted secure display; only its hash is stored. */
  async displayToken(merchantId: string, id: string): Promise<{ token: string; expiresAt: number }> {
    const card = await this.deps.store.reads.card(merchantId, id);
    if (!card) throw notFound('card', id);
    const token = randomBytes(24).toString('base64url');
    const expiresAt = this.now + DISPLAY_TOKEN_TTL_MS;
    await this.deps.store.unit((tx) => tx.putDisplayToken(tokenHash(token), merchantId, id, expiresAt));
    return { token, expiresAt };
  }

  /** What the secure display shows for a token, once: null when it is unknown, used or expired. */
  async redeemDisplayToken(token: string): Promise<(SecureCard & { cardholderName: string }) | null> {
    const found = await this.deps.store.unit((tx) => tx.useDisplayToken(tokenHash(token), this.now));
    if (!found) return null;
    const card = await this.deps.store.reads.card(found.merchantId, found.cardId);
    if (!card) return null;
    const holder = await this.deps.store.reads.cardholder(found.merchantId, card.cardholderId);
    return { ...this.secureOf(card), cardholderName: holder ? `${holder.firstName} ${holder.lastName}` : '' };
  }

  // --- balances, deposits, transfers ---

  balances(merchantId: string): Promise<IssuingBalance[]> {
    return this.deps.store.reads.balances(merchantId);
  }

  balanceTransactions(merchantId: string, currency: string | undefined, page: PageRequest) {
    return this.deps.store.reads.balanceTransactions(merchantId, currency, page);
  }

  /** Sandbox: money arrives on the merchant's issuing balance (as a bank deposit would). */
  async deposit(merchantId: string, currency: string, amount: number, hooks?: IssuingHooks<IssuingBalance>): Promise<IssuingBalance> {
    const id = uuid();
    return this.command(hooks, id, async (tx) => {
      const balance = await this.lockedBalance(tx, merchantId, currency);
      const next = { ...balance, available: balance.available + amount, updatedAt: this.now };
      await tx.saveBalance(next, false);
      await tx.post({ id: uuid(), merchantId, sourceId: id, entries: journal(currency, amount, 'issuing_deposits', 'issuing_balance') }, this.now);
      return next;
    });
  }

  /** The merchant's balance row in `currency`, locked, created (at zero) when there is none yet. */
  private async lockedBalance(tx: IssuingTx, merchantId: string, currency: string): Promise<IssuingBalance> {
    const found = await tx.balance(merchantId, currency, true);
    if (found) return found;
    const now = this.now;
    const fresh: IssuingBalance = { id: uuid(), merchantId, currency, available: 0, createdAt: now, updatedAt: now };
    await tx.saveBalance(fresh, true);
    // Another unit may have created it at the same moment: read it back under lock.
    return (await tx.balance(merchantId, currency, true))!;
  }

  async transfer(merchantId: string, input: { from: string; to: string; currency: string; amount: number }, canUse: (accountId: string) => Promise<boolean>, hooks?: IssuingHooks<Transfer>): Promise<Transfer> {
    if (input.from === input.to) throw DomainError.validation('source_account_id and destination_account_id must differ', 'destination_account_id');
    for (const [field, account] of [['source_account_id', input.from], ['destination_account_id', input.to]] as const) {
      if (!(await canUse(account))) throw new DomainError('validation', 'invalid_account', `${field} ${account} is not your account or one of your sub-accounts`, field);
    }
    const transfer: Transfer = { id: uuid(), merchantId, sourceAccountId: input.from, destinationAccountId: input.to, currency: input.currency, amount: input.amount, status: 'SUCCEEDED', createdAt: this.now };
    return this.command(hooks, transfer.id, async (tx) => {
      // Locked in one order (by account id) so that two opposite transfers cannot deadlock.
      const [first, second] = [input.from, input.to].sort();
      const locked = new Map<string, IssuingBalance>();
      for (const account of [first!, second!]) locked.set(account, await this.lockedBalance(tx, account, input.currency));
      const source = locked.get(input.from)!;
      const destination = locked.get(input.to)!;
      if (source.available < input.amount) throw DomainError.amount(`the source issuing balance in ${input.currency} is too low`, 'insufficient_balance');
      const now = this.now;
      await tx.saveBalance({ ...source, available: source.available - input.amount, updatedAt: now }, false);
      await tx.saveBalance({ ...destination, available: destination.available + input.amount, updatedAt: now }, false);
      // Each account's journal balances on its own: the money leaves one through the transfer account and arrives in the other.
      await tx.post({ id: uuid(), merchantId: input.from, sourceId: transfer.id, entries: journal(input.currency, input.amount, 'issuing_balance', 'issuing_deposits') }, now);
      await tx.post({ id: uuid(), merchantId: input.to, sourceId: transfer.id, entries: journal(input.currency, input.amount, 'issuing_deposits', 'issuing_balance') }, now);
      await tx.insertTransfer(transfer);
      return transfer;
    });
  }

  async getTransfer(merchantId: string, id: string): Promise<Transfer> {
    const t = await this.deps.store.reads.transfer(merchantId, id);
    if (!t) throw notFound('transfer', id);
    return t;
  }

  listTransfers(merchantId: string, page: PageRequest) {
    return this.deps.store.reads.listTransfers(merchantId, page);
  }

  // --- transactions ---

  async getTransaction(merchantId: string, id: string): Promise<IssuingTransaction> {
    const t = await this.deps.store.reads.transaction(merchantId, id);
    if (!t) throw notFound('transaction', id);
    return t;
  }

  listTransactions(merchantId: string, f: TransactionFilter, page: PageRequest) {
    return this.deps.store.reads.listTransactions(merchantId, f, page);
  }

  /** POST /v1/simulation/issuing/authorization: a purchase at a merchant, decided like any other. */
  async simulateAuthorization(merchantId: string, input: SimulatedAuthorization, hooks?: IssuingHooks<IssuingTransaction>): Promise<IssuingTransaction> {
    const id = uuid();
    return this.command(hooks, id, async (tx) => {
      const card = await tx.card(merchantId, input.cardId, true);
      if (!card) throw notFound('card', input.cardId);
      return this.authorizeLocked(tx, card, id, null, input.merchantName, { amount: input.amount, currency: input.currency, merchantCategoryCode: input.merchantCategoryCode, threeDS: false });
    });
  }

  /** POST /v1/simulation/issuing/reversal: the whole authorization is released. */
  async simulateReversal(merchantId: string, transactionId: string, hooks?: IssuingHooks<IssuingTransaction>): Promise<IssuingTransaction> {
    const id = uuid();
    return this.command(hooks, id, async (tx) => {
      const original = await tx.transaction(merchantId, transactionId);
      if (!original) throw notFound('transaction', transactionId);
      if (original.type !== 'AUTHORIZATION' || original.status !== 'APPROVED') {
        throw new DomainError('invalid_state', 'invalid_transaction_status', `transaction ${transactionId} is not an approved authorization`);
      }
      const open = original.amount - original.capturedAmount - original.reversedAmount;
      if (original.postedAt !== null || open <= 0) throw new DomainError('invalid_state', 'invalid_transaction_status', `transaction ${transactionId} has nothing left to reverse`);
      return this.giveBack(tx, original, open, 'REVERSAL', id, null);
    });
  }

  /**
   * Decides an authorization on a card locked by this unit and records it:
   * an approval moves the card's available balance (and, for SHARE cards,
   * the issuing balance) in the same unit, so racing authorizations queue on
   * the card's row and can never take it past its limit or balance.
   */
  private async authorizeLocked(tx: IssuingTx, card: Card, id: string, reference: string | null, merchantName: string, input: AuthorizationInput): Promise<IssuingTransaction> {
    const now = this.now;
    const product = productById(card.productId)!;
    const balance = product.modeType === 'SHARE' ? await this.lockedBalance(tx, card.merchantId, card.currency) : null;
    const decision = decide(card, input, balance?.available ?? null, now);
    const cardholder = (await tx.cardholder(card.merchantId, card.cardholderId))!;
    let next = card;
    if (decision.approved) {
      next = {
        ...card,
        consumed: card.consumed + input.amount,
        available: product.modeType === 'SHARE' && card.cardLimit === 0 ? 0 : card.available - input.amount,
        updatedAt: now,
      };
      if (card.controls.usageType === 'ONE_TIME' && card.controls.autoCancelTrigger === 'ON_AUTH') next = cards.changeStatus(next, 'CANCELLED', now);
      await tx.updateCard(next);
      if (balance) await tx.saveBalance({ ...balance, available: balance.available - input.amount, updatedAt: now }, false);
      await tx.post({ id: uuid(), merchantId: card.merchantId, sourceId: id, entries: journal(card.currency, input.amount, product.modeType === 'SHARE' ? 'issuing_balance' : 'issuing_card_funds', 'scheme_payable') }, now);
    }
    const shareLeft = balance ? balance.available - (decision.approved ? input.amount : 0) : null;
    const transaction: IssuingTransaction = {
      id,
      merchantId: card.merchantId,
      cardId: card.id,
      cardholderId: card.cardholderId,
      type: 'AUTHORIZATION',
      status: decision.approved ? 'APPROVED' : 'DECLINED',
      amount: input.amount,
      currency: input.currency,
      merchantName,
      merchantCategoryCode: input.merchantCategoryCode,
      failureReason: decision.approved ? null : decision.reason,
      authorizationCode: decision.approved ? authCodeOf(id) : null,
      networkReference: reference,
      originalTransactionId: null,
      cardAvailableBalance: this.view(next, cardholder, shareLeft).availableBalance,
      capturedAmount: 0,
      reversedAmount: 0,
      createdAt: now,
      postedAt: null,
    };
    await tx.insertTransaction(transaction);
    const view = this.view(next, cardholder, shareLeft);
    await tx.appendEvents([this.event('issuing.transaction.authorization', id, { card: view, transaction }, now)]);
    return transaction;
  }

  /** Money back to the card from an approved authorization: a reversal (void, simulation) or a refund. */
  private async giveBack(tx: IssuingTx, original: IssuingTransaction, amount: number, type: 'REVERSAL' | 'REFUND', id: string, reference: string | null): Promise<IssuingTransaction> {
    const now = this.now;
    const card = (await tx.card(original.merchantId, original.cardId, true))!;
    const product = productById(card.productId)!;
    const balance = product.modeType === 'SHARE' ? await this.lockedBalance(tx, card.merchantId, card.currency) : null;
    const limited = !(product.modeType === 'SHARE' && card.cardLimit === 0);
    const next: Card = { ...card, consumed: card.consumed - amount, available: limited ? card.available + amount : 0, updatedAt: now };
    await tx.updateCard(next);
    if (balance) await tx.saveBalance({ ...balance, available: balance.available + amount, updatedAt: now }, false);
    await tx.post({ id: uuid(), merchantId: card.merchantId, sourceId: id, entries: journal(card.currency, amount, 'scheme_payable', product.modeType === 'SHARE' ? 'issuing_balance' : 'issuing_card_funds') }, now);
    const updatedOriginal: IssuingTransaction = type === 'REVERSAL' ? { ...original, reversedAmount: original.reversedAmount + amount } : original;
    if (type === 'REVERSAL') await tx.updateTransaction(updatedOriginal);
    const cardholder = (await tx.cardholder(card.merchantId, card.cardholderId))!;
    const shareLeft = balance ? balance.available + amount : null;
    const view = this.view(next, cardholder, shareLeft);
    const transaction: IssuingTransaction = {
      ...original,
      id,
      type,
      status: 'APPROVED',
      amount,
      failureReason: null,
      networkReference: reference,
      originalTransactionId: original.id,
      cardAvailableBalance: view.availableBalance,
      capturedAmount: 0,
      reversedAmount: 0,
      createdAt: now,
      postedAt: now,
    };
    await tx.insertTransaction(transaction);
    await tx.appendEvents([this.event(type === 'REVERSAL' ? 'issuing.transaction.reversal' : 'issuing.transaction.refund', id, { card: view, transaction }, now)]);
    return transaction;
  }

  // --- the card network's issuer (CardIssuer) ---

  issues(cardNumber: string): boolean {
    return productOfNumber(cardNumber) !== undefined;
  }

  async authorize(req: AuthorizationRequest): Promise<AuthorizationResult> {
    const product = productOfNumber(req.card.number)!;
    const network = product.scheme.toLowerCase();
    if (!luhnValid(req.card.number)) return { outcome: 'declined', failureCode: 'incorrect_number', network };
    const merchantName = (await this.deps.store.reads.merchantName(req.merchantId)) ?? req.merchantId;
    const fingerprint = this.secrets.fingerprint(req.card.number);
    const transaction = await this.deps.store.unit(async (tx) => {
      // A retried authorization (after a crash) gets the first answer.
      const known = await tx.transactionByReference(req.reference, 'AUTHORIZATION');
      if (known) return known;
      const card = await tx.cardByFingerprint(fingerprint, true);
      if (!card) return null;
      const pan = req.card.number;
      const cvcMatches = req.card.cvc === undefined || req.card.cvc === '' ? null : req.card.cvc === this.secrets.cvv(pan, card.expiryMonth, card.expiryYear);
      const threeDS = req.threeDS !== undefined && (req.threeDS.status === 'Y' || req.threeDS.status === 'A');
      const authorized = await this.authorizeLocked(tx, card, uuid(), req.reference, merchantName, {
        amount: req.amount.amount,
        currency: req.amount.currency,
        merchantCategoryCode: NETWORK_MCC,
        cardEntered: { expiryMonth: req.card.expiryMonth, expiryYear: req.card.expiryYear, cvcMatches },
        threeDS,
      });
      // A sale is posted at once: no capture will follow.
      if (req.capture && authorized.status === 'APPROVED') return this.post(tx, authorized, authorized.amount);
      return authorized;
    });
    // A number on the platform's BIN that it never issued.
    if (!transaction) return { outcome: 'declined', failureCode: 'incorrect_number', network };
    return this.resultOf(transaction, network, req.card.cvc ? 'M' : 'P');
  }

  private resultOf(t: IssuingTransaction, network: string, cvcResult: 'M' | 'P'): AuthorizationResult {
    if (t.status !== 'APPROVED') {
      const reason = t.failureReason as DeclineReason;
      return { outcome: 'declined', failureCode: networkFailureCode(reason), network, ...(reason === 'INSUFFICIENT_BALANCE' || reason === 'EXCEEDS_CARD_LIMIT' ? { adviceCode: 'try_again_later' } : {}) };
    }
    const digits = BigInt('0x' + createHash('sha256').update(t.id).digest('hex')).toString().padStart(40, '0');
    return { outcome: 'approved', authCode: t.authorizationCode!, rrn: digits.slice(-12), arn: '7' + digits.slice(-34, -12), cvcResult, avsResult: 'Y', network, fundingType: 'prepaid' };
  }

  async capture(reference: string, amount: Money): Promise<boolean> {
    return this.deps.store.unit(async (tx) => {
      const auth = await tx.transactionByReference(reference, 'AUTHORIZATION');
      if (!auth) return false;
      if (auth.status !== 'APPROVED' || auth.postedAt !== null) return true; // declined: nothing to post; posted: a retried capture
      await this.post(tx, auth, amount.amount);
      return true;
    });
  }

  /** Posts (settles) an approved authorization for `amount`; what was authorized beyond it goes back to the card. */
  private async post(tx: IssuingTx, auth: IssuingTransaction, amount: number): Promise<IssuingTransaction> {
    const now = this.now;
    const card = (await tx.card(auth.merchantId, auth.cardId, true))!;
    const open = auth.amount - auth.reversedAmount;
    const captured = Math.min(amount, open);
    let posted: IssuingTransaction = { ...auth, capturedAmount: captured, postedAt: now };
    if (captured < open) {
      // A partial capture releases the rest of the authorization to the card.
      await this.giveBack(tx, auth, open - captured, 'REVERSAL', uuid(), null);
      posted = { ...posted, reversedAmount: auth.reversedAmount + open - captured };
    }
    await tx.updateTransaction(posted);
    let current = (await tx.card(auth.merchantId, auth.cardId, true))!;
    if (card.controls.usageType === 'ONE_TIME' && card.controls.autoCancelTrigger === 'ON_CAPTURE' && (current.status === 'ACTIVE' || current.status === 'FROZEN')) {
      current = cards.changeStatus(current, 'CANCELLED', now);
      await tx.updateCard(current);
    }
    const cardholder = (await tx.cardholder(auth.merchantId, current.cardholderId))!;
    const view = await this.eventView(tx, current, cardholder);
    await tx.appendEvents([this.event('issuing.transaction.settlement', auth.id, { card: view, transaction: posted }, now)]);
    return posted;
  }

  async void(reference: string): Promise<boolean> {
    return this.deps.store.unit(async (tx) => {
      const auth = await tx.transactionByReference(reference, 'AUTHORIZATION');
      if (!auth) return false;
      if (auth.status !== 'APPROVED' || (await tx.transactionByReference(reference, 'REVERSAL'))) return true;
      const open = auth.amount - auth.capturedAmount - auth.reversedAmount;
      if (open > 0) await this.giveBack(tx, auth, open, 'REVERSAL', uuid(), reference);
      return true;
    });
  }

  async refund(reference: string, refundId: string, amount: Money): Promise<boolean> {
    return this.deps.store.unit(async (tx) => {
      const auth = await tx.transactionByReference(reference, 'AUTHORIZATION');
      if (!auth) return false;
      if (auth.status !== 'APPROVED' || (await tx.transactionByReference(refundId, 'REFUND'))) return true;
      await this.giveBack(tx, auth, amount.amount, 'REFUND', uuid(), refundId);
      return true;
    });
  }

  async lookup(reference: string): Promise<AuthorizationResult | null> {
    const t = await this.deps.store.unit((tx) => tx.transactionByReference(reference, 'AUTHORIZATION'));
    if (!t) return null;
    const card = await this.deps.store.reads.card(t.merchantId, t.cardId);
    return this.resultOf(t, productById(card!.productId)!.scheme.toLowerCase(), 'P');
  }

  async threeDSEnrollment(details: CardDetails): Promise<ThreeDSEnrollment | null> {
    const fingerprint = this.secrets.fingerprint(details.number);
    const card = await this.deps.store.unit((tx) => tx.cardByFingerprint(fingerprint));
    if (!card) return null;
    const risk = card.controls.risk;
    if (risk.enable3ds) return 'always';
    return risk.allow3dsTransactions ? 'when_enforced' : 'never';
  }
}

/** A two-entry journal: `amount` from `from` to `to` (stored from the platform's side: a credit to an account is negative). */
function journal(currency: string, amount: number, from: IssuingEntry['account'], to: IssuingEntry['account']): IssuingEntry[] {
  return [
    { account: from, amount, currency },
    { account: to, amount: -amount, currency },
  ];
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const AUTH_CODE_ALPHABET = '0123456789';
function authCodeOf(id: string): string {
  const digest = createHmac('sha256', 'auth-code').update(id).digest();
  let code = '';
  for (let i = 0; i < 6; i++) code += AUTH_CODE_ALPHABET[digest[i]! % 10];
  return code;
}
