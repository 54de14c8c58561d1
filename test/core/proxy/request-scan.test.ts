import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { forwardHeaders, stripHopByHop, type ForwardInfo } from "../../../src/core/proxy/forward-headers.ts";
import { checkRequest, declaredLength, scannedLength } from "../../../src/core/proxy/request-limits.ts";
import { DROPPED, HOP_BY_HOP, scanRequest } from "../../../src/core/proxy/request-scan.ts";

const INFO: ForwardInfo = { clientIp: "203.0.113.7", proto: "https", host: "shop.example" };

/** forwardHeaders as it was before the scan: copy, strip, delete, read again (the reference). */
function referenceForward(incoming: Headers, info: ForwardInfo): Headers {
  const headers = new Headers(incoming);
  if (headers.has("transfer-encoding")) headers.delete("content-length");
  stripHopByHop(headers);
  for (const name of ["host", "cf-connecting-ip", "x-real-ip", "x-forwarded-host", "x-lb-successor"]) {
    headers.delete(name);
  }
  if (info.clientIp !== null) {
    const prior = headers.get("x-forwarded-for");
    headers.set(
      "x-forwarded-for",
      prior === null || prior.trim() === "" ? info.clientIp : `${prior}, ${info.clientIp}`,
    );
    headers.set("x-real-ip", info.clientIp);
  }
  headers.set("x-forwarded-proto", info.proto);
  headers.set("x-forwarded-host", info.host);
  return headers;
}

const NAMES = [
  ...DROPPED,
  "via",
  "forwarded",
  "x-forwarded-for",
  "content-length",
  "Content-Length",
  "X-Forwarded-For",
  "accept",
  "x-a",
  "x-b",
  "cookie",
  "user-agent",
  "Accept-Language",
  "host",
  "cf-connecting-ip",
  "constructor",
  "__proto__",
];
const VALUES = [
  "",
  "1",
  "12",
  "x-a",
  "x-a, x-b",
  "forwarded, via",
  "x-forwarded-for",
  "close",
  " 10.0.0.1 ",
  "chunked",
];
const fields = fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...VALUES)), { maxLength: 12 });

describe("scanRequest", () => {
  test("reads what Headers.get and has read, and which dropped fields are present", () => {
    fc.assert(
      fc.property(fields, (list) => {
        const headers = new Headers(list);
        const scan = scanRequest(headers);
        expect(scan.via).toBe(headers.get("via"));
        expect(scan.connection).toBe(headers.get("connection"));
        expect(scan.forwarded).toBe(headers.get("forwarded"));
        expect(scan.forwardedFor).toBe(headers.get("x-forwarded-for"));
        expect(scan.clientIp).toBe(headers.get("cf-connecting-ip"));
        expect(scan.contentLength).toBe(headers.get("content-length"));
        expect(scan.upgrade).toBe(headers.get("upgrade"));
        expect(scan.userAgent).toBe(headers.get("user-agent"));
        expect(scan.acceptLanguage).toBe(headers.get("accept-language"));
        expect(scan.cookie).toBe(headers.get("cookie"));
        expect(scan.transferEncoding).toBe(headers.has("transfer-encoding"));
        expect(scannedLength(scan)).toBe(declaredLength(headers));
        DROPPED.forEach((name, i) => expect((scan.present & (1 << i)) !== 0).toBe(headers.has(name)));
      }),
    );
  });

  test("sums name + value + 4 per field, Set-Cookie lines one by one", () => {
    const headers = new Headers([
      ["accept", "*/*"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
    expect(scanRequest(headers).bytes).toBe(6 + 3 + 4 + 2 * (10 + 3 + 4));
  });

  test("a field named like an Object.prototype member does NOT count as a dropped field", () => {
    expect(scanRequest(new Headers({ constructor: "x", __proto__: "y", tostring: "z" })).present).toBe(0);
  });
});

describe("forwardHeaders from the scan", () => {
  test("sends exactly what the copy-strip-delete-read-again version sent", () => {
    fc.assert(
      fc.property(fields, fc.boolean(), (list, known) => {
        const incoming = new Headers(list);
        const info = known ? INFO : { ...INFO, clientIp: null };
        expect([...forwardHeaders(incoming, info)]).toEqual([...referenceForward(incoming, info)]);
      }),
    );
  });

  test("duplicated X-Forwarded-For ending in an empty one is trimmed as a copy would hold it (found by the property above)", () => {
    const incoming = new Headers([
      ["X-Forwarded-For", "10.0.0.1"],
      ["X-Forwarded-For", ""],
    ]);
    expect(forwardHeaders(incoming, INFO).get("x-forwarded-for")).toBe("10.0.0.1,, 203.0.113.7");
    expect([...forwardHeaders(incoming, INFO)]).toEqual([...referenceForward(incoming, INFO)]);
  });

  test("a hop-by-hop field is never forwarded, whatever the scan saw", () => {
    const incoming = new Headers(HOP_BY_HOP.map((name) => [name, "x-a"]));
    const sent = forwardHeaders(incoming, INFO);
    for (const name of HOP_BY_HOP) expect(sent.has(name)).toBe(false);
  });

  test("checkRequest still sums the header size (431 above the limit)", () => {
    const headers = new Headers({ "x-big": "a".repeat(100) });
    const limits = { maxBodyBytes: 10, maxUrlBytes: 100, maxHeaderBytes: 109 };
    expect(checkRequest("https://a.example/", headers, limits)).toBeNull();
    expect(checkRequest("https://a.example/", headers, { ...limits, maxHeaderBytes: 108 })?.status).toBe(431);
  });
});
