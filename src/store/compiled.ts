/**
 * Queries compiled once, run many times.
 *
 * Kysely builds an operation tree and compiles it to SQL on every call: for
 * the wide rows of the payment path that is 5-20 us per statement, about as
 * much as SQLite takes to run it. Here a query is built once per dialect with
 * a marker in place of each value; its SQL text is kept, and later calls only
 * put their values in the marked places. Same SQL as the builder makes, none
 * of the builder's work.
 */
import { CompiledQuery, type Compilable } from 'kysely';
import type { Database } from './schema.ts';
import type { Db } from './store.ts';

type Row = Record<string, unknown>;
type Table = keyof Database & string;

/** A parameter of the compiled SQL: a value taken from one of the sources at run time, or a constant. */
type Slot = { source: number; name: string } | { value: unknown };

interface Template {
  sql: string;
  slots: Slot[];
}

const MARK = '\u0000polypay:';

/** param(source, name) for a build function: the marker that becomes a slot. */
const marker = (source: number, name: string): string => `${MARK}${source}:${name}`;

function compileTemplate(query: Compilable<unknown>): Template {
  const compiled = query.compile();
  return {
    sql: compiled.sql,
    slots: compiled.parameters.map((p): Slot => {
      if (typeof p !== 'string' || !p.startsWith(MARK)) return { value: p };
      const rest = p.slice(MARK.length);
      const colon = rest.indexOf(':');
      return { source: Number(rest.slice(0, colon)), name: rest.slice(colon + 1) };
    }),
  };
}

function values(t: Template, sources: Row[]): unknown[] {
  const params = new Array<unknown>(t.slots.length);
  for (let i = 0; i < t.slots.length; i++) {
    const slot = t.slots[i]!;
    params[i] = 'name' in slot ? sources[slot.source]![slot.name] : slot.value;
  }
  return params;
}

/**
 * Runs SQL on the driver's own statements, for a Db whose store offers it
 * (the SQLite writer inside a unit: statements there are synchronous calls).
 * Kysely's executor adds a few us per statement, about as much as SQLite
 * takes for a small update.
 */
export interface DirectRunner {
  rows(sql: string, params: unknown[]): unknown[] | Promise<unknown[]>;
  changes(sql: string, params: unknown[]): number | Promise<number>;
  /**
   * Sends a write whose answer the caller does not wait for (a PostgreSQL
   * unit: it leaves with the unit's next statement, see postgres-store.ts).
   * The unit checks every such write before it commits and fails with the
   * first one's error; `check`: the write must change exactly one row, else
   * the unit fails with `check.error()`.
   */
  send?(sql: string, params: unknown[], check?: { changes: 1; error: () => Error }): void;
}

const direct = new WeakMap<Db, DirectRunner>();

/** From now on compiled queries on `db` run through `runner`; `like`: a Db of the same dialect, whose templates `db` shares. */
export function runDirectly(db: Db, runner: DirectRunner, like?: Db): void {
  direct.set(db, runner);
  if (like) ofDb.set(db, templatesOf(like));
}

async function rowsOf<R>(db: Db, t: Template, sources: Row[]): Promise<R[]> {
  const runner = direct.get(db);
  if (runner) return runner.rows(t.sql, values(t, sources)) as R[] | Promise<R[]>;
  return (await db.executeQuery<R>(CompiledQuery.raw(t.sql, values(t, sources)))).rows;
}

async function changesOf(db: Db, t: Template, sources: Row[]): Promise<number> {
  const runner = direct.get(db);
  if (runner) return runner.changes(t.sql, values(t, sources));
  return Number((await db.executeQuery(CompiledQuery.raw(t.sql, values(t, sources)))).numAffectedRows ?? 0n);
}

/**
 * A write whose result the caller does not need: sent without waiting where
 * the Db's runner can (the unit checks it before committing), else run now.
 */
async function sendOrRun(db: Db, t: Template, sources: Row[]): Promise<number | null> {
  const runner = direct.get(db);
  if (!runner?.send) return changesOf(db, t, sources);
  runner.send(t.sql, values(t, sources));
  return null;
}

/** The templates of one dialect (the SQL text a Db compiles to differs by dialect only). */
class Templates {
  readonly named = new Map<string, Template>();
  /** Per operation and table, the column lists seen so far with their templates. */
  readonly shapes = new Map<string, Map<string, Array<{ cols: string[]; t: Template }>>>();

  shape(op: string, table: string, cols: string[] | null, row: Row | null, build: (cols: string[]) => Template): Template {
    let byTable = this.shapes.get(op);
    if (!byTable) this.shapes.set(op, (byTable = new Map()));
    let list = byTable.get(table);
    if (!list) byTable.set(table, (list = []));
    for (const s of list) if (cols ? sameList(cols, s.cols) : sameColumns(row!, s.cols)) return s.t;
    const c = cols ?? columnsOf(row!);
    const t = build(c);
    // Updates set only the columns they change, so a table sees a few dozen shapes.
    if (list.length >= 32) list.shift();
    list.push({ cols: c, t });
    return t;
  }
}

const byDialect = new Map<string, Templates>();
const ofDb = new WeakMap<Db, Templates>();

/** A probe query tells the dialects apart, once per Db instance. */
function templatesOf(db: Db): Templates {
  let t = ofDb.get(db);
  if (!t) {
    const probe = db.selectFrom('merchants').select('id').where('id', '=', '').compile().sql;
    t = byDialect.get(probe);
    if (!t) byDialect.set(probe, (t = new Templates()));
    ofDb.set(db, t);
  }
  return t;
}

/** The columns a row sets: Kysely leaves out undefined values (the column takes its default), and so does this. */
function columnsOf(row: Row): string[] {
  const cols: string[] = [];
  for (const k in row) if (row[k] !== undefined) cols.push(k);
  return cols;
}

function sameColumns(row: Row, cols: string[]): boolean {
  let i = 0;
  for (const k in row) {
    if (row[k] === undefined) continue;
    if (cols[i] !== k) return false;
    i++;
  }
  return i === cols.length;
}

function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A named query with named values, compiled on first use: `build` gets a
 * `param(name)` to put where each value goes, and must build the same query
 * every time (only the values are taken at run time).
 */
export function prepared<R>(name: string, build: (db: Db, param: (name: string) => any) => Compilable<R>) {
  const template = (db: Db): Template => {
    const all = templatesOf(db);
    let t = all.named.get(name);
    if (!t) all.named.set(name, (t = compileTemplate(build(db, (n) => marker(0, n)))));
    return t;
  };
  return {
    execute: (db: Db, row: Row): Promise<R[]> => rowsOf<R>(db, template(db), [row]),
    run: (db: Db, row: Row): Promise<number> => changesOf(db, template(db), [row]),
    /** A write whose result the caller may do without: the rows changed, or null when it was sent without waiting (see sendOrRun). */
    send: (db: Db, row: Row): Promise<number | null> => sendOrRun(db, template(db), [row]),
  };
}

/**
 * insert into table (the columns row sets) values (...). Inserts (and
 * insertRows') are sent without waiting where the Db can (see sendOrRun): a
 * failed one fails the unit.
 */
export async function insertRow(db: Db, table: Table, value: object): Promise<void> {
  const row = value as Row;
  const t = templatesOf(db).shape('insert', table, null, row, (cols) =>
    compileTemplate(db.insertInto(table).values(Object.fromEntries(cols.map((c) => [c, marker(0, c)])) as any)),
  );
  await sendOrRun(db, t, [row]);
}

/** A multi-row insert; rows that do not all set the same columns go through the builder. */
export async function insertRows(db: Db, table: Table, list: object[]): Promise<void> {
  const rows = list as Row[];
  if (rows.length === 0) return;
  if (rows.length === 1) return insertRow(db, table, rows[0]!);
  const cols = columnsOf(rows[0]!);
  if (rows.some((r) => !sameColumns(r, cols))) {
    await db.insertInto(table).values(rows as any).execute();
    return;
  }
  const t = templatesOf(db).shape(`insert x${rows.length}`, table, cols, null, () =>
    compileTemplate(db.insertInto(table).values(rows.map((_, i) => Object.fromEntries(cols.map((c) => [c, marker(i, c)]))) as any)),
  );
  await sendOrRun(db, t, rows);
}

function updateTemplate(db: Db, table: Table, set: Row, where: Row): Template {
  const keys = Object.keys(where);
  // One shape key for both column lists: the set columns, then a separator, then the where columns.
  const cols = [...columnsOf(set), '\u0000', ...keys];
  return templatesOf(db).shape('update', table, cols, null, () => {
    const split = cols.indexOf('\u0000');
    let q = db.updateTable(table).set(Object.fromEntries(cols.slice(0, split).map((c) => [c, marker(0, c)])) as any);
    for (const k of cols.slice(split + 1)) q = q.where(k as any, '=', marker(1, k));
    return compileTemplate(q);
  });
}

/** update table set (the columns `changes` sets) where (columns of where) = (...); returns the rows changed. */
export async function updateRow(db: Db, table: Table, changes: object, where: Row): Promise<number> {
  return changesOf(db, updateTemplate(db, table, changes as Row, where), [changes as Row, where]);
}

/** updateRow whose count nobody reads: sent without waiting where the Db can (see sendOrRun). */
export async function sendUpdate(db: Db, table: Table, changes: object, where: Row): Promise<void> {
  await sendOrRun(db, updateTemplate(db, table, changes as Row, where), [changes as Row, where]);
}

/**
 * updateRow that must change exactly one row, else fails with `error()`: at
 * once, or, where the Db sends writes without waiting, by failing its unit
 * before it commits (nothing of the unit is committed either way).
 */
export async function updateOneRow(db: Db, table: Table, changes: object, where: Row, error: () => Error): Promise<void> {
  const t = updateTemplate(db, table, changes as Row, where);
  const sources = [changes as Row, where];
  const runner = direct.get(db);
  if (runner?.send) return runner.send(t.sql, values(t, sources), { changes: 1, error });
  if ((await changesOf(db, t, sources)) !== 1) throw error();
}

/** select * from table where (columns of where) = (...) [for update]: the first row, or undefined. */
export async function selectRow<T>(db: Db, table: Table, where: Row, forUpdate = false): Promise<T | undefined> {
  const t = templatesOf(db).shape(forUpdate ? 'select for update' : 'select', table, Object.keys(where), null, (keys) => {
    let q = db.selectFrom(table).selectAll();
    for (const k of keys) q = q.where(k as any, '=', marker(0, k));
    return compileTemplate(forUpdate ? q.forUpdate() : q);
  });
  return (await rowsOf<T>(db, t, [where]))[0];
}
