import { isIP } from "node:net";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, expect, test } from "vitest";
import {
  type ClientKey,
  type KeyOptions,
  DEFAULT_KEY_OPTIONS,
  clientKey,
  clientKeyHash,
  formatClientKey,
} from "../../../src/core/key/client-key.ts";
import { formatIp, parseIp } from "../../../src/core/key/ip-address.ts";
import { xxh32 } from "../../../src/core/hash.ts";
import { mutatedAddress, renderedIpv6 } from "./address-arbitraries.ts";

const RUNS = 5_000;

function bytesOf(text: string): number[] | null {
  const parsed = parseIp(text);
  return parsed === null ? null : Array.from(parsed.bytes);
}

function canonical(text: string): string {
  const parsed = parseIp(text);
  if (parsed === null) {
    throw new Error(`not an address: ${JSON.stringify(text)}`);
  }
  return formatIp(parsed);
}

function keyBytes(header: string | null | undefined, options?: KeyOptions): number[] {
  return Array.from(clientKey(header, options).bytes);
}

function isIpv4MappedBytes(bytes: ArrayLike<number>): boolean {
  const b = Array.from(bytes);
  return b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

const V6_FULL: KeyOptions = { ipv4Prefix: 32, ipv6Prefix: 128 };

function ipaddrBytes(text: string): number[] {
  // ipaddr.js 2.5 reads exactly `::a.b.c.d` as `::ffff:a.b.c.d`. RFC 4291 §2.2
  // is explicit that `::13.1.68.3` is `0:0:0:0:0:0:13.1.68.3`, so we keep the
  // RFC reading and ask ipaddr.js about that equivalent spelling, which it gets
  // right.
  if (text.startsWith("::") && !text.includes(":", 2) && text.includes(".")) {
    return ipaddr.parse("0:0:0:0:0:0:" + text.slice(2)).toByteArray();
  }
  return ipaddr.parse(text).toByteArray();
}

describe("parseIp and formatIp follow the RFC text forms", () => {
  // RFC 4291 §2.2: each pair is two spellings of one address; the third column
  // is its RFC 5952 text.
  test.each([
    [
      "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
      "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
      "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
    ],
    ["2001:DB8:0:0:8:800:200C:417A", "2001:DB8::8:800:200C:417A", "2001:db8::8:800:200c:417a"],
    ["FF01:0:0:0:0:0:0:101", "FF01::101", "ff01::101"],
    ["0:0:0:0:0:0:0:1", "::1", "::1"],
    ["0:0:0:0:0:0:0:0", "::", "::"],
    ["0:0:0:0:0:0:13.1.68.3", "::13.1.68.3", "::d01:4403"],
    ["0:0:0:0:0:FFFF:129.144.52.38", "::FFFF:129.144.52.38", "::ffff:129.144.52.38"],
    ["2001:0DB8:0000:CD30:0000:0000:0000:0000", "2001:DB8:0:CD30::", "2001:db8:0:cd30::"],
  ])("RFC 4291 §2.2: %s and %s are one address", (long, short, expected) => {
    expect(bytesOf(long)).not.toBeNull();
    expect(bytesOf(long)).toEqual(bytesOf(short));
    expect(canonical(long)).toBe(expected);
    expect(canonical(short)).toBe(expected);
  });

  test.each([
    // §4.1: no leading zeros.
    ["2001:0db8::0001", "2001:db8::1"],
    // §4.2.1: `::` takes as much as it can.
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8::0:1", "2001:db8::1"],
    // §4.2.2: a single zero group is not compressed.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // §4.2.3: the longest run is compressed, the first one on a tie.
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    // §4.3: lower case.
    ["2001:DB8::AAAA", "2001:db8::aaaa"],
    // §5: IPv4-mapped addresses keep the dotted quad.
    ["0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"],
    // Runs at either end.
    ["0:0:1:0:0:0:0:0", "0:0:1::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"],
  ])("RFC 5952: %s is written %s", (input, expected) => {
    expect(canonical(input)).toBe(expected);
  });

  test.each([
    "2001:db8:0:0:1:0:0:1",
    "2001:0db8:0:0:1:0:0:1",
    "2001:db8::1:0:0:1",
    "2001:db8::0:1:0:0:1",
    "2001:0db8::1:0:0:1",
    "2001:db8:0:0:1::1",
    "2001:db8:0000:0:1::1",
    "2001:DB8:0:0:1::1",
  ])("RFC 5952 §2: %s is 2001:db8::1:0:0:1", (input) => {
    expect(canonical(input)).toBe("2001:db8::1:0:0:1");
  });

  test.each(["0.0.0.0", "1.2.3.4", "10.0.0.255", "192.168.100.1", "255.255.255.255"])(
    "IPv4 %s round-trips as dotted decimal",
    (input) => {
      expect(parseIp(input)?.family).toBe(4);
      expect(canonical(input)).toBe(input);
    },
  );

  test("an IPv6 address parses to 16 big-endian bytes", () => {
    expect(parseIp("2001:db8::c000:201")).toEqual({
      family: 6,
      bytes: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x02, 0x01]),
    });
  });

  test("a `::` may stand for a single zero group (RFC 4291 §2.2)", () => {
    expect(bytesOf("1:2:3:4:5:6:7::")).toEqual(bytesOf("1:2:3:4:5:6:7:0"));
    expect(bytesOf("::2:3:4:5:6:7:8")).toEqual(bytesOf("0:2:3:4:5:6:7:8"));
    expect(bytesOf("1:2:3::5:6:7:8")).toEqual(bytesOf("1:2:3:0:5:6:7:8"));
  });

  test("parseIp does not trim: surrounding whitespace is the header reader's business", () => {
    expect(parseIp(" 1.2.3.4")).toBeNull();
    expect(parseIp("::1\t")).toBeNull();
  });

  test("formatIp(parseIp(x)) round-trips random addresses and matches ipaddr.js's RFC 5952 text", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          renderedIpv6.map((r) => Uint8Array.from(r.bytes)),
        ),
        (bytes) => {
          const text = formatIp({ family: 6, bytes });
          expect(Array.from(parseIp(text)!.bytes)).toEqual(Array.from(bytes));
          // ipaddr.js writes IPv4-mapped addresses in hex; RFC 5952 §5
          // recommends the dotted quad.
          if (!isIpv4MappedBytes(bytes)) {
            expect(text).toBe((ipaddr.fromByteArray(Array.from(bytes)) as ipaddr.IPv6).toRFC5952String());
          }
        },
      ),
      {
        numRuns: RUNS,
        examples: [[new Uint8Array(16)], [new Uint8Array([...Array(15).fill(0), 1])]],
      },
    );
  });
});

describe("clientKey gives one key per address, whatever its spelling", () => {
  const v6Forms = [
    "2001:db8::c000:201",
    "2001:0db8:0000:0000:0000:0000:c000:0201",
    "2001:DB8:0:0:0:0:C000:201",
    "2001:Db8:0::0:c000:0201",
    "2001:db8::0:0:c000:201",
    "2001:db8::192.0.2.1",
    "2001:db8:0:0:0:0:192.0.2.1",
    "2001:DB8:0000::192.0.2.1",
    "  2001:db8::c000:201",
    "2001:db8::c000:201\t",
    "\t 2001:DB8::192.0.2.1 \t",
  ];
  test.each(v6Forms)("%j has the key of 2001:db8::c000:201", (form) => {
    const key = clientKey(form, V6_FULL);
    expect(key.kind).toBe("ipv6");
    expect(Array.from(key.bytes)).toEqual(keyBytes(v6Forms[0], V6_FULL));
    expect(keyBytes(form)).toEqual(keyBytes(v6Forms[0]));
  });

  const v4Forms = ["1.2.3.4", " 1.2.3.4", "1.2.3.4\t", "  \t1.2.3.4\t  ", "::ffff:1.2.3.4", " ::FFFF:0102:0304 "];
  test.each(v4Forms)("%j has the key of 1.2.3.4", (form) => {
    expect(clientKey(form)).toEqual(clientKey("1.2.3.4"));
  });
});

describe("key bytes are a family tag and the masked prefix", () => {
  test("the default IPv4 key is [4, a, b, c, d] with prefix 32", () => {
    expect(clientKey("1.2.3.4")).toEqual({
      kind: "ipv4",
      bytes: new Uint8Array([4, 1, 2, 3, 4]),
      prefix: 32,
    });
  });

  test("the default IPv6 key is 6 followed by the first 8 bytes, prefix 64", () => {
    expect(clientKey("2001:db8:1:2:3:4:5:6")).toEqual({
      kind: "ipv6",
      bytes: new Uint8Array([6, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2]),
      prefix: 64,
    });
  });

  test("DEFAULT_KEY_OPTIONS is /32 and /64 and is what clientKey uses without options", () => {
    expect(DEFAULT_KEY_OPTIONS).toEqual({ ipv4Prefix: 32, ipv6Prefix: 64 });
    expect(clientKey("2001:db8::1")).toEqual(clientKey("2001:db8::1", DEFAULT_KEY_OPTIONS));
    expect(clientKey("1.2.3.4")).toEqual(clientKey("1.2.3.4", DEFAULT_KEY_OPTIONS));
  });

  test.each<[string, KeyOptions, number[]]>([
    ["1.2.3.4", { ipv4Prefix: 0, ipv6Prefix: 0 }, [4]],
    ["2001:db8::1", { ipv4Prefix: 0, ipv6Prefix: 0 }, [6]],
    ["1.2.255.4", { ipv4Prefix: 20, ipv6Prefix: 64 }, [4, 1, 2, 0xf0]],
    ["1.2.3.255", { ipv4Prefix: 31, ipv6Prefix: 64 }, [4, 1, 2, 3, 0xfe]],
    ["255.255.255.255", { ipv4Prefix: 1, ipv6Prefix: 64 }, [4, 0x80]],
    ["2001:db8:abcd:ef12::", { ipv4Prefix: 32, ipv6Prefix: 52 }, [6, 0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0xe0]],
    [
      "2001:db8::1",
      { ipv4Prefix: 32, ipv6Prefix: 128 },
      [6, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ],
    ["ffff::", { ipv4Prefix: 32, ipv6Prefix: 3 }, [6, 0xe0]],
  ])("%s with %j has key bytes %j", (header, options, expected) => {
    expect(keyBytes(header, options)).toEqual(expected);
  });

  test("prefix 0 makes every address of a family one client", () => {
    const all: KeyOptions = { ipv4Prefix: 0, ipv6Prefix: 0 };
    expect(keyBytes("1.2.3.4", all)).toEqual(keyBytes("255.0.0.9", all));
    expect(keyBytes("2001:db8::1", all)).toEqual(keyBytes("fe80::1", all));
    expect(keyBytes("1.2.3.4", all)).not.toEqual(keyBytes("2001:db8::1", all));
  });

  test("an IPv4 key never equals an IPv6 key, even for the same leading bytes", () => {
    expect(keyBytes("32.1.13.184")).not.toEqual(keyBytes("2001:db8::", { ipv4Prefix: 32, ipv6Prefix: 32 }));
  });

  test("the key reports the prefix it was masked with", () => {
    expect(clientKey("1.2.3.4", { ipv4Prefix: 24, ipv6Prefix: 56 })).toMatchObject({ kind: "ipv4", prefix: 24 });
    expect(clientKey("2001:db8::1", { ipv4Prefix: 24, ipv6Prefix: 56 })).toMatchObject({ kind: "ipv6", prefix: 56 });
  });
});

describe("the prefix options decide which addresses are one client", () => {
  test("two IPv6 addresses in the same /64 share a key", () => {
    expect(keyBytes("2001:db8:1:2::1")).toEqual(keyBytes("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  });

  test("IPv6 addresses in different /64s get different keys", () => {
    expect(keyBytes("2001:db8:1:2::1")).not.toEqual(keyBytes("2001:db8:1:3::1"));
  });

  test("with ipv6Prefix 128 two addresses in one /64 get different keys", () => {
    expect(keyBytes("2001:db8:1:2::1", V6_FULL)).not.toEqual(keyBytes("2001:db8:1:2::2", V6_FULL));
  });

  test("with ipv4Prefix 24, 1.2.3.4 and 1.2.3.200 are one client but 1.2.4.4 is not", () => {
    const v4Slash24: KeyOptions = { ipv4Prefix: 24, ipv6Prefix: 64 };
    expect(keyBytes("1.2.3.4", v4Slash24)).toEqual(keyBytes("1.2.3.200", v4Slash24));
    expect(keyBytes("1.2.3.4", v4Slash24)).not.toEqual(keyBytes("1.2.4.4", v4Slash24));
    expect(keyBytes("1.2.3.4")).not.toEqual(keyBytes("1.2.3.200"));
  });

  // Flipping bit `bit` of an address changes its key exactly when that bit is
  // inside the prefix.
  test("keys agree exactly when the addresses agree on the first `prefix` bits", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 128 }),
        fc.integer({ min: 0, max: 127 }),
        (random, prefix, bit) => {
          const a = Uint8Array.from(random);
          // Two non-zero leading bytes keep both addresses clear of the
          // IPv4-mapped range.
          a[0] = 0x20;
          a[1] = 0x01;
          const b = Uint8Array.from(a);
          b[bit >> 3] = b[bit >> 3]! ^ (0x80 >> (bit & 7));
          const options = { ipv4Prefix: 32, ipv6Prefix: prefix };
          const same =
            keyBytes(formatIp({ family: 6, bytes: a }), options).join() ===
            keyBytes(formatIp({ family: 6, bytes: b }), options).join();
          expect(same).toBe(bit >= prefix);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("IPv4 keys agree exactly when the addresses agree on the first `prefix` bits", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 31 }),
        (a, prefix, bit) => {
          const b = Uint8Array.from(a);
          b[bit >> 3] = b[bit >> 3]! ^ (0x80 >> (bit & 7));
          const options = { ipv4Prefix: prefix, ipv6Prefix: 64 };
          const same =
            keyBytes(formatIp({ family: 4, bytes: a }), options).join() ===
            keyBytes(formatIp({ family: 4, bytes: b }), options).join();
          expect(same).toBe(bit >= prefix);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("IPv4-mapped IPv6 addresses are keyed as the IPv4 address they carry", () => {
  test.each([
    "::ffff:1.2.3.4",
    "::FFFF:0102:0304",
    "0:0:0:0:0:ffff:102:304",
    "0000:0000:0000:0000:0000:FFFF:1.2.3.4",
    "0::ffff:1.2.3.4",
    "::0:ffff:102:304",
  ])("%s is keyed exactly as 1.2.3.4", (form) => {
    expect(clientKey(form)).toEqual(clientKey("1.2.3.4"));
    expect(clientKey(form, { ipv4Prefix: 24, ipv6Prefix: 128 })).toEqual(
      clientKey("1.2.3.77", { ipv4Prefix: 24, ipv6Prefix: 128 }),
    );
  });

  test.each([
    // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1): bytes 10-11 are zero,
    // not 0xffff.
    "::1.2.3.4",
    // The NAT64 well-known prefix (RFC 6052) is a different host, not the IPv4
    // one.
    "64:ff9b::1.2.3.4",
    // IPv4-translated (RFC 2765): ::ffff:0:a.b.c.d.
    "::ffff:0:1.2.3.4",
    "::fffe:1.2.3.4",
    "::1:ffff:1.2.3.4",
  ])("%s is not folded to IPv4", (form) => {
    const key = clientKey(form, V6_FULL);
    expect(key.kind).toBe("ipv6");
    expect(Array.from(key.bytes)).not.toEqual(keyBytes("1.2.3.4", V6_FULL));
  });
});

const MISSING = [0, ...ascii("missing")];
const MALFORMED = [0, ...ascii("malformed")];

const hostile: readonly string[] = [
  // Present but empty.
  "",
  " ",
  "\t \t",
  // IPv4 shape.
  "1.2.3",
  "1.2.3.4.5",
  "256.1.1.1",
  "1.2.3.256",
  "1.2.3.1000",
  "01.2.3.4",
  "1.2.3.04",
  "1.2.3.00",
  "1.2.3.-4",
  "1.2.3.+4",
  "1..3.4",
  ".1.2.3.4",
  "1.2.3.4.",
  "0x7f.0.0.1",
  "127.1",
  "2130706433",
  "1.2.3.4:80",
  "1.2.3.4/24",
  "１.２.３.４",
  "1.2.3.\u0664",
  "1.2.3.4e0",
  // IPv6 shape.
  ":",
  ":::",
  "::::",
  ":1::",
  "1:",
  "1::2:",
  "::1:",
  "1::2::3",
  "::ffff::1.2.3.4",
  "12345::",
  "::12345",
  "00000::1",
  "g::1",
  "::1g",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7",
  "1:2:3:4:5:6:7:8::",
  "::1:2:3:4:5:6:7:8",
  "1:2:3:4::5:6:7:8",
  "1::2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7:1.2.3.4",
  "1:2:3:4:5:6::1.2.3.4",
  "::1.2.3.4:5",
  "1.2.3.4::",
  "::ffff:1.2.3.256",
  "::ffff:1.2.3",
  "::ffff:01.2.3.4",
  "::ffff:0x1.2.3.4",
  "::ffff:1.2.3.4.5",
  "2001:db8::/64",
  "fe80::1%eth0",
  "fe80::1%1",
  "::1%",
  "[::1]",
  "[::1]:443",
  "::1 ::2",
  // Lists, injection, control and odd characters.
  "1.2.3.4 5.6.7.8",
  "1.2.3.4,5.6.7.8",
  "1.2.3.4, 5.6.7.8",
  "1.2.3.4\r\n",
  "1.2.3.4\r\nX-Evil: 1",
  "1.2.3\n.4",
  "\n1.2.3.4",
  "\u0000",
  "1.2.3.4\u0000",
  "::1\u0000",
  "\u00a01.2.3.4",
  "1.2.3.4\u3000",
  "\ud800",
  "::\udfff",
  "localhost",
  "unknown",
  "null",
  // Long values.
  "x".repeat(10_000),
  "1".repeat(10_000),
  "1.2.3.4" + " x".repeat(5_000),
  "::" + "0:".repeat(5_000) + "1",
  "0:".repeat(32) + "1",
];

describe("malformed and missing headers get the fallback key", () => {
  test.each(
    hostile.map((s) => [
      s.length > 40 ? `${JSON.stringify(s.slice(0, 20))}… (${s.length} chars)` : JSON.stringify(s),
      s,
    ]),
  )("%s is malformed", (_label, header) => {
    let key: ClientKey | undefined;
    expect(() => (key = clientKey(header))).not.toThrow();
    expect(key).toEqual({
      kind: "fallback",
      bytes: new Uint8Array(MALFORMED),
      reason: "malformed",
    });
    expect(parseIp(header)).toBeNull();
  });

  test.each([null, undefined])("%s is missing", (header) => {
    expect(clientKey(header)).toEqual({
      kind: "fallback",
      bytes: new Uint8Array(MISSING),
      reason: "missing",
    });
  });

  test("fallback keys are constant, distinct, and unlike any address key", () => {
    expect(keyBytes(null)).toEqual(keyBytes(undefined));
    expect(keyBytes("nope")).toEqual(keyBytes("::::"));
    expect(keyBytes(null)).not.toEqual(keyBytes("nope"));
    // An address key starts with tag 4 or 6, a fallback key with 0.
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 128 }), (ip, prefix) => {
        const bytes = keyBytes(ip, {
          ipv4Prefix: Math.min(prefix, 32),
          ipv6Prefix: prefix,
        });
        expect([4, 6]).toContain(bytes[0]);
        expect(bytes).not.toEqual(MISSING);
        expect(bytes).not.toEqual(MALFORMED);
      }),
      { numRuns: 1_000 },
    );
  });

  test("writing into a returned fallback key does not change later ones", () => {
    clientKey(null).bytes.fill(9);
    clientKey("x").bytes.fill(9);
    expect(keyBytes(null)).toEqual(MISSING);
    expect(keyBytes("x")).toEqual(MALFORMED);
  });

  test("writing into a parsed address does not change later parses", () => {
    parseIp("1.2.3.4")!.bytes.fill(0);
    expect(bytesOf("1.2.3.4")).toEqual([1, 2, 3, 4]);
  });

  test("a 10,000-character value is malformed, whatever it holds", () => {
    // Tests never assert wall-clock time; the cut-off at 64 characters is what keeps this cheap.
    for (const long of [
      "1".repeat(10_000),
      `1.2.3.4${"0".repeat(9_993)}`,
      ":".repeat(10_000),
      `::${"f".repeat(9_998)}`,
    ]) {
      expect(clientKey(long)).toMatchObject({
        kind: "fallback",
        reason: "malformed",
      });
    }
  });

  test("whitespace around a valid address is trimmed, however long", () => {
    expect(clientKey(" ".repeat(5_000) + "1.2.3.4" + "\t".repeat(5_000))).toEqual(clientKey("1.2.3.4"));
  });

  test("wrong runtime types and out-of-range options never throw", () => {
    const untyped = clientKey as (header: unknown, options?: unknown) => ClientKey;
    expect(untyped(42)).toMatchObject({ reason: "malformed" });
    expect(untyped({ toString: () => "1.2.3.4" })).toMatchObject({
      reason: "malformed",
    });
    expect(untyped("1.2.3.4", null)).toEqual(clientKey("1.2.3.4"));
    expect(untyped("1.2.3.4", {})).toEqual(clientKey("1.2.3.4"));
    expect(untyped("1.2.3.4", { ipv4Prefix: NaN, ipv6Prefix: NaN })).toEqual(clientKey("1.2.3.4"));
    expect(untyped("1.2.3.4", { ipv4Prefix: -5, ipv6Prefix: 0 })).toMatchObject({
      prefix: 0,
      bytes: new Uint8Array([4]),
    });
    expect(untyped("1.2.3.4", { ipv4Prefix: 99, ipv6Prefix: 0 })).toMatchObject({ prefix: 32 });
    expect(untyped("::1", { ipv4Prefix: 0, ipv6Prefix: Infinity })).toMatchObject({ prefix: 128 });
    expect(untyped("1.2.3.4", { ipv4Prefix: 23.9, ipv6Prefix: 0 })).toMatchObject({ prefix: 23 });
    expect(untyped("1.2.3.4", { ipv4Prefix: "24", ipv6Prefix: 0 })).toMatchObject({ prefix: 32 });

    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.anything()), fc.anything(), (header, options) => {
        const key = untyped(header, options);
        expect(["ipv4", "ipv6", "fallback"]).toContain(key.kind);
        expect(key.bytes).toBeInstanceOf(Uint8Array);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("formatClientKey", () => {
  test.each<[string | null, KeyOptions | undefined, string]>([
    ["1.2.3.4", undefined, "1.2.3.4/32"],
    ["1.2.3.200", { ipv4Prefix: 24, ipv6Prefix: 64 }, "1.2.3.0/24"],
    ["1.2.3.4", { ipv4Prefix: 0, ipv6Prefix: 0 }, "0.0.0.0/0"],
    ["::ffff:1.2.3.4", undefined, "1.2.3.4/32"],
    ["2001:db8:1:2:3:4:5:6", undefined, "2001:db8:1:2::/64"],
    ["2001:DB8:0:0:1:2:3:4", undefined, "2001:db8::/64"],
    ["2001:db8:abcd:ef12::", { ipv4Prefix: 32, ipv6Prefix: 52 }, "2001:db8:abcd:e000::/52"],
    ["2001:db8::1", { ipv4Prefix: 32, ipv6Prefix: 128 }, "2001:db8::1/128"],
    ["2001:db8::1", { ipv4Prefix: 32, ipv6Prefix: 0 }, "::/0"],
    [null, undefined, "fallback:missing"],
    ["1.2.3", undefined, "fallback:malformed"],
  ])("%s with %j is labelled %s", (header, options, expected) => {
    expect(formatClientKey(clientKey(header, options))).toBe(expected);
  });
});

describe("parseIp agrees with ipaddr.js and node:net", () => {
  test("random dotted-decimal IPv4 addresses (fc.ipV4)", () => {
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        expect(isIP(text)).toBe(4);
        expect(ipaddr.IPv4.isValidFourPartDecimal(text)).toBe(true);
        const parsed = parseIp(text);
        expect(parsed?.family).toBe(4);
        expect(Array.from(parsed!.bytes)).toEqual(ipaddrBytes(text));
      }),
      { numRuns: RUNS },
    );
  });

  test("random IPv6 addresses (fc.ipV6)", () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        expect(isIP(text)).toBe(6);
        expect(ipaddr.IPv6.isValid(text)).toBe(true);
        const parsed = parseIp(text);
        expect(parsed?.family).toBe(6);
        expect(Array.from(parsed!.bytes)).toEqual(ipaddrBytes(text));
      }),
      { numRuns: RUNS },
    );
  });

  test("random 16 bytes in random textual forms parse back to those bytes", () => {
    fc.assert(
      fc.property(renderedIpv6, ({ text, bytes }) => {
        expect(isIP(text)).toBe(6);
        const parsed = parseIp(text);
        expect(parsed?.family).toBe(6);
        expect(Array.from(parsed!.bytes)).toEqual(bytes);
        expect(ipaddrBytes(text)).toEqual(bytes);
        expect(canonical(text)).toBe(canonical(formatIp(parsed!)));
        const key = clientKey(text, V6_FULL);
        if (isIpv4MappedBytes(bytes)) {
          expect(key).toEqual(clientKey(bytes.slice(12).join("."), V6_FULL));
        } else {
          expect(Array.from(key.bytes)).toEqual([6, ...bytes]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test("random mutated strings are accepted exactly when node:net accepts them", () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(mutatedAddress, (text) => {
        const parsed = parseIp(text);
        if (parsed === null) rejected++;
        else accepted++;
        if (text.includes("%")) {
          // node:net accepts zone ids (`fe80::1%eth0`); a zone names a local
          // interface and means nothing in a header from the edge, so we reject
          // every `%`.
          expect(parsed).toBeNull();
          return;
        }
        const family = isIP(text);
        expect(parsed?.family ?? 0).toBe(family);
        if (parsed !== null) {
          expect(Array.from(parsed.bytes)).toEqual(ipaddrBytes(text));
        }

        // ipaddr.js agrees too, with one exception: inside IPv6 it reads the
        // dotted quad the inet_aton way (`::ffff:01.2.3.4`, `::0x1.2.3.4`),
        // where RFC 4291 §2.2 says decimal and RFC 6943 §3.1.1 says a leading
        // zero is ambiguous.
        const ipaddrValid = text.includes(":") ? ipaddr.IPv6.isValid(text) : ipaddr.IPv4.isValidFourPartDecimal(text);
        if (ipaddrValid !== (parsed !== null)) {
          expect(ipaddrValid).toBe(true);
          expect(text.slice(text.lastIndexOf(":") + 1)).toMatch(/(^|\.)0[0-9x]/i);
        }
      }),
      { numRuns: 20_000 },
    );
    // Both sides of the boundary were exercised.
    expect(accepted).toBeGreaterThan(1_000);
    expect(rejected).toBeGreaterThan(1_000);
  });

  test("every string with a zone id is rejected, though node:net accepts some", () => {
    const zoned = ["fe80::1%eth0", "fe80::1%1", "::1%lo", "::ffff:1.2.3.4%eth0", "1::%x"];
    for (const text of zoned) {
      expect(isIP(text)).toBe(6);
      expect(parseIp(text)).toBeNull();
      expect(clientKey(text).kind).toBe("fallback");
    }
  });
});

describe("clientKeyHash is clientKey + xxh32 without allocating", () => {
  const text = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.ipV4().map((ip) => `::ffff:${ip}`),
    fc.ipV6().map((ip) => ` ${ip.toUpperCase()}\t`),
    fc.string({ maxLength: 50 }),
  );
  const options = fc.record({
    ipv4Prefix: fc.integer({ min: 0, max: 32 }),
    ipv6Prefix: fc.integer({ min: 0, max: 128 }),
  });

  test("same hash and kind as hashing clientKey's bytes, for any header and prefixes", () => {
    fc.assert(
      fc.property(fc.option(text, { nil: null }), options, (header, opts) => {
        const key = clientKey(header, opts);
        const fast = clientKeyHash(header, opts);
        expect(fast.kind).toBe(key.kind);
        expect(fast.hash).toBe(xxh32(key.bytes));
      }),
      { numRuns: 2_000, seed: 20261122 },
    );
  });

  test("missing and malformed headers hash like their fallback keys", () => {
    expect(clientKeyHash(undefined).hash).toBe(xxh32(clientKey(undefined).bytes));
    expect(clientKeyHash("not an address").hash).toBe(xxh32(clientKey("not an address").bytes));
    expect(clientKeyHash("not an address").hash).not.toBe(clientKeyHash(null).hash);
  });
});
