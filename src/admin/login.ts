/**
 * `POST {prefix}/login` (form field `token`): sets the session cookie and sends the browser to the
 * status page (303, RFC 9110 §15.4.4). `POST {prefix}/logout` needs the session it ends (or the
 * bearer token): it revokes the session in the Durable Object, so the old cookie stops working
 * even where it was copied, and clears it.
 */
import type { Context, Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { ringStub, withTimeout } from "../worker/do-call.ts";
import type { AppEnv } from "./app-env.ts";
import { readBody } from "./body.ts";
import { closedPage, FORM_POLICY, loginPage } from "./login-page.ts";
import { sameSecret } from "./secret.ts";
import { adminSecret } from "./token-rules.ts";
import { SESSION_COOKIE, SESSION_MAX_AGE_S, sessionOf, sessionValue } from "./session.ts";
import { REALM, bearerOf } from "./auth.ts";

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
    setCookie(c, SESSION_COOKIE, await sessionValue(secret.token, now()), cookieOptions(prefix));
    return c.redirect(`${prefix}/`, 303);
  });

  app.post("/logout", async (c) => {
    const { settings, now } = c.env.status;
    const prefix = settings.lbPrefix;
    c.header("content-security-policy", FORM_POLICY);
    const secret = adminSecret(c.env.env.ADMIN_TOKEN);
    if ("closed" in secret) return c.html(closedPage(secret.closed), 403);
    // The cookie is accepted on this POST only: SameSite=Strict keeps other sites from sending it,
    // and the worst a forged logout could do is end a session.
    const session = await sessionOf(c.req.header("cookie") ?? null, secret.token, now());
    const bearer = bearerOf(c.req.header("authorization") ?? null);
    const byToken = typeof bearer === "string" && (await sameSecret(bearer, secret.token));
    if (session === null && !byToken) return refused(c, prefix);
    if (session !== null) {
      await withTimeout(ringStub(c.env.env).revokeSession(session.sid, session.expiresAt), settings.adminTimeoutMs);
    }
    deleteCookie(c, SESSION_COOKIE, cookieOptions(prefix));
    return c.redirect(`${prefix}/`, 303);
  });
}

function refused(c: Context<AppEnv>, prefix: string): Response {
  c.header("www-authenticate", REALM);
  return c.html(loginPage(prefix, "Not signed in."), 401);
}

function cookieOptions(prefix: string) {
  return { httpOnly: true, secure: true, sameSite: "Strict", path: prefix, maxAge: SESSION_MAX_AGE_S } as const;
}
