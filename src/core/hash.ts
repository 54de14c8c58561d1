// XXH32 (Yann Collet), https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md
//
// Why this hash: it needs only 32-bit multiplies, so it runs fast in JS through Math.imul with no
// BigInt; it has excellent avalanche and distribution (passes SMHasher); it has a published spec
// and test vectors to check against. Ring positions and client placement depend on it bit for
// bit, so once released it is fixed forever: changing it would move every client.

const PRIME32_1 = 0x9e3779b1;
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME32_4 = 0x27d4eb2f;
const PRIME32_5 = 0x165667b1;

// Intermediate values are kept as signed int32 (`| 0`); only the result is made unsigned.

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function readU32LE(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, PRIME32_2)) | 0, 13), PRIME32_1);
}

/**
 * XXH32 of fewer than 16 bytes with seed 0: the spec's short-input path alone (no lanes), as one
 * straight function. Client keys are 5, 9 or 17 bytes; over ring-cost's 4,096 client keys (a loop
 * in Node) this path took 8 ns a key against the general one's 18. Exactly the same values:
 * test/core/hash.test.ts checks it against xxhash-wasm at every length below 16.
 */
function hashShort(b: Uint8Array, length: number): number {
  let acc = (PRIME32_5 + length) | 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const x = (acc + Math.imul(readU32LE(b, i), PRIME32_3)) | 0;
    acc = Math.imul((x << 17) | (x >>> 15), PRIME32_4);
  }
  for (; i < length; i++) {
    const x = (acc + Math.imul(b[i]!, PRIME32_5)) | 0;
    acc = Math.imul((x << 11) | (x >>> 21), PRIME32_1);
  }
  // The spec's final mix, written out again rather than shared with hashRange: a shared helper
  // measured 157–178 ns for key + hash + lookup against 137–147 inline (npm run ring-cost).
  acc ^= acc >>> 15;
  acc = Math.imul(acc, PRIME32_2);
  acc ^= acc >>> 13;
  acc = Math.imul(acc, PRIME32_3);
  acc ^= acc >>> 16;
  return acc >>> 0;
}

/** xxHash32 of bytes[0, length): for callers that hash a reused buffer. */
export function hashRange(b: Uint8Array, length: number, seed: number): number {
  if (length < 16 && seed === 0) return hashShort(b, length);
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

/** XXH32 of bytes with a seed (default 0); returns an unsigned 32-bit integer. */
export function xxh32(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  return length < 16 && seed === 0 ? hashShort(bytes, length) : hashRange(bytes, length, seed);
}

// Reused UTF-8 scratch buffer, so hashing a string allocates nothing once it has grown; hand-rolled
// rather than TextEncoder to keep this module free of platform APIs.
let scratch = new Uint8Array(256);

function encodeUtf8(text: string): number {
  const n = text.length;
  if (scratch.length < n * 3) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2));
  const out = scratch;
  let j = 0;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[j++] = c;
    } else if (c < 0x800) {
      out[j++] = 0xc0 | (c >>> 6);
      out[j++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[j++] = 0xf0 | (c >>> 18);
          out[j++] = 0x80 | ((c >>> 12) & 0x3f);
          out[j++] = 0x80 | ((c >>> 6) & 0x3f);
          out[j++] = 0x80 | (c & 0x3f);
          continue;
        }
        // A lone surrogate encodes as U+FFFD, as TextEncoder does, so both agree on every string.
        c = 0xfffd;
      }
      out[j++] = 0xe0 | (c >>> 12);
      out[j++] = 0x80 | ((c >>> 6) & 0x3f);
      out[j++] = 0x80 | (c & 0x3f);
    }
  }
  return j;
}

/** XXH32 of the UTF-8 encoding of a string. */
export function xxh32String(text: string, seed = 0): number {
  const length = encodeUtf8(text);
  return hashRange(scratch, length, seed);
}
