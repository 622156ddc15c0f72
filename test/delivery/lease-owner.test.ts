import { describe, expect, it } from 'vitest';
import { leaseOwner } from '../../src/delivery/lease-owner.ts';

describe('lease holders', () => {
  const me = leaseOwner({ host: 'h1', pid: 100, started: 5, alive: (pid) => pid === 200 });

  it('a process on the same host that no longer runs, or an earlier start of the same pid, is dead', () => {
    expect(me.isDead(leaseOwner({ host: 'h1', pid: 300 }).name)).toBe(true);
    expect(me.isDead(leaseOwner({ host: 'h1', pid: 100, started: 4 }).name)).toBe(true);
  });

  it('a running process, this process, another host, or a name not written by a relay is not', () => {
    expect(me.isDead(leaseOwner({ host: 'h1', pid: 200 }).name)).toBe(false);
    expect(me.isDead(leaseOwner({ host: 'h1', pid: 100, started: 5 }).name)).toBe(false);
    expect(me.isDead(me.name)).toBe(false);
    expect(me.isDead(leaseOwner({ host: 'h2', pid: 300 }).name)).toBe(false);
    expect(me.isDead('h1/300')).toBe(false);
    expect(me.isDead('h1/0/1/x')).toBe(false);
  });
});
