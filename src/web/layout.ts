/** The frame every hosted page shares: plain HTML, no scripts, readable on a phone. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface PageOptions {
  /** Brand colour of the page's header band and main button (a wallet's colour); defaults to polypay blue. */
  accent?: string;
  /** Small line above the title (who is asking: "Simulated Alipay"). */
  eyebrow?: string;
}

export function page(title: string, body: string, opts: PageOptions = {}): string {
  const accent = /^#[0-9a-fA-F]{3,8}$/.test(opts.accent ?? '') ? opts.accent! : '#2856d8';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · polypay</title>
<style>
  :root { --accent: ${accent}; }
  * { box-sizing: border-box; }
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 2rem 1rem; color: #1d2433; background: #f2f4f8; }
  main { max-width: 26rem; margin: 0 auto; background: #fff; border-radius: .9rem; box-shadow: 0 1px 3px rgba(16,24,40,.08), 0 8px 24px rgba(16,24,40,.06); overflow: hidden; }
  header { background: var(--accent); color: #fff; padding: 1rem 1.5rem; }
  header .eyebrow { font-size: .8rem; opacity: .85; text-transform: uppercase; letter-spacing: .06em; }
  h1 { font-size: 1.3rem; margin: .2rem 0 0; }
  section { padding: 1.25rem 1.5rem 1.5rem; }
  dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .5rem 1rem; margin: 1.1rem 0 0; font-size: .95rem; }
  dt { color: #5b6478; white-space: nowrap; }
  dd { margin: 0; font-weight: 600; text-align: right; overflow-wrap: break-word; }
  .total { text-align: center; margin: .25rem 0 0; }
  .total .big { font-size: 2rem; font-weight: 700; letter-spacing: -.01em; }
  .total .sub { color: #5b6478; margin-top: .15rem; }
  .qr { display: block; margin: 1.1rem auto .4rem; border: 1px solid #e4e7ee; border-radius: .6rem; padding: .4rem; background: #fff; }
  .qr.dim { opacity: .25; filter: grayscale(1); }
  .hint { text-align: center; font-size: .9rem; }
  .actions { display: flex; flex-wrap: wrap; gap: .6rem; margin-top: 1.4rem; }
  .actions form { flex: 1 1 10rem; min-width: 0; margin: 0; display: flex; }
  .actions button { flex: 1; } /* side by side, the buttons keep one height when a label wraps */
  form { display: inline-block; margin: 1.5rem .5rem 0 0; }
  button { font: inherit; font-size: 1rem; font-weight: 600; width: 100%; padding: .75rem 1rem; border-radius: .55rem; border: 0; background: var(--accent); color: #fff; cursor: pointer; }
  button.secondary { background: #e9ecf2; color: #1d2433; }
  .banner { margin-top: 1.1rem; padding: .75rem 1rem; border-radius: .55rem; font-weight: 600; text-align: center; }
  .banner.ok { background: #e6f6ec; color: #13653a; }
  .banner.bad { background: #fdecec; color: #9b1c1c; }
  .banner.info { background: #eef2fb; color: #27407e; }
  .muted { color: #5b6478; }
  a { color: var(--accent); }
  footer { text-align: center; font-size: .8rem; color: #8a93a6; margin-top: 1rem; }
</style>
</head>
<body>
<main>
<header>${opts.eyebrow ? `<div class="eyebrow">${escapeHtml(opts.eyebrow)}</div>` : ''}<h1>${escapeHtml(title)}</h1></header>
<section>
${body}
</section>
</main>
<footer>polypay sandbox · no real money moves</footer>
</body>
</html>`;
}
