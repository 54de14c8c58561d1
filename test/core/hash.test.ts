import fc from "fast-check";
import xxhash from "xxhash-wasm";
import { beforeAll, describe, expect, test } from "vitest";
import { xxh32, xxh32String } from "../../src/core/hash.ts";

let h32Raw: (input: Uint8Array, seed?: number) => number;
beforeAll(async () => {
  ({ h32Raw } = await xxhash());
});

const utf8 = new TextEncoder();

describe("xxh32 published vectors", () => {
  const vectors: [string, number, number][] = [
    ["", 0, 0x02cc5d05],
    ["", 0x9e3779b1, 0x36b78ae7],
    ["a", 0, 0x550d7456],
    ["abc", 0, 0x32d153ff],
    ["Nobody inspects the spammish repetition", 0, 0xe2293b2f],
  ];
  test.each(vectors)("XXH32(%j, %i)", (text, seed, expected) => {
    expect(xxh32(utf8.encode(text), seed)).toBe(expected);
    expect(xxh32String(text, seed)).toBe(expected);
    expect(h32Raw(utf8.encode(text), seed)).toBe(expected);
  });
});

describe("xxh32 against xxhash-wasm", () => {
  test("random bytes and seeds", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (bytes, seed) => {
          expect(xxh32(bytes, seed)).toBe(h32Raw(bytes, seed));
          expect(xxh32(bytes)).toBe(h32Raw(bytes, 0));
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("every length 0-80 with a fixed pattern", () => {
    const bytes = Uint8Array.from({ length: 80 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let n = 0; n <= 80; n++) {
      const slice = bytes.slice(0, n);
      expect(xxh32(slice, 0x12345678)).toBe(h32Raw(slice, 0x12345678));
    }
  });

  test("inputs under 16 bytes with seed 0 (the client keys' path) at every length 0-15", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 15 }), (bytes) => {
        expect(xxh32(bytes)).toBe(h32Raw(bytes, 0));
        expect(xxh32(bytes, 0)).toBe(h32Raw(bytes, 0));
      }),
      { numRuns: 5000 },
    );
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => (i * 197 + 3) & 0xff);
    for (let n = 0; n <= 16; n++) expect(xxh32(bytes.subarray(0, n))).toBe(h32Raw(bytes.slice(0, n), 0));
  });

  test("subarrays with a non-zero byteOffset", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.nat(300),
        fc.nat(300),
        fc.integer({ min: 0, max: 0xffffffff }),
        (bytes, a, b, seed) => {
          const start = Math.min(a, bytes.length);
          const end = Math.max(start, Math.min(b, bytes.length));
          const view = bytes.subarray(start, end);
          expect(xxh32(view, seed)).toBe(h32Raw(view.slice(), seed));
        },
      ),
      { numRuns: 2000 },
    );
    const buffer = Uint8Array.from({ length: 64 }, (_, i) => i);
    const view = new Uint8Array(buffer.buffer, 3, 37);
    expect(view.byteOffset).toBe(3);
    expect(xxh32(view)).toBe(h32Raw(view.slice()));
  });

  test("negative and oversized seeds are taken modulo 2^32", () => {
    const bytes = utf8.encode("seed");
    expect(xxh32(bytes, -1)).toBe(h32Raw(bytes, 0xffffffff));
    expect(xxh32(bytes, 0x1_0000_0001)).toBe(xxh32(bytes, 1));
  });
});

describe("xxh32String", () => {
  test("equals xxh32 over TextEncoder output for any string, including lone surrogates", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (text, seed) => {
          expect(xxh32String(text, seed)).toBe(h32Raw(utf8.encode(text), seed));
        },
      ),
      { numRuns: 3000 },
    );
    for (const text of ["\ud800", "a\udc00b", "\udbff\udfff", "\u0000", "é€😀", "x".repeat(5000)]) {
      expect(xxh32String(text)).toBe(h32Raw(utf8.encode(text), 0));
    }
  });

  test("a long string followed by a short one does not read stale bytes", () => {
    const long = "ü".repeat(10_000);
    expect(xxh32String(long)).toBe(h32Raw(utf8.encode(long), 0));
    expect(xxh32String("abc")).toBe(0x32d153ff);
  });
});
