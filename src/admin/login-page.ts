/** The login and "closed" pages: no script, no external asset, their own inline style, posted only to us. */
/** The content security policy of those pages. */
export const FORM_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const PAGE_STYLE =
  "body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}" +
  "input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.5rem 0}" +
  "button{font:inherit;padding:.4rem 1rem}.error{color:#b00020}";

/** The login form: one field, no script, no external asset. */
export function loginPage(prefix: string, message: string | null): string {
  return page(
    "Sign in",
    `<h1>edge-affinity-lb</h1>
<p>This status page needs the admin token (ADMIN_TOKEN).</p>
${message === null ? "" : `<p class="error" role="alert">${escapeHtml(message)}</p>`}
<form method="post" action="${escapeHtml(prefix)}/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function closedPage(reason: string): string {
  return page("Closed", `<h1>edge-affinity-lb</h1>\n<p>${escapeHtml(reason)}.</p>`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · edge-affinity-lb</title><style>${PAGE_STYLE}</style></head>
<body>${body}</body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
