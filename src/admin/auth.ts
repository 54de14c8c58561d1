/**
 * Who may use the balancer's own routes. One secret, ADMIN_TOKEN, sent as a bearer token
 * (RFC 6750 §2.1); the status page may instead carry a session cookie derived from it, which is
 * accepted on GET only, so a cross-site form can never make a browser mutate anything. Unset, the
 * admin API is closed. Every comparison hashes both sides and compares the digests in constant time.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { readBody } from "./body.ts";
import type { AppEnv } from "./app-env.ts";

/** What a request proved about itself. */
export type Access =
  /** ADMIN_TOKEN unset (or too short to be a secret): nobody can authenticate. */
  | { readonly kind: "closed"; readonly reason: string }
  /** No credential at all. */
  | { readonly kind: "anonymous" }
  /** A credential that does not match. */
  | { readonly kind: "refused" }
  /** The token itself, in `Authorization: Bearer`: may read and change. */
  | { readonly kind: "bearer"; readonly actor: string }
  /** The session cookie: may read. */
  | { readonly kind: "cookie" };

/** The session cookie set by `POST {prefix}/login`. */
export const SESSION_COOKIE = "lb_admin";

/** How long a login lasts. */
export const SESSION_MAX_AGE_S = 8 * 3600;

/** Shorter tokens are treated as unset: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

const encoder = new TextEncoder();

/** The configured token, or why the admin API is closed. */
export function adminSecret(raw: unknown): { readonly token: string } | { readonly closed: string } {
  if (typeof raw !== "string" || raw.trim() === "") {
    return { closed: "the admin API is closed: ADMIN_TOKEN is not set (wrangler secret put ADMIN_TOKEN)" };
  }
  if (raw.length < MIN_TOKEN_LENGTH) {
    return { closed: `the admin API is closed: ADMIN_TOKEN is shorter than ${MIN_TOKEN_LENGTH} characters` };
  }
  return { token: raw };
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/**
 * True when `given` equals `secret`, in time independent of where they differ: both are hashed
 * first, so the comparison sees two 32-byte digests whatever the lengths (no early exit on a
 * length mismatch either), and `timingSafeEqual` compares every byte.
 */
export async function sameSecret(given: string, secret: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(secret)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The first 8 hex digits of the token's SHA-256: tells tokens apart in the audit log without revealing one. */
export async function tokenFingerprint(token: string): Promise<string> {
  return hex(await sha256(token)).slice(0, 8);
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The bearer token of an Authorization header; undefined without one, null when malformed. */
function bearerOf(header: string | null): string | null | undefined {
  if (header === null) return undefined;
  // RFC 9110 §11.1: the scheme is case-insensitive.
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match === null ? null : match[1]!;
}

async function sign(token: string, expires: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(token), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(`${SESSION_COOKIE}:${expires}`)));
}

/**
 * A session cookie value: its expiry and an HMAC of it keyed by the token. It is not the token, so
 * a leaked cookie is worth one read-only session; changing ADMIN_TOKEN ends every session.
 */
export async function sessionValue(token: string, now: number): Promise<string> {
  const expires = Math.floor(now / 1000) + SESSION_MAX_AGE_S;
  return `${expires}.${await sign(token, expires)}`;
}

async function validSession(value: string, token: string, now: number): Promise<boolean> {
  const match = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(value);
  if (match === null) return false;
  const expires = Number(match[1]);
  const seconds = now / 1000;
  if (expires <= seconds || expires > seconds + SESSION_MAX_AGE_S + 60) return false;
  return sameSecret(match[2]!, await sign(token, expires));
}

/**
 * Identifies a request. The cookie counts only when `allowCookie` (GET and HEAD): browsers attach
 * it to cross-site requests too (SameSite=Strict narrows that, this makes it moot).
 */
export async function identify(
  request: Request,
  cookie: string | undefined,
  rawSecret: unknown,
  options: { readonly allowCookie: boolean; readonly now: number },
): Promise<Access> {
  const secret = adminSecret(rawSecret);
  if ("closed" in secret) return { kind: "closed", reason: secret.closed };
  const bearer = bearerOf(request.headers.get("authorization"));
  if (bearer === null) return { kind: "refused" };
  if (bearer !== undefined) {
    if (!(await sameSecret(bearer, secret.token))) return { kind: "refused" };
    return { kind: "bearer", actor: await actorOf(request, secret.token) };
  }
  if (options.allowCookie && cookie !== undefined) {
    return (await validSession(cookie, secret.token, options.now)) ? { kind: "cookie" } : { kind: "refused" };
  }
  return { kind: "anonymous" };
}

/** "token:1a2b3c4d ip:203.0.113.9": who made a change, for the audit log (never the token). */
async function actorOf(request: Request, token: string): Promise<string> {
  const ip = request.headers.get("cf-connecting-ip")?.trim() ?? "";
  const shown = /^[0-9A-Fa-f:.]{2,45}$/.test(ip) ? ip : "unknown";
  return `token:${await tokenFingerprint(token)} ip:${shown}`;
}

/** Who may use a route: the status (public when STATUS_PUBLIC), reads (token or cookie), changes (token only). */
export type AccessLevel = "status" | "read" | "write";

const REALM = 'Bearer realm="edge-affinity-lb"';

/**
 * Middleware: lets the request through at `level` or answers 403 (closed) / 401 (no or wrong
 * credential, with `WWW-Authenticate`, RFC 9110 §11.6.1). `html` answers with the login form
 * instead of JSON, for the status page. Sets the `actor` variable for the audit log.
 */
export function requireAccess(level: AccessLevel, html = false): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { settings, now } = c.env.status;
    if (level === "status" && settings.statusPublic) {
      c.set("actor", null);
      return next();
    }
    const method = c.req.method;
    const access = await identify(c.req.raw, getCookie(c, SESSION_COOKIE), c.env.env.ADMIN_TOKEN, {
      allowCookie: level !== "write" && (method === "GET" || method === "HEAD"),
      now: now(),
    });
    if (access.kind === "bearer" || access.kind === "cookie") {
      c.set("actor", access.kind === "bearer" ? access.actor : null);
      return next();
    }
    const prefix = settings.lbPrefix;
    if (html) c.header("content-security-policy", FORM_POLICY);
    if (access.kind === "closed")
      return html ? c.html(closedPage(access.reason), 403) : c.json({ error: access.reason }, 403);
    const refused = access.kind === "refused";
    c.header("www-authenticate", refused ? `${REALM}, error="invalid_token"` : REALM);
    if (html) return c.html(loginPage(prefix, refused ? "That token was refused." : null), 401);
    const error = refused
      ? "admin token refused"
      : level === "write"
        ? "changes need Authorization: Bearer <ADMIN_TOKEN> (a login cookie only allows reading)"
        : "admin token required: Authorization: Bearer <ADMIN_TOKEN>";
    return c.json({ error }, 401);
  };
}

/**
 * `POST {prefix}/login` (form field `token`): sets the session cookie and sends the browser to the
 * status page (303, RFC 9110 §15.4.4); `POST {prefix}/logout` clears it.
 */
export function registerLogin(app: Hono<AppEnv>): void {
  app.post("/login", async (c) => {
    const { settings, now } = c.env.status;
    c.header("content-security-policy", FORM_POLICY);
    const prefix = settings.lbPrefix;
    const secret = adminSecret(c.env.env.ADMIN_TOKEN);
    if ("closed" in secret) return c.html(closedPage(secret.closed), 403);
    const body = await readBody(c.req.raw, settings.adminMaxBodyBytes);
    if (!body.ok) return c.html(loginPage(prefix, `That form ${body.error}.`), body.status);
    let given: unknown = null;
    try {
      const type = c.req.header("content-type") ?? "";
      given = (await new Response(body.bytes, { headers: { "content-type": type } }).formData()).get("token");
    } catch {
      // Not a form: treated as a wrong token.
    }
    if (typeof given !== "string" || !(await sameSecret(given, secret.token))) {
      c.header("www-authenticate", `${REALM}, error="invalid_token"`);
      return c.html(loginPage(prefix, "That token was refused."), 401);
    }
    setCookie(c, SESSION_COOKIE, await sessionValue(secret.token, now()), {
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
      path: prefix,
      maxAge: SESSION_MAX_AGE_S,
    });
    return c.redirect(`${prefix}/`, 303);
  });
  app.post("/logout", (c) => {
    const prefix = c.env.status.settings.lbPrefix;
    deleteCookie(c, SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: "Strict", path: prefix });
    return c.redirect(`${prefix}/`, 303);
  });
}

// The login and "closed" pages: no script, no external asset, their own inline style, posted only to us.
const FORM_POLICY =
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

function closedPage(reason: string): string {
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
