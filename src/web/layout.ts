/** The frame every hosted page shares: plain HTML, no scripts, readable on a phone. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · polypay</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #1d2433; }
  h1 { font-size: 1.4rem; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .4rem 1rem; }
  dt { color: #5b6478; }
  dd { margin: 0; font-weight: 600; }
  form { display: inline-block; margin: 1.5rem .5rem 0 0; }
  button { font-size: 1rem; padding: .6rem 1.2rem; border-radius: .4rem; border: 0; background: #2856d8; color: #fff; cursor: pointer; }
  button.secondary { background: #e4e7ee; color: #1d2433; }
  .muted { color: #5b6478; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`;
}
