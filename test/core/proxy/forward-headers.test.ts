import { describe, expect, test } from "vitest";
import { HOP_BY_HOP } from "../../../src/core/proxy/request-scan.ts";
import {
  forwardHeaders,
  responseHeaders,
  responseNeedsStrip,
  stripHopByHop,
  type ForwardInfo,
} from "../../../src/core/proxy/forward-headers.ts";

const INFO: ForwardInfo = { clientIp: "203.0.113.7", proto: "https", host: "shop.example" };

function entries(headers: Headers): [string, string][] {
  return [...headers.entries()];
}

describe("stripHopByHop", () => {
  test.each([...HOP_BY_HOP])("removes %s and keeps end-to-end fields", (name) => {
    const headers = new Headers({ [name]: "x", "content-type": "text/plain", "x-keep": "1" });
    stripHopByHop(headers);
    expect(headers.has(name)).toBe(false);
    expect(entries(headers)).toEqual([
      ["content-type", "text/plain"],
      ["x-keep", "1"],
    ]);
  });

  test("removes every hop-by-hop field at once", () => {
    const headers = new Headers(HOP_BY_HOP.map((name) => [name, "v"]));
    headers.set("accept", "*/*");
    stripHopByHop(headers);
    expect(entries(headers)).toEqual([["accept", "*/*"]]);
  });

  test.each([
    ["a single name", "x-a", ["x-a"]],
    ["a comma list", "x-a, x-b", ["x-a", "x-b"]],
    ["odd spacing and tabs", "  x-a ,\tx-b\t,x-c  ", ["x-a", "x-b", "x-c"]],
    ["mixed case", "X-A, X-b, x-C", ["x-a", "x-b", "x-c"]],
    ["empty list elements", ",x-a,,  ,x-b,", ["x-a", "x-b"]],
    ["close and keep-alive tokens", "close, Keep-Alive, x-a", ["x-a"]],
  ])("removes the fields named in Connection: %s", (_, connection, named) => {
    const headers = new Headers({ connection, "x-a": "1", "x-b": "2", "x-c": "3", "x-keep": "4" });
    stripHopByHop(headers);
    for (const name of named) expect(headers.has(name)).toBe(false);
    expect(headers.has("connection")).toBe(false);
    expect(headers.get("x-keep")).toBe("4");
    for (const name of ["x-a", "x-b", "x-c"].filter((n) => !named.includes(n))) expect(headers.has(name)).toBe(true);
  });

  test("honours every Connection field line, not just the first", () => {
    const headers = new Headers([
      ["connection", "x-a"],
      ["connection", "x-b"],
      ["x-a", "1"],
      ["x-b", "2"],
      ["x-keep", "3"],
    ]);
    stripHopByHop(headers);
    expect(entries(headers)).toEqual([["x-keep", "3"]]);
  });

  // Headers.delete throws on a string that is not a field name; such tokens cannot name a field,
  // so they are skipped instead of failing the request.
  test.each(["foo bar", "x-a, (comment)", "a@b", "x-a, ü"])(
    "does NOT throw when Connection holds a token that is not a field name (%j)",
    (connection) => {
      const incoming = new Headers({ connection, "x-a": "1", "x-keep": "2" });
      expect(() => stripHopByHop(new Headers(incoming))).not.toThrow();
      expect(() => forwardHeaders(incoming, INFO)).not.toThrow();
      expect(() => responseHeaders(incoming)).not.toThrow();
    },
  );
});

describe("forwardHeaders", () => {
  test("sets X-Forwarded-For, X-Real-IP, X-Forwarded-Proto and X-Forwarded-Host", () => {
    const headers = forwardHeaders(new Headers({ accept: "text/html" }), INFO);
    expect(Object.fromEntries(headers)).toEqual({
      accept: "text/html",
      "x-forwarded-for": "203.0.113.7",
      "x-real-ip": "203.0.113.7",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "shop.example",
    });
  });

  test.each([
    ["an existing list", "198.51.100.1, 10.0.0.1", "198.51.100.1, 10.0.0.1, 203.0.113.7"],
    ["a single address", "198.51.100.1", "198.51.100.1, 203.0.113.7"],
    ["an empty value", "", "203.0.113.7"],
    ["a blank value", "   ", "203.0.113.7"],
  ])("appends the client to X-Forwarded-For holding %s", (_, prior, expected) => {
    const headers = forwardHeaders(new Headers({ "x-forwarded-for": prior }), INFO);
    expect(headers.get("x-forwarded-for")).toBe(expected);
  });

  test("replaces client-sent X-Real-IP, X-Forwarded-Proto and X-Forwarded-Host", () => {
    const incoming = new Headers({
      "x-real-ip": "1.2.3.4",
      "x-forwarded-proto": "gopher",
      "x-forwarded-host": "evil.example",
    });
    const headers = forwardHeaders(incoming, { ...INFO, proto: "http" });
    expect(headers.get("x-real-ip")).toBe("203.0.113.7");
    expect(headers.get("x-forwarded-proto")).toBe("http");
    expect(headers.get("x-forwarded-host")).toBe("shop.example");
  });

  test("adds only the fields FORWARD_HEADERS names; X-Forwarded-For and -Proto pass as they came, X-Real-IP and X-Forwarded-Host never", () => {
    const incoming = new Headers({
      "x-forwarded-for": "198.51.100.1",
      "x-real-ip": "1.2.3.4",
      "x-forwarded-proto": "gopher",
      "x-forwarded-host": "evil.example",
      accept: "*/*",
    });
    const none = { forwardedFor: false, proto: false, host: false, realIp: false, forwarded: false, successor: false };
    expect(Object.fromEntries(forwardHeaders(incoming, INFO, none))).toEqual({
      accept: "*/*",
      "x-forwarded-for": "198.51.100.1",
      "x-forwarded-proto": "gopher",
    });
    const defaults = { ...none, forwardedFor: true };
    expect(Object.fromEntries(forwardHeaders(incoming, INFO, defaults))).toEqual({
      accept: "*/*",
      "x-forwarded-for": "198.51.100.1, 203.0.113.7",
      "x-forwarded-proto": "gopher",
    });
    expect(forwardHeaders(incoming, INFO, { ...none, proto: true }).get("x-forwarded-proto")).toBe("https");
  });

  test("removes Host and CF-Connecting-IP", () => {
    const incoming = new Headers({ host: "shop.example", "cf-connecting-ip": "203.0.113.7", "x-keep": "1" });
    const headers = forwardHeaders(incoming, INFO);
    expect(headers.has("host")).toBe(false);
    expect(headers.has("cf-connecting-ip")).toBe(false);
    expect(headers.get("x-keep")).toBe("1");
  });

  test("removes hop-by-hop fields and the fields Connection names", () => {
    const incoming = new Headers({
      connection: "x-secret",
      "x-secret": "s",
      "keep-alive": "timeout=5",
      te: "trailers",
      upgrade: "websocket",
      "proxy-authorization": "Basic eA==",
      "x-keep": "1",
    });
    const headers = forwardHeaders(incoming, INFO);
    for (const name of ["connection", "x-secret", "keep-alive", "te", "upgrade", "proxy-authorization"]) {
      expect(headers.has(name)).toBe(false);
    }
    expect(headers.get("x-keep")).toBe("1");
  });

  test("with clientIp null sets neither X-Forwarded-For nor X-Real-IP", () => {
    const headers = forwardHeaders(new Headers({ accept: "*/*" }), { ...INFO, clientIp: null });
    expect(headers.has("x-forwarded-for")).toBe(false);
    expect(headers.has("x-real-ip")).toBe(false);
    expect(headers.get("x-forwarded-proto")).toBe("https");
    expect(headers.get("x-forwarded-host")).toBe("shop.example");
  });

  test("does NOT pass a client-sent X-Real-IP, even when the client address is unknown", () => {
    const incoming = new Headers({ "x-real-ip": "10.0.0.1" });
    expect(forwardHeaders(incoming, { ...INFO, clientIp: null }).has("x-real-ip")).toBe(false);
    expect(forwardHeaders(incoming, INFO).get("x-real-ip")).toBe("203.0.113.7");
  });

  test("with clientIp null leaves a client-sent X-Forwarded-For as it is", () => {
    const headers = forwardHeaders(new Headers({ "x-forwarded-for": "198.51.100.1" }), { ...INFO, clientIp: null });
    expect(headers.get("x-forwarded-for")).toBe("198.51.100.1");
  });

  test("a client's Connection header can NOT remove the headers the proxy adds", () => {
    const incoming = new Headers({
      connection: "x-forwarded-for, x-real-ip, x-forwarded-proto, x-forwarded-host",
      "x-forwarded-for": "198.51.100.1",
    });
    const headers = forwardHeaders(incoming, INFO);
    // The client's own X-Forwarded-For was named in Connection, so it goes; the proxy's entry stays.
    expect(headers.get("x-forwarded-for")).toBe("203.0.113.7");
    expect(headers.get("x-real-ip")).toBe("203.0.113.7");
    expect(headers.get("x-forwarded-proto")).toBe("https");
    expect(headers.get("x-forwarded-host")).toBe("shop.example");
  });

  test("does NOT mutate the incoming Headers", () => {
    const init: [string, string][] = [
      ["connection", "x-a"],
      ["cf-connecting-ip", "203.0.113.7"],
      ["host", "shop.example"],
      ["keep-alive", "timeout=5"],
      ["x-a", "1"],
      ["x-forwarded-for", "198.51.100.1"],
    ];
    const incoming = new Headers(init);
    const before = entries(incoming);
    const headers = forwardHeaders(incoming, INFO);
    expect(headers).not.toBe(incoming);
    expect(entries(incoming)).toEqual(before);
  });
});

describe("responseHeaders", () => {
  test("keeps every Set-Cookie value separately", () => {
    const origin = new Headers();
    origin.append("set-cookie", "a=1; Path=/");
    origin.append("set-cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
    origin.append("set-cookie", "c=3");
    const headers = responseHeaders(origin);
    expect(headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "c=3"]);
  });

  test("drops hop-by-hop fields and those named in Connection, keeps the rest", () => {
    const origin = new Headers({
      connection: "keep-alive, X-Internal",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      "proxy-authenticate": "Basic",
      trailer: "x-checksum",
      "x-internal": "secret",
      "content-type": "text/html",
      "cache-control": "no-store",
    });
    expect(Object.fromEntries(responseHeaders(origin))).toEqual({
      "cache-control": "no-store",
      "content-type": "text/html",
    });
  });

  test("does NOT mutate the origin's Headers", () => {
    const origin = new Headers({ connection: "x-a", "x-a": "1", "keep-alive": "timeout=5" });
    const before = entries(origin);
    responseHeaders(origin);
    expect(entries(origin)).toEqual(before);
  });
});

describe("responseNeedsStrip", () => {
  test("is true for Proxy-Authenticate on a 407, which would ask the client for a proxy's credentials", () => {
    expect(responseNeedsStrip(new Headers({ "proxy-authenticate": "Basic", "content-type": "text/plain" }), 407)).toBe(
      true,
    );
  });

  test("is true for a field the origin's Connection names", () => {
    const fields = { connection: "keep-alive, X-Internal", "x-internal": "1" };
    for (const status of [200, 404, 407, 503]) expect(responseNeedsStrip(new Headers(fields), status)).toBe(true);
  });

  test.each([
    ["end-to-end fields only", { "content-type": "text/plain", via: "1.1 a", "set-cookie": "a=1" }],
    ["what a Node origin sends", { connection: "keep-alive", "keep-alive": "timeout=5", "content-length": "3" }],
    ["Connection: close", { connection: "close" }],
    ["fields workerd drops itself", { "transfer-encoding": "chunked", te: "trailers", trailer: "x", upgrade: "h2c" }],
    ["a Connection token naming an absent field", { connection: "x-absent, (junk)" }],
    // A client reads these on no 200: not worth a lookup per response (they go when it is rebuilt).
    ["Proxy-Authenticate on a 200", { "proxy-authenticate": "Basic" }],
    [
      "Proxy-Authorization and Proxy-Connection, request fields",
      { "proxy-authorization": "x", "proxy-connection": "x" },
    ],
  ])("is false for %s (the response is passed through)", (_, fields) => {
    expect(responseNeedsStrip(new Headers(fields), 200)).toBe(false);
  });
});
