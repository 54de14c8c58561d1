// Turns the CF-Connecting-IP header into the bytes that get hashed onto the
// ring. Runs on every request, so parsing scans char codes in place and
// allocates only the returned key (`clientKeyHash`: nothing at all).
import { hashRange } from "../hash.ts";
import { formatIpv4, formatIpv6, isIpv4Mapped, parseInto, scratch } from "./ip-address.ts";

/** Prefix lengths that define one client (defaults 32 and 64). */
export interface KeyOptions {
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
}

/** One client per IPv4 address and per IPv6 /64 (one site's usual subnet). */
export const DEFAULT_KEY_OPTIONS: KeyOptions = Object.freeze({
  ipv4Prefix: 32,
  ipv6Prefix: 64,
});

/** Why a request got the fallback key. */
export type FallbackReason = "missing" | "malformed";

/** The client key: the bytes that get hashed, plus what they came from. */
export type ClientKey =
  | {
      readonly kind: "ipv4";
      readonly bytes: Uint8Array;
      readonly prefix: number;
    }
  | {
      readonly kind: "ipv6";
      readonly bytes: Uint8Array;
      readonly prefix: number;
    }
  | {
      readonly kind: "fallback";
      readonly bytes: Uint8Array;
      readonly reason: FallbackReason;
    };

// The first key byte says what follows, so no address key can collide with
// another family's key or with a fallback key.
const TAG_FALLBACK = 0;
const TAG_IPV4 = 4;
const TAG_IPV6 = 6;

const TAB = 9;
const SPACE = 32;

function taggedAscii(text: string): Uint8Array {
  const bytes = new Uint8Array(1 + text.length);
  bytes[0] = TAG_FALLBACK;
  for (let i = 0; i < text.length; i++) bytes[1 + i] = text.charCodeAt(i);
  return bytes;
}

const FALLBACK_BYTES: Readonly<Record<FallbackReason, Uint8Array>> = {
  missing: taggedAscii("missing"),
  malformed: taggedAscii("malformed"),
};

// Options are validated by the config layer; this only keeps a bad value from
// producing a malformed key or an exception.
function effectivePrefix(value: unknown, max: number, fallback: number): number {
  if (typeof value !== "number" || value !== value) return fallback;
  if (value <= 0) return 0;
  if (value >= max) return max;
  return Math.floor(value);
}

function maskedKey(tag: number, source: Uint8Array, from: number, prefix: number): Uint8Array {
  const key = new Uint8Array(1 + ((prefix + 7) >> 3));
  maskInto(key, tag, source, from, prefix);
  return key;
}

/** Writes the tag and the first `prefix` bits of source[from…] into `key`; returns the key length. */
function maskInto(key: Uint8Array, tag: number, source: Uint8Array, from: number, prefix: number): number {
  const length = (prefix + 7) >> 3;
  key[0] = tag;
  for (let i = 0; i < length; i++) key[1 + i] = source[from + i]!;
  const spare = prefix & 7;
  if (spare !== 0) key[length] = key[length]! & (0xff << (8 - spare));
  return 1 + length;
}

function fallbackKey(reason: FallbackReason): ClientKey {
  // A copy, so a caller that writes into its key cannot change every later
  // fallback key.
  return { kind: "fallback", bytes: FALLBACK_BYTES[reason].slice(), reason };
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Derives the client key from the CF-Connecting-IP header value (null when absent). Never throws. */
export function clientKey(header: string | null | undefined, options?: KeyOptions): ClientKey {
  if (header === null || header === undefined) return fallbackKey("missing");
  if (typeof header !== "string") return fallbackKey("malformed");
  // RFC 9110 §5.5: a field value carries no leading or trailing whitespace, but
  // a value handed over by other code may still have it.
  let start = 0;
  let end = header.length;
  while (start < end && isBlank(header.charCodeAt(start))) start++;
  while (end > start && isBlank(header.charCodeAt(end - 1))) end--;

  const family = parseInto(header, start, end);
  if (family === 0) return fallbackKey("malformed");
  const opts = options ?? DEFAULT_KEY_OPTIONS;
  if (family === 4 || isIpv4Mapped(scratch)) {
    const prefix = effectivePrefix(opts.ipv4Prefix, 32, DEFAULT_KEY_OPTIONS.ipv4Prefix);
    return {
      kind: "ipv4",
      bytes: maskedKey(TAG_IPV4, scratch, family === 4 ? 0 : 12, prefix),
      prefix,
    };
  }
  const prefix = effectivePrefix(opts.ipv6Prefix, 128, DEFAULT_KEY_OPTIONS.ipv6Prefix);
  return {
    kind: "ipv6",
    bytes: maskedKey(TAG_IPV6, scratch, 0, prefix),
    prefix,
  };
}

/** What `clientKeyHash` returns: one object, overwritten by every call. */
export interface KeyHash {
  /** xxh32 of the key bytes: exactly xxh32(clientKey(header, options).bytes). */
  hash: number;
  kind: ClientKey["kind"];
}

const keyHashResult: KeyHash = { hash: 0, kind: "fallback" };
const keyBuffer = new Uint8Array(17);
const FALLBACK_HASHES: Readonly<Record<FallbackReason, number>> = {
  missing: hashRange(FALLBACK_BYTES.missing, FALLBACK_BYTES.missing.length, 0),
  malformed: hashRange(FALLBACK_BYTES.malformed, FALLBACK_BYTES.malformed.length, 0),
};

/**
 * The request path's form of `clientKey`: the key's hash and kind without allocating anything
 * (the key bytes go to a module buffer, hashed in place). The returned object is reused: read it
 * before the next call. Measured with `npm run ring-cost`: it saves the two allocations per
 * request that the key object and its bytes cost.
 */
export function clientKeyHash(header: string | null | undefined, options?: KeyOptions): KeyHash {
  const result = keyHashResult;
  if (header === null || header === undefined || typeof header !== "string") {
    result.kind = "fallback";
    result.hash = FALLBACK_HASHES[header === null || header === undefined ? "missing" : "malformed"];
    return result;
  }
  let start = 0;
  let end = header.length;
  while (start < end && isBlank(header.charCodeAt(start))) start++;
  while (end > start && isBlank(header.charCodeAt(end - 1))) end--;
  const family = parseInto(header, start, end);
  if (family === 0) {
    result.kind = "fallback";
    result.hash = FALLBACK_HASHES.malformed;
    return result;
  }
  const opts = options ?? DEFAULT_KEY_OPTIONS;
  let length: number;
  if (family === 4 || isIpv4Mapped(scratch)) {
    const prefix = effectivePrefix(opts.ipv4Prefix, 32, DEFAULT_KEY_OPTIONS.ipv4Prefix);
    length = maskInto(keyBuffer, TAG_IPV4, scratch, family === 4 ? 0 : 12, prefix);
    result.kind = "ipv4";
  } else {
    const prefix = effectivePrefix(opts.ipv6Prefix, 128, DEFAULT_KEY_OPTIONS.ipv6Prefix);
    length = maskInto(keyBuffer, TAG_IPV6, scratch, 0, prefix);
    result.kind = "ipv6";
  }
  result.hash = hashRange(keyBuffer, length, 0);
  return result;
}

/** A readable label for logs and status: "1.2.3.4/32", "2001:db8:1:2::/64", "fallback:missing". */
export function formatClientKey(key: ClientKey): string {
  if (key.kind === "fallback") return "fallback:" + key.reason;
  // The key holds only the prefix bytes after its tag; the rest of the address
  // is zero.
  const address = new Uint8Array(key.kind === "ipv4" ? 4 : 16);
  address.set(key.bytes.subarray(1, 1 + address.length));
  const text = key.kind === "ipv4" ? formatIpv4(address, 0) : formatIpv6(address);
  return text + "/" + key.prefix;
}
