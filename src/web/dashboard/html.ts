/**
 * HTML built from tagged templates: every interpolated value is escaped
 * unless it is already-built HTML (an `Html` from this template or `raw`),
 * so nothing a merchant or shopper typed can add markup to a page.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A value in a template: arrays are joined, null, undefined and false leave nothing. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Already-built HTML, inserted as it is: never text that came from a request or the database. */
export const raw = (text: string): Html => new Html(text);

/**
 * Data for the page's script as `<script type="application/json">`: never
 * run, read with JSON.parse by assets/dashboard.js. `<` is written as \u003c
 * so no value can close the element.
 */
export const jsonData = (id: string, data: unknown): Html =>
  html`<script type="application/json" id="${id}">${raw(JSON.stringify(data).replace(/</g, '\\u003c'))}</script>`;
