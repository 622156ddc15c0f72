/**
 * Live mode's rule for where webhooks may go: never to an address on this
 * host or a private network (a merchant's URL must not reach into the
 * platform's own network). Every address a host name resolves to is checked
 * when the connection is made (delivery/webhook-post.ts), so a name that
 * changes its answer between check and use gains nothing.
 */
import { BlockList, isIP } from 'node:net';

const RANGES: Array<[name: string, subnet: string, prefix: number, family: 'ipv4' | 'ipv6']> = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
];

const lists = RANGES.map(([name, subnet, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(subnet, prefix, family);
  return { name, list, family };
});

/** An IPv4 address written as IPv6 (::ffff:a.b.c.d or ::ffff:hhhh:hhhh), as IPv4; otherwise unchanged. */
function unmapped(address: string): string {
  const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return address;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/**
 * Why a webhook may not go to `address` in live mode ("loopback", "private",
 * "link-local", "unspecified"), or null when it may. Anything that is not an
 * IP address is refused as "not an IP address".
 */
export function blockedAddress(address: string): string | null {
  const ip = unmapped(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { name, list, family: f } of lists) if (f === type && list.check(ip, type)) return name;
  return null;
}
