/**
 * The name a relay writes into the delivery leases it holds, and the rule by
 * which a process tells that a lease's holder is dead: a process on the same
 * host (same host name, boot and process namespace) that no longer runs, or
 * an earlier start of this very process id (a container restarted as pid 1:
 * told apart by the process's start time). Relays within one process never
 * count each other dead.
 * A holder on another host cannot be checked: its leases run out by
 * themselves, a few seconds after it stopped renewing them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

export interface LeaseOwner {
  /** Written into lease_owner: `<host>/<pid>/<process start, ms>/<nonce>`. */
  readonly name: string;
  /** Whether the process that wrote `owner` is known to be gone (false when it cannot be told). */
  isDead(owner: string): boolean;
}

function quietly(read: () => string): string {
  try {
    return read().trim();
  } catch {
    return '';
  }
}

/** Host name, boot and process namespace: processes with the same key can see each other's pids. */
export function hostKey(): string {
  const boot = quietly(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')).slice(0, 8);
  const pidNs = quietly(() => readlinkSync('/proc/self/ns/pid')).replace(/\D/g, '');
  // '/' separates the parts of an owner name.
  return [os.hostname(), boot, pidNs].join(':').replaceAll('/', '_');
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // it runs, as another user
  }
}

export function leaseOwner(
  opts: { host?: string; pid?: number; started?: number; alive?: (pid: number) => boolean } = {},
): LeaseOwner {
  const host = opts.host ?? hostKey();
  const pid = opts.pid ?? process.pid;
  const started = String(opts.started ?? Math.round(performance.timeOrigin));
  const alive = opts.alive ?? processRuns;
  const name = `${host}/${pid}/${started}/${randomBytes(6).toString('hex')}`;
  return {
    name,
    isDead(owner) {
      const [ownerHost, ownerPid, ownerStarted, nonce, extra] = owner.split('/');
      if (ownerHost !== host || nonce === undefined || extra !== undefined || !/^[1-9]\d{0,9}$/.test(ownerPid!)) return false;
      const n = Number(ownerPid);
      if (n === pid) return ownerStarted !== started;
      return !alive(n);
    },
  };
}
