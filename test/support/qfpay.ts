/**
 * QFPay suites' harness: the merchant's notification endpoint and a
 * platform with one QFPay merchant whose notifications go there.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { IssuedCredentials } from '../../src/core/merchants/merchants.ts';
import { QfpayClient } from '../clients/qfpay-client.mts';
import { startPlatform, type Backend, type TestPlatform } from './platform.ts';
import { RecordingEndpoint, type ReceivedRequest } from './receiver.ts';

/** Upper-case hex MD5, as X-QF-SIGN carries it. */
export const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex').toUpperCase();

export type ReceivedNotification = ReceivedRequest;

/**
 * A merchant's QFPay notification endpoint on 127.0.0.1: records what
 * arrives and answers as told (QFPay wants HTTP 200 with the body SUCCESS).
 */
export class NotifyReceiver extends RecordingEndpoint {
  /** Answers to give, in order; [200, 'SUCCESS'] once they run out. */
  answers: Array<[number, string]> = [];

  constructor() {
    super('/qfpay/notify', 'notifications', (n) => `${n.body?.notify_type}:${n.body?.syssn}`);
  }

  protected override nextAnswer(): [number, string] {
    return this.answers.shift() ?? [200, 'SUCCESS'];
  }

  of(syssn: string): ReceivedNotification[] {
    return this.received.filter((n) => n.body?.syssn === syssn);
  }
}

export interface QfpayShop {
  tp: TestPlatform;
  /** Where the merchant's notifications go. */
  hooks: NotifyReceiver;
  creds: IssuedCredentials;
  /** The merchant's QFPay client. */
  qf: QfpayClient;
}

/**
 * Inside a describe: before its tests, a platform on `backend` and a merchant
 * named `name` whose notifications go to a NotifyReceiver; both closed after.
 * The fields are set once the suite's beforeAll has run.
 */
export function useQfpayShop(backend: Backend, name: string): QfpayShop {
  const shop = {} as QfpayShop;
  beforeAll(async () => {
    shop.tp = await startPlatform(backend);
    shop.hooks = await new NotifyReceiver().start();
    shop.creds = await shop.tp.platform.merchants.create({ name, webhookUrl: shop.hooks.url });
    shop.qf = new QfpayClient(shop.tp.baseUrl, shop.creds.qfpay);
  });
  afterAll(async () => {
    await shop.tp?.close();
    await shop.hooks?.close();
  });
  return shop;
}
