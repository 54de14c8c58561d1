/**
 * The client key as it was computed before the fast path (issue 13), frozen here as the oracle
 * for test/core/key/fast-path.test.ts: the old parser (a trial dotted quad, then the IPv6 groups),
 * the old masking and the old general xxHash32 loop. Every placement depends on the key's hash
 * bit for bit, so the fast path must give exactly these bytes and hashes. Not for use in src/.
 */
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;
const PRIME32_1 = 0x9e3779b1;
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME32_4 = 0x27d4eb2f;
const PRIME32_5 = 0x165667b1;

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

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function readU32LE(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, PRIME32_2)) | 0, 13), PRIME32_1);
}

/** xxHash32 of bytes[0, length): for callers that hash a reused buffer. */
function hashRange(b: Uint8Array, length: number, seed: number): number {
  seed |= 0;
  let i = 0;
  let acc: number;
  if (length >= 16) {
    let v1 = (seed + PRIME32_1 + PRIME32_2) | 0;
    let v2 = (seed + PRIME32_2) | 0;
    let v3 = seed;
    let v4 = (seed - PRIME32_1) | 0;
    const limit = length - 16;
    while (i <= limit) {
      v1 = round(v1, readU32LE(b, i));
      v2 = round(v2, readU32LE(b, i + 4));
      v3 = round(v3, readU32LE(b, i + 8));
      v4 = round(v4, readU32LE(b, i + 12));
      i += 16;
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    acc = (seed + PRIME32_5) | 0;
  }
  // The spec adds the input length modulo 2^32.
  acc = (acc + length) | 0;
  while (i + 4 <= length) {
    acc = Math.imul(rotl((acc + Math.imul(readU32LE(b, i), PRIME32_3)) | 0, 17), PRIME32_4);
    i += 4;
  }
  while (i < length) {
    acc = Math.imul(rotl((acc + Math.imul(b[i]!, PRIME32_5)) | 0, 11), PRIME32_1);
    i++;
  }
  acc ^= acc >>> 15;
  acc = Math.imul(acc, PRIME32_2);
  acc ^= acc >>> 13;
  acc = Math.imul(acc, PRIME32_3);
  acc ^= acc >>> 16;
  return acc >>> 0;
}

/** The old clientKey's bytes for a header and prefixes (prefixes already valid integers). */
export function referenceKeyBytes(header: string | null | undefined, ipv4Prefix = 32, ipv6Prefix = 64): number[] {
  if (header === null || header === undefined) return [0, ...Array.from("missing", (c) => c.charCodeAt(0))];
  const text = header.replace(/^[ \t]+|[ \t]+$/g, "");
  const bytes = new Uint8Array(16);
  let family = 0;
  if (text.length > 0 && text.length <= 64) {
    if (parseDottedQuad(text, 0, text.length, bytes, 0)) family = 4;
    else if (parseIpv6(text, 0, text.length, bytes)) family = 6;
  }
  if (family === 0) return [0, ...Array.from("malformed", (c) => c.charCodeAt(0))];
  const mapped =
    family === 6 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  const v4 = family === 4 || mapped;
  const prefix = v4 ? ipv4Prefix : ipv6Prefix;
  const from = family === 4 ? 0 : v4 ? 12 : 0;
  const length = (prefix + 7) >> 3;
  const key = [v4 ? 4 : 6, ...bytes.subarray(from, from + length)];
  if ((prefix & 7) !== 0) key[length] = key[length]! & (0xff << (8 - (prefix & 7)));
  return key;
}

/** The old general xxHash32 of bytes with seed 0. */
export function referenceHash(bytes: readonly number[]): number {
  return hashRange(Uint8Array.from(bytes), bytes.length, 0);
}
