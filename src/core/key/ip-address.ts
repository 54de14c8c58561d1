// IPv4 and IPv6 addresses from text to bytes and back: strict parsers that scan char codes in
// place (they run on every request), and RFC 5952 canonical formatting. Written by hand rather
// than taken from ipaddr.js for the hot path's sake; test/core/key/client-key.test.ts checks them
// against ipaddr.js and the RFCs' examples, test/core/key/fast-path.test.ts against the parser
// they replaced (issue 13), whose bytes every client's placement depends on.

/** A parsed address: 4 bytes for IPv4, 16 for IPv6. */
export type ParsedIp =
  { readonly family: 4; readonly bytes: Uint8Array } | { readonly family: 6; readonly bytes: Uint8Array };

// The longest valid text is 45 characters (six 4-digit groups plus a
// 15-character dotted quad), so anything past this is rejected before it is
// scanned.
const MAX_TEXT_LENGTH = 64;

const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;

// Every parse writes its bytes here first. Sharing one buffer is safe because
// parsing is synchronous and never re-entered, and it keeps the hot path to one
// allocation per key.
export const scratch = new Uint8Array(16);

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

// Hex digit values by char code, -1 for anything else: one load per character instead of three
// range tests.
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let d = 0; d < 10; d++) HEX_VALUE[DIGIT_0 + d] = d;
for (let d = 0; d < 6; d++) HEX_VALUE[97 + d] = HEX_VALUE[65 + d] = 10 + d;

// The groups read so far, written out as bytes once the `::` is known.
const groups = new Int32Array(8);

/**
 * RFC 4291 §2.2: eight groups of 1-4 hex digits, at most one `::` standing for
 * one or more zero groups, and optionally a dotted quad in place of the last
 * two groups. A zone id's `%` is rejected like any other character (RFC 6874:
 * it names an interface, not an address).
 *
 * Shaped for V8 (measured in Node over ring-cost's IPv6 clients: 85 → 65 ns an address): the
 * loop reads each character once and holds only hex digits and colons; anything else leaves it,
 * so the rare dotted quad is parsed after the loop (with that call inside the loop, every address
 * took 20 ns more); the digit count is checked at each group's end, not per digit.
 */
function parseIpv6(text: string, start: number, end: number, out: Uint8Array): boolean {
  let i = start;
  let n = 0;
  let gap = -1;
  if (text.charCodeAt(i) === COLON) {
    if (i + 1 === end || text.charCodeAt(i + 1) !== COLON) return false;
    gap = 0;
    i += 2;
  }
  let groupStart = i;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    const h = c < 128 ? HEX_VALUE[c]! : -1;
    if (h >= 0) {
      value = (value << 4) | h;
      digits++;
      continue;
    }
    if (c !== COLON) break;
    // A group precedes every colon but the leading `::`'s, and the text cannot end in one colon.
    if (digits === 0 || digits > 4 || n === 8 || i + 1 === end) return false;
    groups[n++] = value;
    value = 0;
    digits = 0;
    if (text.charCodeAt(i + 1) === COLON) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    }
    groupStart = i + 1;
  }
  if (i < end) {
    // The dotted quad fills the last 32 bits, so it must also end the text.
    if (text.charCodeAt(i) !== DOT || digits === 0 || n > 6) return false;
    if (!parseDottedQuad(text, groupStart, end, out, 0)) return false;
    groups[n++] = (out[0]! << 8) | out[1]!;
    groups[n++] = (out[2]! << 8) | out[3]!;
  } else if (digits > 0) {
    if (digits > 4 || n === 8) return false;
    groups[n++] = value;
  }
  // Without `::` all eight groups are written; with it, it stands for at least one.
  if (gap < 0 ? n !== 8 : n === 8) return false;
  // The groups before `::`, its zeros, the groups after it, written by hand: copyWithin and fill
  // are builtin calls that cost more than these at most 16 byte stores (measured: ~2× the parse).
  const head = gap < 0 ? n : gap;
  const tail = n - head;
  for (let k = 0; k < head; k++) {
    out[2 * k] = groups[k]! >> 8;
    out[2 * k + 1] = groups[k]! & 0xff;
  }
  for (let k = 2 * head; k < 16 - 2 * tail; k++) out[k] = 0;
  for (let k = 0; k < tail; k++) {
    const at = 16 - 2 * (tail - k);
    out[at] = groups[head + k]! >> 8;
    out[at + 1] = groups[head + k]! & 0xff;
  }
  return true;
}

/** Parses text[start, end) into `scratch`; returns the family, 0 if none. */
export function parseInto(text: string, start: number, end: number): 0 | 4 | 6 {
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
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Dotted decimal of bytes[from, from + 4). */
export function formatIpv4(bytes: Uint8Array, from: number): string {
  const octets: number[] = [];
  for (let i = from; i < from + 4; i++) octets.push(bytes[i] ?? 0);
  return octets.join(".");
}

/** RFC 5952 §4 canonical text; §5 mixed notation for IPv4-mapped addresses. */
export function formatIpv6(bytes: Uint8Array): string {
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
