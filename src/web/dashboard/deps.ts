/** What the dashboard's pages are given by the composition root. */
import type { AdjustableClock } from '../../core/clock.ts';
import type { DashboardUsers } from '../../core/dashboard/users.ts';
import type { IssuingService } from '../../core/issuing/service.ts';
import type { MerchantService } from '../../core/merchants/merchants.ts';
import type { PaymentConsoleReads } from '../../core/payments/console.ts';
import type { PaymentsService } from '../../core/payments/service.ts';
import type { DeliveryRelay } from '../../delivery/relay.ts';
import type { IdempotencyKeys } from '../../http/idempotency.ts';
import type { PaymentStats } from '../../core/payments/stats.ts';
import type { Store } from '../../store/store.ts';

export interface DashboardDeps {
  store: Store;
  merchants: MerchantService;
  payments: PaymentsService;
  issuing: IssuingService;
  relay: DeliveryRelay;
  /** The platform clock (the sandbox's can be advanced): what payments' times are on. */
  clock: AdjustableClock;
  /** Sandbox mode: the sandbox page is served and linked. */
  sandbox: boolean;
  users: DashboardUsers;
  /** Volume and success rates for the overview. */
  stats: PaymentStats;
  /** The payments list and a payment's timeline. */
  paymentConsole: PaymentConsoleReads;
  /** Makes a console action done once however often its form is sent (the form's one-time key). */
  idempotency: IdempotencyKeys;
  /** The base URL browsers reach polypay at, when configured: an https one makes session cookies Secure. */
  publicBaseUrl: string | undefined;
}
