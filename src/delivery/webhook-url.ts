/**
 * The rule a merchant's webhook URL must meet when it is set: an absolute
 * http(s) URL, and in live mode not to this host or a private network (the
 * address rule the relay applies when it connects, checked here for what the
 * URL itself names, so a bad URL is refused when it is typed, not after the
 * first webhook fails).
 */
import { isIP } from 'node:net';
import { blockedAddress } from './address-rule.ts';

export const WEBHOOK_URL_MAX_LENGTH = 512;

/** Why `text` may not be the merchant's webhook URL, or null when it may. */
export function webhookUrlRefusal(text: string, live: boolean): string | null {
  if (text.length > WEBHOOK_URL_MAX_LENGTH) return `the webhook URL must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'the webhook URL must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'the webhook URL must be an absolute http(s) URL';
  if (url.username || url.password) return 'the webhook URL must not carry a user name or password';
  if (!live) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const why = isIP(host) ? blockedAddress(host) : host === 'localhost' || host.endsWith('.localhost') ? 'loopback' : null;
  return why ? `in live mode webhooks may not go to a ${why} address` : null;
}
