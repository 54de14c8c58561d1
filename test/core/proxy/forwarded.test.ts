import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { appendForwarded, appendVia, forwardedElement, hasVia, viaEntry } from "../../../src/core/proxy/forwarded.ts";

const PSEUDONYM = "edge-affinity-lb";

/**
 * A reference reader of one RFC 7239 forwarded-element (§4): pairs joined by ";", each value a
 * token or a quoted-string with quoted-pairs (RFC 9110 §5.6.4). Returns null when malformed.
 */
function readElement(element: string): Record<string, string> | null {
  const pairs: Record<string, string> = {};
  let i = 0;
  while (i < element.length) {
    const eq = element.indexOf("=", i);
    if (eq < 0) return null;
    const name = element.slice(i, eq);
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return null;
    i = eq + 1;
    let value = "";
    if (element[i] === '"') {
      i++;
      for (;;) {
        const c = element[i];
        if (c === undefined) return null;
        i++;
        if (c === '"') break;
        if (c === "\\") {
          const escaped = element[i];
          if (escaped === undefined) return null;
          value += escaped;
          i++;
        } else value += c;
      }
    } else {
      const start = i;
      while (i < element.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(element[i]!)) i++;
      if (i === start) return null;
      value = element.slice(start, i);
    }
    pairs[name.toLowerCase()] = value;
    if (i === element.length) break;
    if (element[i] !== ";") return null;
    i++;
  }
  return pairs;
}

describe("forwardedElement", () => {
  // RFC 7239 §4 and §6 examples, each with our proto and host appended.
  test.each([
    ["an IPv4 address, as a token", "192.0.2.43", "for=192.0.2.43"],
    ["an IPv6 address, quoted and bracketed", "2001:db8:cafe::17", 'for="[2001:db8:cafe::17]"'],
    ["an IPv4-mapped IPv6 address, quoted and bracketed", "::ffff:192.0.2.1", 'for="[::ffff:192.0.2.1]"'],
    ["an IPv6 address already bracketed, NOT bracketed twice", "[2001:db8::1]", 'for="[2001:db8::1]"'],
    ["the loopback ::1", "::1", 'for="[::1]"'],
    ["no usable address → unknown (§6.3)", null, "for=unknown"],
    ["an empty address → unknown", "", "for=unknown"],
  ])("for: %s", (_, clientIp, expected) => {
    expect(forwardedElement({ clientIp, proto: "https", host: "shop.example" })).toBe(
      `${expected};proto=https;host=shop.example`,
    );
  });

  test("matches the shape the README shows for an IPv6 client", () => {
    expect(forwardedElement({ clientIp: "2001:db8::1", proto: "https", host: "shop.example" })).toBe(
      'for="[2001:db8::1]";proto=https;host=shop.example',
    );
  });

  test('RFC 7239 §4 example "for=192.0.2.60;proto=http;by=203.0.113.43", with host', () => {
    const element = forwardedElement({
      clientIp: "192.0.2.60",
      proto: "http",
      host: "example.com",
      by: "203.0.113.43",
    });
    expect(element).toBe("for=192.0.2.60;proto=http;by=203.0.113.43;host=example.com");
  });

  test("an IPv6 by is quoted and bracketed like for", () => {
    const element = forwardedElement({ clientIp: null, proto: "https", host: "a.example", by: "2001:db8::2" });
    expect(element).toBe('for=unknown;proto=https;by="[2001:db8::2]";host=a.example');
  });

  test('an address with a port (§6, node-port) is quoted but NOT bracketed: "192.0.2.43:47011"', () => {
    expect(forwardedElement({ clientIp: "192.0.2.43:47011", proto: "https", host: "a.example" })).toMatch(
      /^for="192\.0\.2\.43:47011";/,
    );
  });

  // RFC 9110 §5.6.2: ":" is not a tchar, so a host with a port is not a token and must be quoted.
  test.each([
    ["shop.example", "host=shop.example"],
    ["SHOP.Example", "host=SHOP.Example"],
    ["example.com:8443", 'host="example.com:8443"'],
    ["[2001:db8::1]:8443", 'host="[2001:db8::1]:8443"'],
    ["", 'host=""'],
    ["xn--bcher-kva.example", "host=xn--bcher-kva.example"],
  ])("host %j → %s", (host, expected) => {
    expect(forwardedElement({ clientIp: "192.0.2.1", proto: "https", host })).toBe(
      `for=192.0.2.1;proto=https;${expected}`,
    );
  });

  // RFC 7239 §4 / RFC 9110 §5.6.4: inside a quoted-string, '"' and '\' are escaped with '\'.
  test.each([
    ['ev"il.example', 'host="ev\\"il.example"'],
    ["ev\\il.example", 'host="ev\\\\il.example"'],
    ['a";for=10.0.0.1', 'host="a\\";for=10.0.0.1"'],
    ["a, for=10.0.0.1", 'host="a, for=10.0.0.1"'],
    ["a\\", 'host="a\\\\"'],
    ['"', 'host="\\""'],
  ])("a hostile host %j is escaped as a quoted-string: %s", (host, expected) => {
    const element = forwardedElement({ clientIp: "192.0.2.1", proto: "https", host });
    expect(element).toBe(`for=192.0.2.1;proto=https;${expected}`);
    // It reads back as one element whose host is exactly the input: nothing was injected.
    expect(readElement(element)).toEqual({ for: "192.0.2.1", proto: "https", host });
  });

  test.each([
    ["CR LF", "a.example\r\nx-injected: 1", "a.examplex-injected: 1"],
    ["NUL", "a\u0000.example", "a.example"],
    ["a character above U+00FF", "a\u0100b.example", "ab.example"],
    ["an emoji (a surrogate pair)", "a😀.example", "a.example"],
  ])("a host with %s loses those characters, and Headers accept the result", (_, host, kept) => {
    const element = forwardedElement({ clientIp: "192.0.2.1", proto: "https", host });
    const headers = new Headers();
    expect(() => headers.set("forwarded", element)).not.toThrow();
    expect(readElement(headers.get("forwarded")!)).toEqual({ for: "192.0.2.1", proto: "https", host: kept });
    expect([...headers.keys()]).toEqual(["forwarded"]);
  });

  test("a tab and Latin-1 letters survive inside the quoted-string", () => {
    const element = forwardedElement({ clientIp: "192.0.2.1", proto: "https", host: "a\tb\u00e9" });
    expect(element).toBe('for=192.0.2.1;proto=https;host="a\tb\u00e9"');
  });

  test("a proto that is not a token is quoted too", () => {
    expect(forwardedElement({ clientIp: null, proto: "ht tp", host: "a.example" })).toBe(
      'for=unknown;proto="ht tp";host=a.example',
    );
  });

  test("property: any printable host reads back unchanged, and Headers accept the element", () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
    fc.assert(
      fc.property(printable, fc.option(fc.ipV4(), { nil: null }), (host, clientIp) => {
        const element = forwardedElement({ clientIp, proto: "https", host });
        expect(readElement(element)).toEqual({ for: clientIp ?? "unknown", proto: "https", host });
        expect(new Headers({ forwarded: element }).get("forwarded")).toBe(element.trim());
      }),
    );
  });
});

describe("appendForwarded", () => {
  test.each([
    ["missing", null, "for=198.51.100.17"],
    ["empty", "", "for=198.51.100.17"],
    ["blank", "  \t ", "for=198.51.100.17"],
    [
      "one element (RFC 7239 §4: for=192.0.2.43, for=198.51.100.17)",
      "for=192.0.2.43",
      "for=192.0.2.43, for=198.51.100.17",
    ],
    [
      "a list with a quoted IPv6",
      'for="[2001:db8:cafe::17]", for=192.0.2.43',
      'for="[2001:db8:cafe::17]", for=192.0.2.43, for=198.51.100.17',
    ],
  ])("%s existing value", (_, existing, expected) => {
    expect(appendForwarded(existing, "for=198.51.100.17")).toBe(expected);
  });
});

/** The last element of a Forwarded list: commas inside quoted-strings do not split (RFC 7239 §4). */
function lastElement(list: string): string {
  let quoted = false;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) start = i + 1;
  }
  return list.slice(start).trim();
}

describe("appendForwarded after a client's malformed value", () => {
  test.each([
    ["an unclosed quoted-string", 'for="', 'for="", for=198.51.100.17'],
    ["an unclosed quoted-string with a comma", 'for="a, b', 'for="a, b", for=198.51.100.17'],
    ["a trailing escape inside a quoted-string", 'for="a\\', 'for="a\\ ", for=198.51.100.17'],
    ["a closed quoted-string, left as it is", 'for="[::1]"', 'for="[::1]", for=198.51.100.17'],
    ["an escaped quote that does NOT close", 'for="a\\"', 'for="a\\"", for=198.51.100.17'],
  ])("%s cannot swallow our element", (_, existing, expected) => {
    const list = appendForwarded(existing, "for=198.51.100.17");
    expect(list).toBe(expected);
    expect(lastElement(list)).toBe("for=198.51.100.17");
  });

  test("property: whatever the client sent, our element is the last one and reads back whole", () => {
    const ours = forwardedElement({ clientIp: "2001:db8::1", proto: "https", host: 'h"o\\st:1' });
    fc.assert(
      fc.property(
        fc.option(fc.string({ unit: fc.constantFrom('"', "\\", ",", ";", "=", " ", "a") }), { nil: null }),
        (existing) => {
          const last = lastElement(appendForwarded(existing, ours));
          expect(last).toBe(ours);
          expect(readElement(last)).toEqual({ for: "[2001:db8::1]", proto: "https", host: 'h"o\\st:1' });
        },
      ),
    );
  });
});

describe("Via", () => {
  test("viaEntry is the version, a space and the pseudonym", () => {
    expect(viaEntry(PSEUDONYM)).toBe("1.1 edge-affinity-lb");
  });

  test.each([
    ["missing", null, "1.1 edge-affinity-lb"],
    ["empty", "", "1.1 edge-affinity-lb"],
    ["blank", " ", "1.1 edge-affinity-lb"],
    ["one entry", "1.0 fred", "1.0 fred, 1.1 edge-affinity-lb"],
    [
      "a list with a comment",
      "1.0 fred, 1.1 p.example.net (Apache/1.1)",
      "1.0 fred, 1.1 p.example.net (Apache/1.1), 1.1 edge-affinity-lb",
    ],
  ])("appendVia to a %s value", (_, existing, expected) => {
    expect(appendVia(existing, PSEUDONYM)).toBe(expected);
  });

  test.each([
    ["1.1 edge-affinity-lb", true],
    ["HTTP/1.1 edge-affinity-lb", true],
    ["1.0 fred, 1.1 edge-affinity-lb (comment)", true],
    ["1.1 EDGE-AFFINITY-LB", true],
    ["1.1 Edge-Affinity-Lb", true],
    ["1.1 edge-affinity-lb, 1.0 fred", true],
    ["  1.1   edge-affinity-lb  ", true],
    ["1.0 fred,1.1\tedge-affinity-lb", true],
    ["1.0 fred,, ,1.1 edge-affinity-lb", true],
    ["2 edge-affinity-lb", true],
    ["HTTP/2 edge-affinity-lb", true],
    ["1.1 edge-affinity-lb(no space before the comment)", true],
    ["1.0 fred (a comment, with a comma), 1.1 edge-affinity-lb", true],
    ["1.0 fred (nested (comment), here), 1.1 edge-affinity-lb", true],
    ["1.0 fred (escaped \\) paren, still inside), 1.1 edge-affinity-lb", true],
    ["1.0 fred junk\\, 1.1 edge-affinity-lb", true],
    ["1.1 edge-affinity-lb-2", false],
    ["1.1 edge-affinity-l", false],
    ["1.1 xedge-affinity-lb", false],
    ["1.1 other", false],
    ["1.1 other, 1.0 fred", false],
    ["edge-affinity-lb", false],
    ["1.1 edge-affinity-lb:443", false],
    ["1.1 other (edge-affinity-lb)", false],
    ["1.1 other (1.1 edge-affinity-lb)", false],
    ["1.1 other (a, 1.1 edge-affinity-lb)", false],
    ["1.1 other (unclosed, 1.1 edge-affinity-lb", false],
    ["1.1 other (escaped \\), 1.1 edge-affinity-lb)", false],
    [",,,", false],
    ["", false],
    ["(", false],
    [")", false],
    ["1.1 other )1.1 edge-affinity-lb", false],
  ])("hasVia(%j) → %s", (via, expected) => {
    expect(hasVia(via, PSEUDONYM)).toBe(expected);
  });

  test("hasVia of a missing field is false", () => {
    expect(hasVia(null, PSEUDONYM)).toBe(false);
  });

  test("an empty pseudonym matches nothing", () => {
    expect(hasVia("1.1 , 1.0 fred", "")).toBe(false);
  });

  test.each([
    ["an unclosed comment", "1.0 fred (", "1.0 fred (), 1.1 edge-affinity-lb"],
    ["nested unclosed comments", "1.0 fred ((a", "1.0 fred ((a)), 1.1 edge-affinity-lb"],
    ["a trailing escape inside a comment", "1.0 fred (a\\", "1.0 fred (a\\ ), 1.1 edge-affinity-lb"],
    ["a stray closing paren, left as it is", "1.0 fred )", "1.0 fred ), 1.1 edge-affinity-lb"],
  ])("appendVia after %s keeps our entry outside it, so a loop is still seen", (_, existing, expected) => {
    const via = appendVia(existing, PSEUDONYM);
    expect(via).toBe(expected);
    expect(hasVia(via, PSEUDONYM)).toBe(true);
  });

  test("hasVia finds what appendVia added, whatever came before", () => {
    const hostile = fc.string({ unit: fc.constantFrom("(", ")", "\\", ",", " ", "1.1", "x", PSEUDONYM) });
    fc.assert(
      fc.property(fc.option(fc.oneof(fc.string(), hostile), { nil: null }), (existing) => {
        expect(hasVia(appendVia(existing, PSEUDONYM), PSEUDONYM)).toBe(true);
      }),
    );
  });

  test("hasVia never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string(), (via) => {
        expect(typeof hasVia(via, PSEUDONYM)).toBe("boolean");
      }),
    );
  });
});

describe("forwardedElement's address fast path", () => {
  // Every string of these characters: the fast path must give exactly what the general rule gives.
  const reference = (address: string) => {
    const ipv6 = address.indexOf(":") !== address.lastIndexOf(":") && !address.startsWith("[");
    const value = ipv6 ? `[${address}]` : address;
    return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value)
      ? value
      : `"${value.replace(/[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/g, "").replace(/["\\]/g, "\\$&")}"`;
  };
  test("gives what the token-or-quoted-string rule gives, for addresses and look-alikes", () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFg.:[]\x10\x1a\x0e "\\');
    fc.assert(
      fc.property(fc.string({ unit: chars, minLength: 1, maxLength: 12 }), (address) => {
        const element = forwardedElement({ clientIp: address, proto: "https", host: "a.example" });
        expect(element).toBe(`for=${reference(address)};proto=https;host=a.example`);
      }),
    );
  });
});
