/**
 * The fast client key (issue 13: one pass over the header text, the short-input xxHash32) gives
 * exactly the bytes and hashes of the path it replaced, frozen in reference-key.ts: every
 * client's placement depends on them bit for bit.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { xxh32 } from "../../../src/core/hash.ts";
import { clientKey, clientKeyHash } from "../../../src/core/key/client-key.ts";
import { mutatedAddress, renderedIpv6 } from "./address-arbitraries.ts";
import { referenceHash, referenceKeyBytes } from "./reference-key.ts";

const RUNS = 20_000;

const blank = fc.constantFrom("", "", "", " ", "\t", " \t ");
const prefixes = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ ipv4Prefix: 32, ipv6Prefix: 64 }) },
  {
    weight: 1,
    arbitrary: fc.record({
      ipv4Prefix: fc.integer({ min: 0, max: 32 }),
      ipv6Prefix: fc.integer({ min: 0, max: 128 }),
    }),
  },
);
const hex = (v: number) => v.toString(16);
/** An IPv4 address also as IPv4-mapped IPv6, in dotted and in hex form, any case. */
const ipv4Forms = fc.tuple(fc.ipV4(), fc.constantFrom("plain", "dotted", "hex", "HEX")).map(([ip, form]) => {
  if (form === "plain") return ip;
  if (form === "dotted") return `::ffff:${ip}`;
  const [a, b, c, d] = ip.split(".").map(Number) as [number, number, number, number];
  const text = `::ffff:${hex((a << 8) | b)}:${hex((c << 8) | d)}`;
  return form === "HEX" ? text.toUpperCase() : text;
});
/** Text a client key must treat as malformed or parse exactly as before. */
const nearMisses = fc.oneof(
  mutatedAddress,
  // Zone ids (RFC 6874) and leading-zero IPv4 (inet_aton's octal) are malformed.
  fc.tuple(fc.ipV6(), fc.stringMatching(/^[a-z0-9]{1,6}$/)).map(([ip, zone]) => `${ip}%${zone}`),
  fc.ipV4Extended(),
  fc.stringMatching(/^[0-9a-fA-F:.]{0,48}$/),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: "binary", maxLength: 50 }),
);
const header = fc
  .tuple(
    blank,
    fc.oneof(
      renderedIpv6.map((r) => r.text),
      fc.ipV6(),
      ipv4Forms,
      nearMisses,
    ),
    blank,
  )
  .map(([before, text, after]) => before + text + after);

describe("the fast client key equals the old one", () => {
  test("same key bytes, kind and hash for random addresses in every textual form and near-misses", () => {
    fc.assert(
      fc.property(header, prefixes, (text, options) => {
        const expected = referenceKeyBytes(text, options.ipv4Prefix, options.ipv6Prefix);
        const key = clientKey(text, options);
        expect(Array.from(key.bytes)).toEqual(expected);
        const kind = expected[0] === 4 ? "ipv4" : expected[0] === 6 ? "ipv6" : "fallback";
        expect(key.kind).toBe(kind);
        expect(xxh32(key.bytes)).toBe(referenceHash(expected));
        const fast = clientKeyHash(text, options);
        expect(fast.kind).toBe(kind);
        expect(fast.hash).toBe(referenceHash(expected));
      }),
      { numRuns: RUNS },
    );
  });

  test("every spelling of one random address gives one key and hash", () => {
    fc.assert(
      fc.property(renderedIpv6, renderedIpv6, (a, b) => {
        // The same 16 bytes written twice, each in its own random form.
        const bytes = a.bytes;
        const groups = Array.from({ length: 8 }, (_, i) => hex((bytes[2 * i]! << 8) | bytes[2 * i + 1]!));
        const full = groups.join(":");
        const padded = groups
          .map((g) => g.padStart(4, "0"))
          .join(":")
          .toUpperCase();
        expect(Array.from(clientKey(a.text).bytes)).toEqual(Array.from(clientKey(full).bytes));
        expect(Array.from(clientKey(padded).bytes)).toEqual(Array.from(clientKey(full).bytes));
        expect(xxh32(clientKey(a.text).bytes)).toBe(referenceHash(referenceKeyBytes(full)));
        expect(clientKeyHash(b.text).hash).toBe(referenceHash(referenceKeyBytes(b.text)));
      }),
      { numRuns: RUNS / 4 },
    );
  });

  test.each([
    "1.2.3.4",
    "255.255.255.255",
    "0.0.0.0",
    "::",
    "::1",
    "1::",
    "::ffff:1.2.3.4",
    "::1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "2001:db8::c000:201",
    "2001:DB8:0:0:0:0:C000:0201",
    "fe80::1%eth0",
    "01.2.3.4",
    "1.2.3.04",
    "1:2:3:4:5:6:7:8::",
    "1::2::3",
    ":1::",
    "1:",
    "12345::",
    "::1.2.3.4.5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "",
    " ",
  ])("%j keys and hashes as before", (text) => {
    const expected = referenceKeyBytes(text);
    expect(Array.from(clientKey(text).bytes)).toEqual(expected);
    expect(xxh32(clientKey(text).bytes)).toBe(referenceHash(expected));
  });
});
