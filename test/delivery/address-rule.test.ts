import { describe, expect, it } from 'vitest';
import { blockedAddress } from '../../src/delivery/address-rule.ts';
import { webhookPoster } from '../../src/delivery/webhook-post.ts';

describe('live mode webhook address rule', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.10', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['example.com', 'not an IP address'],
  ])('refuses %s (%s)', (address, why) => {
    expect(blockedAddress(address)).toBe(why);
  });

  it.each(['8.8.8.8', '172.15.255.255', '172.32.0.1', '192.169.0.1', '11.0.0.1', '169.255.0.1', '1.1.1.1', '2606:4700::1111', 'fec0::1', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(blockedAddress(address)).toBeNull();
    },
  );

  it('in live mode refuses localhost and address literals before connecting', async () => {
    const post = webhookPoster({ live: true });
    const req = { headers: {}, body: '{}', timeoutMs: 2_000 };
    await expect(post({ ...req, url: 'http://localhost:9/hooks' })).rejects.toMatchObject({ code: 'EADDRBLOCKED' });
    await expect(post({ ...req, url: 'http://[::1]:9/hooks' })).rejects.toThrow('address not allowed in live mode: ::1 (loopback)');
    await expect(post({ ...req, url: 'http://169.254.169.254/latest/meta-data' })).rejects.toThrow('(link-local)');
  });

  it('checks every address a host name resolves to when connecting', async () => {
    const answers: Record<string, string[]> = { 'intranet.example': ['10.1.2.3'], 'mixed.example': ['93.184.215.14', '192.168.0.7'], 'rebound.example': ['::ffff:127.0.0.1'] };
    const post = webhookPoster({
      live: true,
      resolve: (hostname, _options, callback) => callback(null, (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))),
    });
    const req = { headers: {}, body: '{}', timeoutMs: 2_000 };
    await expect(post({ ...req, url: 'http://intranet.example/hooks' })).rejects.toThrow('address not allowed in live mode: 10.1.2.3 (private)');
    await expect(post({ ...req, url: 'https://mixed.example/hooks' })).rejects.toThrow('address not allowed in live mode: 192.168.0.7 (private)');
    await expect(post({ ...req, url: 'http://rebound.example:8080/hooks' })).rejects.toThrow('(loopback)');
  });

  it('refuses what is not an http(s) URL, in any mode', async () => {
    const post = webhookPoster({ live: false });
    const req = { headers: {}, body: '{}', timeoutMs: 2_000 };
    await expect(post({ ...req, url: 'ftp://example.com/' })).rejects.toMatchObject({ code: 'EINVALIDURL' });
  });
});
