/**
 * Status-page sessions: `POST {prefix}/login` sets a cookie `expires.sid.hmac`, where `sid` is 128
 * random bits and the HMAC (keyed by ADMIN_TOKEN) covers both. It is not the token, so a leaked
 * cookie is worth one read-only session; changing ADMIN_TOKEN ends every session, and
 * `POST {prefix}/logout` ends one (its sid is stored as revoked in the Durable Object until the
 * cookie would have expired).
 */
import { hex, sameSecret } from "./secret.ts";

/** The session cookie set by `POST {prefix}/login`. */
export const SESSION_COOKIE = "lb_admin";

/** How long a login lasts. */
export const SESSION_MAX_AGE_S = 8 * 3600;

/** Most cookies of that name looked at in one request (a browser sends one per matching path). */
const MAX_SESSION_COOKIES = 4;

const encoder = new TextEncoder();

/** A session a cookie proved. */
export interface Session {
  readonly sid: string;
  /** When the cookie expires, in ms since the epoch. */
  readonly expiresAt: number;
}

async function sign(token: string, expires: number, sid: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(token), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(`${SESSION_COOKIE}:${expires}:${sid}`)));
}

/** A new session cookie value. */
export async function sessionValue(token: string, now: number): Promise<string> {
  const expires = Math.floor(now / 1000) + SESSION_MAX_AGE_S;
  const sid = hex(crypto.getRandomValues(new Uint8Array(16)).buffer);
  return `${expires}.${sid}.${await sign(token, expires, sid)}`;
}

/** The session a cookie value proves (signature and expiry; not revocation), or null. */
async function verifySession(value: string, token: string, now: number): Promise<Session | null> {
  const match = /^(\d{1,12})\.([0-9a-f]{32})\.([0-9a-f]{64})$/.exec(value);
  if (match === null) return null;
  const expires = Number(match[1]);
  const seconds = now / 1000;
  if (expires <= seconds || expires > seconds + SESSION_MAX_AGE_S + 60) return null;
  if (!(await sameSecret(match[3]!, await sign(token, expires, match[2]!)))) return null;
  return { sid: match[2]!, expiresAt: expires * 1000 };
}

/**
 * Every value of the session cookie in a `Cookie` header, in order (at most four). A browser sends
 * one per cookie of that name whose path matches, so a cookie planted by an origin's
 * `Set-Cookie: lb_admin=bad; Path=/__lb` sits beside the real one: every one is tried.
 */
export function sessionCookies(header: string | null): string[] {
  if (header === null) return [];
  const values: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    values.push(part.slice(eq + 1).trim());
    if (values.length === MAX_SESSION_COOKIES) break;
  }
  return values;
}

/** The first valid session among the request's cookies, or null. */
export async function sessionOf(header: string | null, token: string, now: number): Promise<Session | null> {
  for (const value of sessionCookies(header)) {
    const session = await verifySession(value, token, now);
    if (session !== null) return session;
  }
  return null;
}
