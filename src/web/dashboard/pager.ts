/** Newest / Older links of a keyset-paginated list, keeping its filters. */
import { encodeCursor, type Cursor } from '../../store/keyset.ts';
import { html, type Html } from './html.ts';

export function pager(path: string, filters: Record<string, string | undefined>, current: string | undefined, next: Cursor | null, anchor = ''): Html {
  const kept = Object.fromEntries(Object.entries(filters).filter((e): e is [string, string] => Boolean(e[1])));
  const href = (extra: Record<string, string>) => {
    const query = new URLSearchParams({ ...kept, ...extra }).toString();
    return `${path}${query ? `?${query}` : ''}${anchor}`;
  };
  return html`<div class="actions">${current ? html`<a class="button secondary small" href="${href({})}">Newest</a>` : ''}${next ? html`<a class="button secondary small" href="${href({ after: encodeCursor(next) })}" rel="next">Older</a>` : ''}</div>`;
}
