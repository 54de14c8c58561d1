/**
 * Where the affinity key comes from (issue 7, "Other affinity keys"): the client address (the
 * default), a request header, a cookie, or the URL path (cache affinity, like HAProxy's
 * `balance uri`). Every source falls back to the client address when its key is absent, so a
 * request always has a key. Pure, allocation-light: runs on every request.
 */
import type { FieldError, Result } from "../result.ts";
import { xxh32String } from "../hash.ts";

/** AFFINITY_KEY parsed. */
export type AffinitySource =
  | { readonly kind: "ip" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string }
  /** depth 0: the whole path; n: its first n segments (HAProxy `balance uri depth n`). */
  | { readonly kind: "path"; readonly depth: number };

export const IP_SOURCE: AffinitySource = Object.freeze({ kind: "ip" });

/** Longest key value hashed; longer values fall back to the address (a key is an id, not a payload). */
export const MAX_KEY_LENGTH = 256;

// RFC 9110 §5.1 field name (token) and RFC 6265 §4.1.1 cookie name (token).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

// Distinct seeds keep the sources' hash spaces apart from each other (the address key is hashed
// with seed 0 over tagged bytes, see client-key.ts).
const SEEDS = { header: 0x4b_48_44_52, cookie: 0x4b_43_4f_4b, path: 0x4b_50_54_48 } as const;

/** Parses AFFINITY_KEY: "ip", "header:NAME", "cookie:NAME", "path" or "path:DEPTH" (1–16). */
export function parseAffinitySource(raw: unknown, field = "AFFINITY_KEY"): Result<AffinitySource> {
  const fail = (message: string): { ok: false; errors: FieldError[] } => ({ ok: false, errors: [{ field, message }] });
  if (raw === undefined || raw === null || raw === "" || raw === "ip") return { ok: true, value: IP_SOURCE };
  if (typeof raw !== "string") return fail('must be "ip", "header:NAME", "cookie:NAME", "path" or "path:DEPTH"');
  const colon = raw.indexOf(":");
  const kind = colon < 0 ? raw : raw.slice(0, colon);
  const argument = colon < 0 ? null : raw.slice(colon + 1);
  if (kind === "header" || kind === "cookie") {
    if (argument === null || !TOKEN.test(argument)) return fail(`"${kind}:" must be followed by a ${kind} name`);
    if (kind === "header" && argument.toLowerCase() === "cf-connecting-ip") {
      return fail('use "ip" for the client address (it is parsed and masked to its prefix)');
    }
    return { ok: true, value: { kind, name: kind === "header" ? argument.toLowerCase() : argument } };
  }
  if (kind === "path") {
    if (argument === null) return { ok: true, value: { kind: "path", depth: 0 } };
    const depth = /^\d{1,2}$/.test(argument) ? Number(argument) : NaN;
    if (!(depth >= 1 && depth <= 16)) return fail('"path:" must be followed by a depth from 1 to 16');
    return { ok: true, value: { kind: "path", depth } };
  }
  return fail(`must be "ip", "header:NAME", "cookie:NAME", "path" or "path:DEPTH" (got ${JSON.stringify(raw)})`);
}

/**
 * The key hash from the configured source, or null when the source has no key in this request
 * (the caller then uses the client address). `pathname` is the URL's path, already parsed.
 */
export function sourceKeyHash(source: AffinitySource, headers: Headers, pathname: string): number | null {
  switch (source.kind) {
    case "ip":
      return null;
    case "header": {
      const value = headers.get(source.name);
      if (value === null) return null;
      const trimmed = value.trim();
      return trimmed === "" || trimmed.length > MAX_KEY_LENGTH ? null : xxh32String(trimmed, SEEDS.header);
    }
    case "cookie": {
      const value = cookieValue(headers.get("cookie"), source.name);
      return value === null || value === "" || value.length > MAX_KEY_LENGTH ? null : xxh32String(value, SEEDS.cookie);
    }
    case "path": {
      const key = source.depth === 0 ? pathname : firstSegments(pathname, source.depth);
      return key.length > MAX_KEY_LENGTH ? null : xxh32String(key, SEEDS.path);
    }
  }
}

/**
 * The value of cookie `name` in a Cookie header (RFC 6265 §5.4 cookie-string: `name=value` pairs
 * separated by ";" and optional spaces; a DQUOTE-wrapped value is unwrapped, §4.1.1). The first
 * occurrence wins, as browsers send the most specific cookie first.
 */
export function cookieValue(header: string | null, name: string): string | null {
  if (header === null) return null;
  let at = 0;
  while (at < header.length) {
    let end = header.indexOf(";", at);
    if (end < 0) end = header.length;
    const equals = header.indexOf("=", at);
    if (equals > at && equals < end && header.slice(at, equals).trim() === name) {
      let value = header.slice(equals + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    at = end + 1;
  }
  return null;
}

/** "/a/b/c" with depth 2 → "/a/b"; fewer segments → the whole path. */
function firstSegments(pathname: string, depth: number): string {
  let at = 0;
  for (let segment = 0; segment < depth; segment++) {
    const next = pathname.indexOf("/", at + 1);
    if (next < 0) return pathname;
    at = next;
  }
  return pathname.slice(0, at);
}
