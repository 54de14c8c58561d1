/**
 * The shared secret that proves to an origin a request came through the balancer
 * (ORIGIN_AUTH_SECRET, a Worker secret; ORIGIN_AUTH_HEADER names the field). Sent on every
 * proxied request and every health probe; a client's own field of that name is dropped first,
 * so it can never be forwarded or guessed through us. Rotation happens at the origin, which
 * accepts two values during a rollover (README "Origin authentication").
 */
import type { FieldError } from "../result.ts";
import { isUnset } from "./text-settings.ts";

/** How requests prove themselves to the origins; null: not configured. */
export interface OriginAuth {
  /** Lower-case field name. */
  readonly header: string;
  readonly secret: string;
}

export const DEFAULT_ORIGIN_AUTH_HEADER = "x-lb-origin-auth";

/** Shorter secrets are sent, but logged as weak: a guessable secret protects nothing. */
const MIN_ORIGIN_SECRET_LENGTH = 16;

// RFC 9110 §5.1 token.
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

// Fields the balancer sets or the runtime owns: naming one of them would clobber it.
const TAKEN = new Set([
  "host",
  "via",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "x-lb-successor",
  "cf-connecting-ip",
  "content-length",
  "transfer-encoding",
  "connection",
  "authorization",
  "cookie",
]);

/** What was parsed, and what is tolerated but worth a log line (a weak secret still routes). */
export interface OriginAuthParse {
  readonly value: OriginAuth | null;
  readonly errors: FieldError[];
  readonly warnings: FieldError[];
}

/**
 * Parses ORIGIN_AUTH_HEADER (an error when malformed: it is a plain variable, `npm run check`
 * catches it before deploy) and ORIGIN_AUTH_SECRET. A secret never turns into an error that would
 * stop routing: surrounding whitespace (the newline `echo … | wrangler secret put` adds) is
 * trimmed, a short one is sent and warned about, and one that cannot be a header value is not sent
 * and warned about.
 */
export function parseOriginAuth(vars: Readonly<Record<string, unknown>>): OriginAuthParse {
  const errors: FieldError[] = [];
  const warnings: FieldError[] = [];
  const rawHeader = vars.ORIGIN_AUTH_HEADER;
  const header = isUnset(rawHeader) ? DEFAULT_ORIGIN_AUTH_HEADER : rawHeader;
  if (typeof header !== "string" || !FIELD_NAME.test(header) || TAKEN.has(header.toLowerCase())) {
    errors.push({
      field: "ORIGIN_AUTH_HEADER",
      message: `must be a header field name the balancer does not set itself, like "${DEFAULT_ORIGIN_AUTH_HEADER}" (got ${JSON.stringify(header)})`,
    });
    return { value: null, errors, warnings };
  }
  const raw = vars.ORIGIN_AUTH_SECRET;
  if (raw === undefined || raw === null) return { value: null, errors, warnings };
  const secret = typeof raw === "string" ? raw.trim() : "";
  if (secret === "") {
    if (typeof raw !== "string" || raw !== "") {
      warnings.push({ field: "ORIGIN_AUTH_SECRET", message: "is set but empty: origins get no secret" });
    }
    return { value: null, errors, warnings };
  }
  if (!/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(secret)) {
    warnings.push({
      field: "ORIGIN_AUTH_SECRET",
      message: "is not printable ASCII, so no header can carry it: origins get no secret",
    });
    return { value: null, errors, warnings };
  }
  if (secret.length < MIN_ORIGIN_SECRET_LENGTH) {
    warnings.push({
      field: "ORIGIN_AUTH_SECRET",
      message: `is shorter than ${MIN_ORIGIN_SECRET_LENGTH} characters: sent, but guessable (use openssl rand -hex 32)`,
    });
  }
  return { value: { header: header.toLowerCase(), secret }, errors, warnings };
}
