/**
 * What one isolate (or one location's aggregator) tells the ring's Durable Object about the client
 * traffic it served since its last report: per origin, requests and errors; and its heaviest client
 * keys with their space-saving counts (core/status/traffic-stats.ts). Counts are deltas over the
 * reporter's interval, so the receiver can add them into its window without knowing the reporter.
 *
 * A report crosses a trust boundary (any isolate may send anything, and a bug or a version skew
 * must not grow the object's memory), so `validateTrafficReport` bounds every size and number and
 * names the field it refuses. The bounds are exported: the README's scale table cites them.
 */
import type { FieldError, Result } from "../result.ts";

/** Version of the report shape; a receiver refuses others instead of guessing. */
export const TRAFFIC_REPORT_VERSION = 1;
/** Origins per report: config/origins.ts's MAX_ORIGINS (1,000), restated so reports never depend on config parsing. */
export const MAX_REPORT_ORIGINS = 1_000;
/** Hot keys per report: an isolate's space-saving list is 20; a location's merged list may hold more. */
export const MAX_REPORT_KEYS = 64;
/** Characters of a key's text: "fallback:malformed", an IPv6 /64, or an affinity value of up to 256 characters with its source. */
export const MAX_KEY_TEXT = 300;
/** Characters of an origin id (config/origins.ts allows 64) and of the source name. */
export const MAX_ID_TEXT = 64;
/** Requests per entry: 10^12 is far beyond any interval (1M req/s for 11 days), yet exact in a double. */
export const MAX_REPORT_COUNT = 1e12;
/** Longest interval a report may cover: older counts would only blur the window. */
export const MAX_REPORT_SPAN_MS = 600_000;

/** Requests and errors (status ≥ 500) one origin answered for the reporter. */
export interface OriginCount {
  readonly id: string;
  readonly requests: number;
  readonly errors: number;
}

/** One hot client key: its space-saving count, which is at most `overestimate` above the truth. */
export interface KeyCount {
  /** The key as text, as formatClientKey writes it ("203.0.113.7/32", "2001:db8:1:2::/64"). */
  readonly key: string;
  /** xxh32 of the key bytes: where it lands on the ring. */
  readonly hash: number;
  readonly count: number;
  readonly overestimate: number;
  /**
   * Distinct users seen behind the key, as a 32-bit linear-counting bitmap (user-bits.ts): one bit
   * per hash of a user trait. Bitmaps merge by OR, so the estimate survives any roll-up. Optional:
   * 0 or absent when not counted.
   */
  readonly userBits?: number;
}

/** A reporter's counts over [to − spanMs, to). */
export interface TrafficReport {
  readonly version: typeof TRAFFIC_REPORT_VERSION;
  /** Who counted (an isolate's random id or a location's colo): for logs only, never a map key. */
  readonly source: string;
  /** How long the counts cover (ms); the receiver uses its own clock for when they arrived. */
  readonly spanMs: number;
  /** Requests with a client key over the span: the denominator of the keys' shares. */
  readonly requests: number;
  readonly origins: readonly OriginCount[];
  readonly keys: readonly KeyCount[];
}

const ID_PATTERN = /^[\x21-\x7e]+$/;

const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= MAX_REPORT_COUNT;

const isUint32 = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffff_ffff;

const isText = (value: unknown, max: number): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= max && ID_PATTERN.test(value);

/**
 * Checks an untrusted report: the value, or errors naming the first bad fields. Refuses the whole
 * report rather than part of it, since a reporter that sends one bad entry cannot be trusted for the
 * rest; duplicate origin ids or keys are refused too (they would count twice).
 */
export function validateTrafficReport(value: unknown): Result<TrafficReport> {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string): Result<TrafficReport> => {
    errors.push({ field, message });
    return { ok: false, errors };
  };
  if (typeof value !== "object" || value === null) return fail("report", "must be an object");
  const raw = value as Record<string, unknown>;
  if (raw.version !== TRAFFIC_REPORT_VERSION) return fail("version", `must be ${TRAFFIC_REPORT_VERSION}`);
  if (!isText(raw.source, MAX_ID_TEXT)) return fail("source", `must be 1–${MAX_ID_TEXT} printable characters`);
  if (!isCount(raw.spanMs) || raw.spanMs === 0 || raw.spanMs > MAX_REPORT_SPAN_MS) {
    return fail("spanMs", `must be a number of milliseconds from 1 to ${MAX_REPORT_SPAN_MS}`);
  }
  if (!isCount(raw.requests)) return fail("requests", `must be a count from 0 to ${MAX_REPORT_COUNT}`);
  const { origins, keys } = raw;
  if (!Array.isArray(origins) || origins.length > MAX_REPORT_ORIGINS) {
    return fail("origins", `must be an array of at most ${MAX_REPORT_ORIGINS} entries`);
  }
  if (!Array.isArray(keys) || keys.length > MAX_REPORT_KEYS) {
    return fail("keys", `must be an array of at most ${MAX_REPORT_KEYS} entries`);
  }
  const outOrigins: OriginCount[] = [];
  const seenIds = new Set<string>();
  for (let i = 0; i < origins.length; i++) {
    const entry = origins[i] as Record<string, unknown> | null;
    const field = `origins[${i}]`;
    if (typeof entry !== "object" || entry === null) return fail(field, "must be an object");
    const { id, requests, errors: failed } = entry;
    if (!isText(id, MAX_ID_TEXT)) return fail(`${field}.id`, `must be 1–${MAX_ID_TEXT} printable characters`);
    if (seenIds.has(id)) return fail(`${field}.id`, `repeats ${JSON.stringify(id)}`);
    if (!isCount(requests)) return fail(`${field}.requests`, `must be a count from 0 to ${MAX_REPORT_COUNT}`);
    if (!isCount(failed) || failed > requests) return fail(`${field}.errors`, "must be a count of at most requests");
    seenIds.add(id);
    outOrigins.push({ id, requests, errors: failed });
  }
  const outKeys: KeyCount[] = [];
  const seenKeys = new Set<string>();
  for (let i = 0; i < keys.length; i++) {
    const entry = keys[i] as Record<string, unknown> | null;
    const field = `keys[${i}]`;
    if (typeof entry !== "object" || entry === null) return fail(field, "must be an object");
    const { key, hash, count, overestimate, userBits } = entry;
    if (!isText(key, MAX_KEY_TEXT)) return fail(`${field}.key`, `must be 1–${MAX_KEY_TEXT} printable characters`);
    if (seenKeys.has(key)) return fail(`${field}.key`, `repeats ${JSON.stringify(key)}`);
    if (!isUint32(hash)) {
      return fail(`${field}.hash`, "must be an unsigned 32-bit integer");
    }
    if (!isCount(count)) return fail(`${field}.count`, `must be a count from 0 to ${MAX_REPORT_COUNT}`);
    if (!isCount(overestimate) || overestimate > count) {
      return fail(`${field}.overestimate`, "must be a count of at most count");
    }
    if (userBits !== undefined && !isUint32(userBits)) {
      return fail(`${field}.userBits`, "must be an unsigned 32-bit integer");
    }
    seenKeys.add(key);
    outKeys.push({ key, hash, count, overestimate, userBits: (userBits as number | undefined) ?? 0 });
  }
  return {
    ok: true,
    value: {
      version: TRAFFIC_REPORT_VERSION,
      source: raw.source,
      spanMs: raw.spanMs,
      requests: raw.requests,
      origins: outOrigins,
      keys: outKeys,
    },
  };
}
