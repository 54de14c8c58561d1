// Turns the CF-Connecting-IP header into the bytes that get hashed onto the
// ring. Runs on every request, so parsing scans char codes in place and
// allocates only the returned key (`clientKeyHash`: nothing at all).
import { hashRange } from "../hash.ts";

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

/** A parsed address: 4 bytes for IPv4, 16 for IPv6. */
export type ParsedIp =
  { readonly family: 4; readonly bytes: Uint8Array } | { readonly family: 6; readonly bytes: Uint8Array };

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

// The longest valid text is 45 characters (six 4-digit groups plus a
// 15-character dotted quad), so anything past this is rejected before it is
// scanned.
const MAX_TEXT_LENGTH = 64;

const TAB = 9;
const SPACE = 32;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;

// Every parse writes its bytes here first. Sharing one buffer is safe because
// parsing is synchronous and never re-entered, and it keeps the hot path to one
// allocation per key.
const scratch = new Uint8Array(16);

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

/**
 * Strict dotted decimal: four parts of 1-3 digits, each 0-255, no leading zeros
 * (RFC 6943 §3.1.1: inet_aton reads `010` as octal, so a leading zero makes the
 * text ambiguous).
 */
function parseDottedQuad(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - DIGIT_0);
      if (value > 255) return false;
      digits++;
    } else if (c === DOT) {
      if (digits === 0 || part === 3) return false;
      out[at + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[at + 3] = value;
  return true;
}

function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * RFC 4291 §2.2: eight groups of 1-4 hex digits, at most one `::` standing for
 * one or more zero groups, and optionally a dotted quad in place of the last
 * two groups.
 */
function parseIpv6(text: string, start: number, end: number, out: Uint8Array): boolean {
  let i = start;
  let filled = 0;
  let gap = -1;
  if (text.charCodeAt(i) === COLON) {
    if (i + 1 === end || text.charCodeAt(i + 1) !== COLON) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  }
  for (;;) {
    const groupStart = i;
    let value = 0;
    let digits = 0;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      if (++digits > 4) return false;
      value = value * 16 + h;
      i++;
    }
    if (digits === 0) return false;
    if (i < end && text.charCodeAt(i) === DOT) {
      // The dotted quad fills the last 32 bits, so it must also end the text.
      if (filled > 12) return false;
      if (!parseDottedQuad(text, groupStart, end, out, filled)) return false;
      filled += 4;
      break;
    }
    if (filled === 16) return false;
    out[filled++] = value >> 8;
    out[filled++] = value & 0xff;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i === end) return false;
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = filled;
      i++;
      if (i === end) break;
    }
  }
  if (gap < 0) return filled === 16;
  // `::` must stand for at least one group.
  if (filled === 16) return false;
  // Move the groups after `::` to the end and zero the gap, by hand: copyWithin and fill are
  // builtin calls that cost more than these at most 16 byte moves (measured: ~2× the whole parse).
  const tail = filled - gap;
  for (let k = tail - 1; k >= 0; k--) out[16 - tail + k] = out[gap + k]!;
  for (let k = gap; k < 16 - tail; k++) out[k] = 0;
  return true;
}

/** Parses text[start, end) into `scratch`; returns the family, 0 if none. */
function parseInto(text: string, start: number, end: number): 0 | 4 | 6 {
  if (end <= start || end - start > MAX_TEXT_LENGTH) return 0;
  if (parseDottedQuad(text, start, end, scratch, 0)) return 4;
  if (parseIpv6(text, start, end, scratch)) return 6;
  return 0;
}

/** Parses an IPv4 or IPv6 address in any valid textual form; null if it is not one. */
export function parseIp(text: string): ParsedIp | null {
  if (typeof text !== "string") return null;
  const family = parseInto(text, 0, text.length);
  if (family === 4) return { family: 4, bytes: scratch.slice(0, 4) };
  if (family === 6) return { family: 6, bytes: scratch.slice(0, 16) };
  return null;
}

/** RFC 4291 §2.5.5.2: `::ffff:a.b.c.d` is IPv4 host a.b.c.d seen over IPv6. */
function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

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

function formatIpv4(bytes: Uint8Array, from: number): string {
  const octets: number[] = [];
  for (let i = from; i < from + 4; i++) octets.push(bytes[i] ?? 0);
  return octets.join(".");
}

/** RFC 5952 §4 canonical text; §5 mixed notation for IPv4-mapped addresses. */
function formatIpv6(bytes: Uint8Array): string {
  if (isIpv4Mapped(bytes)) return "::ffff:" + formatIpv4(bytes, 12);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    const group = ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
    groups.push(group.toString(16));
  }

  // §4.2.2-4.2.3: compress the longest run of two or more zero groups, the
  // first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(":");
  return groups.slice(0, bestStart).join(":") + "::" + groups.slice(bestStart + bestLength).join(":");
}

/** Formats an address as dotted decimal or RFC 5952 canonical IPv6 text. */
export function formatIp(parsed: ParsedIp): string {
  return parsed.family === 4 ? formatIpv4(parsed.bytes, 0) : formatIpv6(parsed.bytes);
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
