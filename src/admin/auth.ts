/**
 * Who may use the balancer's own routes. One secret, ADMIN_TOKEN (secret.ts), sent as a bearer
 * token (RFC 6750 §2.1); the status page may instead carry a session cookie (session.ts), which is
 * accepted on GET only, so a cross-site form can never make a browser mutate anything. Unset, the
 * admin API is closed.
 */
import type { MiddlewareHandler } from "hono";
import { ringStub, withTimeout } from "../worker/do-call.ts";
import type { AppEnv } from "./app-env.ts";
import { closedPage, FORM_POLICY, loginPage } from "./login-page.ts";
import { sameSecret, tokenFingerprint } from "./secret.ts";
import { adminSecret } from "./token-rules.ts";
import { sessionCookies, sessionOf } from "./session.ts";

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

/** The bearer token of an Authorization header; undefined without one, null when malformed. */
export function bearerOf(header: string | null): string | null | undefined {
  if (header === null) return undefined;
  // RFC 9110 §11.1: the scheme is case-insensitive.
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match === null ? null : match[1]!;
}

/**
 * Identifies a request. The cookie counts only when `allowCookie` (GET and HEAD): browsers attach
 * it to cross-site requests too (SameSite=Strict narrows that, this makes it moot).
 */
export async function identify(
  request: Request,
  rawSecret: unknown,
  options: {
    readonly allowCookie: boolean;
    readonly now: number;
    /** Whether a session was logged out (asked of the Durable Object, only for a valid cookie). */
    readonly revoked: (sid: string) => Promise<boolean>;
  },
): Promise<Access> {
  const secret = adminSecret(rawSecret);
  if ("closed" in secret) return { kind: "closed", reason: secret.closed };
  const bearer = bearerOf(request.headers.get("authorization"));
  if (bearer === null) return { kind: "refused" };
  if (bearer !== undefined) {
    if (!(await sameSecret(bearer, secret.token))) return { kind: "refused" };
    return { kind: "bearer", actor: await actorOf(request, secret.token) };
  }
  const cookies = request.headers.get("cookie");
  if (options.allowCookie && sessionCookies(cookies).length > 0) {
    const session = await sessionOf(cookies, secret.token, options.now);
    if (session === null || (await options.revoked(session.sid))) return { kind: "refused" };
    return { kind: "cookie" };
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

export const REALM = 'Bearer realm="edge-affinity-lb"';

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
    const access = await identify(c.req.raw, c.env.env.ADMIN_TOKEN, {
      allowCookie: level !== "write" && (method === "GET" || method === "HEAD"),
      now: now(),
      revoked: (sid) => withTimeout(ringStub(c.env.env).sessionRevoked(sid), settings.adminTimeoutMs),
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
