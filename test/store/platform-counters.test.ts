/** Processes sharing a database take node numbers in turn, so their ids cannot collide. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IdGenerator } from '../../src/core/ids.ts';
import { takeIdNode } from '../../src/store/platform-counters.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createPgDatabase, describeEachBackend } from '../support/platform.ts';

describeEachBackend('id generator node numbers', (backend) => {
  const stores: Store[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    if (backend === 'postgres') {
      const db = await createPgDatabase();
      cleanups.push(db.drop);
      // Two processes' connection pools on one database.
      stores.push(await openStore({ databaseUrl: db.url, dataDir: os.tmpdir() }), await openStore({ databaseUrl: db.url, dataDir: os.tmpdir() }));
    } else {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'polypay-ids-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      stores.push(await openStore({ dataDir: dir }));
    }
  });

  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const c of cleanups.reverse()) await c();
  });

  it('hands out each number once, in turn, and wraps after 1023', async () => {
    const taken = await Promise.all(Array.from({ length: 8 }, (_, i) => takeIdNode(stores[i % stores.length]!)));
    expect([...taken].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await stores[0]!.unit((tx) => tx.updateTable('platform_counters').set({ value: 1023 }).where('name', '=', 'id_nodes_taken').execute());
    expect(await takeIdNode(stores[0]!)).toBe(1023);
    expect(await takeIdNode(stores[0]!)).toBe(0);
  });

  it('generators with the numbers they took make different ids in the same millisecond', async () => {
    const now = () => 1_800_000_000_000;
    const a = new IdGenerator(await takeIdNode(stores[0]!), now);
    const b = new IdGenerator(await takeIdNode(stores[stores.length - 1]!), now);
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) ids.add(a.next('PI')).add(b.next('PI'));
    expect(ids.size).toBe(200);
  });
});
