// IPv4 and IPv6 addresses from text to bytes and back: strict parsers that scan char codes in
// place (they run on every request), and RFC 5952 canonical formatting. Written by hand rather
// than taken from ipaddr.js for the hot path's sake; test/core/key/client-key.test.ts checks them
// against ipaddr.js and the RFCs' examples.

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
