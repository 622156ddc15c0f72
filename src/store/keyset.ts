/**
 * Keyset pages over (created_at, id), newest first: a page starts after the
 * last row of the one before, so it costs the same however deep it is and
 * rows written meanwhile never shift it.
 */
import { sql, type Expression, type SqlBool } from 'kysely';

export interface Cursor {
  createdAt: number;
  id: string;
}

export interface KeysetPage<T> {
  rows: T[];
  /** Where the next page starts, or null on the last. */
  next: Cursor | null;
}

export const encodeCursor = (c: Cursor): string => `${c.createdAt}.${c.id}`;

/** A cursor from its text (as a query string carries it), or undefined when the text is not one. */
export function decodeCursor(text: string | undefined): Cursor | undefined {
  const m = text ? /^(\d{1,16})\.([\w:.-]{1,200})$/.exec(text) : null;
  return m ? { createdAt: Number(m[1]), id: m[2]! } : undefined;
}

/** Rows strictly after `c` in (created_at desc, id desc) order, for columns named `created` and `id`. */
export function after(created: string, id: string, c: Cursor): Expression<SqlBool> {
  return sql<SqlBool>`(${sql.ref(created)} < ${c.createdAt} or (${sql.ref(created)} = ${c.createdAt} and ${sql.ref(id)} < ${c.id}))`;
}

/** The page of `limit` rows out of `rows` (fetched with limit + 1), and the cursor after it. */
export function pageOf<T>(rows: T[], limit: number, key: (row: T) => Cursor): KeysetPage<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > limit && last ? key(last) : null };
}
