/**
 * When a failed attempt may be retried on the ring successor (DESIGN.md: "Retries are safe").
 * A retry must never duplicate a side effect: only requests that certainly did not reach the
 * origin, or whose method is idempotent (RFC 9110 §9.2.2), go to the next origin.
 */

/** What one attempt ended with. */
export type AttemptOutcome =
  /** The origin answered; `status` is its status code. */
  | { readonly kind: "response"; readonly status: number }
  /** fetch() rejected: the request may or may not have reached the origin. */
  | { readonly kind: "network-error" }
  /** The per-try timeout fired before the response headers arrived. */
  | { readonly kind: "timeout" };

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/**
 * Statuses that Cloudflare's edge generates when it could not open a connection to the origin,
 * so the request never reached it: 521 connection refused, 522 TCP connect timed out, 523
 * origin unreachable, 525 TLS handshake failed, 526 invalid origin certificate.
 * (520 and 524 happen after the request was sent, so they are not here.)
 */
const NOT_SENT_STATUSES = new Set([521, 522, 523, 525, 526]);

/** Statuses that mean "this origin failed" and are worth another origin for a safe request. */
const RETRY_STATUSES = new Set([502, 503, 504, 520, 524]);

/** True for the RFC 9110 §9.2.2 idempotent methods; method names are case-sensitive (§9.1). */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** True when the outcome proves the request never reached the origin's application. */
export function wasNotSent(outcome: AttemptOutcome): boolean {
  return outcome.kind === "response" && NOT_SENT_STATUSES.has(outcome.status);
}

/** True when the attempt failed (as opposed to an answer to pass back to the client). */
export function isFailure(outcome: AttemptOutcome): boolean {
  return outcome.kind !== "response" || RETRY_STATUSES.has(outcome.status) || NOT_SENT_STATUSES.has(outcome.status);
}

/**
 * Whether to try the next origin. `replayable` is false when the body was streamed (it cannot be
 * sent twice). A rejected fetch is treated as "may have been sent": workerd reports a refused
 * connection and a reset after the request was written with the same error, so only idempotent
 * methods are retried on it.
 */
export function shouldRetry(method: string, outcome: AttemptOutcome, replayable: boolean): boolean {
  if (!replayable || !isFailure(outcome)) return false;
  return wasNotSent(outcome) || isIdempotent(method);
}
