import { describe, expect, test } from "vitest";
import {
  bodyCounter,
  checkRequest,
  declaredLength,
  type RequestLimits,
} from "../../../src/core/proxy/request-limits.ts";

const LIMITS: RequestLimits = { maxBodyBytes: 1_000, maxHeaderBytes: 1_024, maxUrlBytes: 256 };
const BASE = "https://shop.example/";
const MESSAGES = [
  "invalid Content-Length",
  "request body too large",
  "request URI too long",
  "request header fields too large",
];

/** A URL of exactly `bytes` bytes (ASCII). */
const urlOf = (bytes: number) => BASE + "a".repeat(bytes - BASE.length);

/** Headers whose size (name + value + 4 per field) is exactly `bytes`: one field "x-pad". */
const headersOf = (bytes: number, extra: Record<string, string> = {}) => {
  const headers = new Headers(extra);
  let size = 0;
  headers.forEach((value, name) => (size += name.length + value.length + 4));
  headers.set("x-pad", "p".repeat(bytes - size - "x-pad".length - 4));
  return headers;
};

describe("declaredLength", () => {
  test.each([
    ["no Content-Length", {}, null],
    ["0", { "content-length": "0" }, 0],
    ["12", { "content-length": "12" }, 12],
    ["surrounding spaces", { "content-length": "  12 " }, 12],
    ["leading zeros", { "content-length": "007" }, 7],
    // RFC 9110 §8.6: a list of identical values may be accepted as that value.
    ["a list of identical values", { "content-length": "12, 12" }, 12],
    ["a list with odd spacing", { "content-length": "12 ,\t12,12" }, 12],
    ["identical numbers written differently", { "content-length": "007, 7" }, 7],
    ["2^53 − 1, the largest exact length", { "content-length": "9007199254740991" }, Number.MAX_SAFE_INTEGER],
    ["12, 13: conflicting values", { "content-length": "12, 13" }, "invalid"],
    ["-1", { "content-length": "-1" }, "invalid"],
    ["+12", { "content-length": "+12" }, "invalid"],
    ["1e3", { "content-length": "1e3" }, "invalid"],
    ["0x10", { "content-length": "0x10" }, "invalid"],
    ["12.0", { "content-length": "12.0" }, "invalid"],
    ["an empty value", { "content-length": "" }, "invalid"],
    ["a blank value", { "content-length": "   " }, "invalid"],
    ["digits split by a space", { "content-length": "1 2" }, "invalid"],
    ["a trailing comma", { "content-length": "12," }, "invalid"],
    ["a leading comma", { "content-length": ",12" }, "invalid"],
    ["an empty list member", { "content-length": "12,,12" }, "invalid"],
    ["a word", { "content-length": "twelve" }, "invalid"],
    // Headers hold Latin-1 only: superscript digits, and the UTF-8 bytes of Arabic-Indic "١٢".
    ["superscript digits", { "content-length": "\u00b9\u00b2" }, "invalid"],
    ["UTF-8 bytes of non-ASCII digits", { "content-length": "\u00d9\u00a1\u00d9\u00a2" }, "invalid"],
    ["2^53, past Number.MAX_SAFE_INTEGER", { "content-length": "9007199254740992" }, "invalid"],
    ["twenty digits", { "content-length": "99999999999999999999" }, "invalid"],
    ["a huge length after a matching one", { "content-length": "5, 99999999999999999999" }, "invalid"],
    // RFC 9112 §6.3 (3): Transfer-Encoding overrides Content-Length.
    ["Transfer-Encoding with a valid Content-Length", { "transfer-encoding": "chunked", "content-length": "12" }, null],
    ["Transfer-Encoding with an invalid one", { "transfer-encoding": "chunked", "content-length": "12, 13" }, null],
    ["Transfer-Encoding with a huge one", { "transfer-encoding": "gzip, chunked", "content-length": "1e99" }, null],
    ["Transfer-Encoding alone", { "transfer-encoding": "chunked" }, null],
  ])("%s → %s", (_, init: Record<string, string>, expected) => {
    expect(declaredLength(new Headers(init))).toBe(expected);
  });

  test.each([
    [["12", "12"], 12],
    [["12", "13"], "invalid"],
    [["12", "12, 12"], 12],
    [["12", ""], "invalid"],
  ])("Content-Length field lines %j → %s", (lines, expected) => {
    const headers = new Headers();
    for (const line of lines) headers.append("content-length", line);
    expect(declaredLength(headers)).toBe(expected);
  });
});

describe("checkRequest", () => {
  test("an ordinary request passes", () => {
    const headers = new Headers({ accept: "*/*", "content-length": "10", "user-agent": "curl/8" });
    expect(checkRequest(`${BASE}cart?id=1`, headers, LIMITS)).toBeNull();
  });

  test("a URL of exactly maxUrlBytes passes; one byte more is 414", () => {
    expect(checkRequest(urlOf(256), new Headers(), LIMITS)).toBeNull();
    expect(checkRequest(urlOf(257), new Headers(), LIMITS)).toEqual({ status: 414, message: "request URI too long" });
  });

  test("the URL is measured in UTF-8 bytes, not characters", () => {
    const e = "é"; // 2 bytes
    const fits = BASE + "a".repeat(256 - BASE.length - 2) + e; // 255 characters, 256 bytes
    const over = BASE + "a".repeat(256 - BASE.length - 1) + e; // 256 characters, 257 bytes
    expect(checkRequest(fits, new Headers(), LIMITS)).toBeNull();
    expect(checkRequest(over, new Headers(), LIMITS)?.status).toBe(414);
    const emoji = BASE + "a".repeat(256 - BASE.length - 4) + "😀"; // a surrogate pair: 4 bytes
    expect(checkRequest(emoji, new Headers(), LIMITS)).toBeNull();
    expect(checkRequest(`${emoji}a`, new Headers(), LIMITS)?.status).toBe(414);
    const euro = BASE + "€".repeat(70); // 3 bytes each: 21 + 210 = 231
    expect(checkRequest(euro, new Headers(), LIMITS)).toBeNull();
    expect(checkRequest(euro + "€".repeat(9), new Headers(), LIMITS)?.status).toBe(414);
  });

  test("a header section of exactly maxHeaderBytes passes; one byte more is 431", () => {
    expect(checkRequest(BASE, headersOf(1_024), LIMITS)).toBeNull();
    expect(checkRequest(BASE, headersOf(1_025), LIMITS)).toEqual({
      status: 431,
      message: "request header fields too large",
    });
  });

  test("every field counts as name + value + 4 bytes", () => {
    const fields = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`x-${String(i).padStart(2, "0")}`, "v"]));
    // 64 × (4 + 1 + 4) = 576
    expect(checkRequest(BASE, new Headers(fields), { ...LIMITS, maxHeaderBytes: 576 })).toBeNull();
    expect(checkRequest(BASE, new Headers(fields), { ...LIMITS, maxHeaderBytes: 575 })?.status).toBe(431);
  });

  test("every Set-Cookie line counts on its own", () => {
    const headers = new Headers();
    for (let i = 0; i < 4; i++) headers.append("set-cookie", "a=1"); // 4 × (10 + 3 + 4) = 68
    expect(checkRequest(BASE, headers, { ...LIMITS, maxHeaderBytes: 68 })).toBeNull();
    expect(checkRequest(BASE, headers, { ...LIMITS, maxHeaderBytes: 67 })?.status).toBe(431);
  });

  test("a declared body of exactly maxBodyBytes passes; one byte more is 413", () => {
    expect(checkRequest(BASE, new Headers({ "content-length": "1000" }), LIMITS)).toBeNull();
    expect(checkRequest(BASE, new Headers({ "content-length": "1001" }), LIMITS)).toEqual({
      status: 413,
      message: "request body too large",
    });
  });

  test("maxBodyBytes 0 lets only empty bodies through", () => {
    const none = { ...LIMITS, maxBodyBytes: 0 };
    expect(checkRequest(BASE, new Headers({ "content-length": "0" }), none)).toBeNull();
    expect(checkRequest(BASE, new Headers({ "content-length": "1" }), none)?.status).toBe(413);
  });

  test.each(["-1", "1e3", "0x10", "", "12, 13", "9007199254740992"])("Content-Length %j is 400", (value) => {
    expect(checkRequest(BASE, new Headers({ "content-length": value }), LIMITS)).toEqual({
      status: 400,
      message: "invalid Content-Length",
    });
  });

  test("does NOT refuse a body of unknown length: it is counted as it streams", () => {
    const chunked = new Headers({ "transfer-encoding": "chunked", "content-length": "99999999" });
    expect(checkRequest(BASE, chunked, LIMITS)).toBeNull();
    expect(checkRequest(BASE, new Headers(), LIMITS)).toBeNull();
  });

  test("checks in the order a request is read: URL, then headers, then the body's length", () => {
    const longUrl = urlOf(257);
    const bigHeaders = headersOf(1_025, { "content-length": "12, 13" });
    const badLength = new Headers({ "content-length": "12, 13" });
    const bigBody = new Headers({ "content-length": "5000" });
    expect(checkRequest(longUrl, bigHeaders, LIMITS)?.status).toBe(414);
    expect(checkRequest(BASE, bigHeaders, LIMITS)?.status).toBe(431);
    expect(checkRequest(BASE, badLength, LIMITS)?.status).toBe(400);
    expect(checkRequest(BASE, bigBody, LIMITS)?.status).toBe(413);
  });

  test("does NOT echo the request in the message", () => {
    const hostile = "<script>alert(1)</script>";
    const cases: [string, Headers][] = [
      [`${BASE}${hostile}${"a".repeat(300)}`, new Headers()],
      [BASE, new Headers({ "x-evil": hostile.repeat(100) })],
      [BASE, new Headers({ "content-length": hostile })],
      [BASE, new Headers({ "content-length": "123456789", "x-evil": hostile })],
    ];
    for (const [url, headers] of cases) {
      const refusal = checkRequest(url, headers, LIMITS);
      expect(refusal).not.toBeNull();
      expect(MESSAGES).toContain(refusal!.message);
      expect(refusal!.message).not.toContain("script");
    }
  });
});

describe("bodyCounter", () => {
  test("a running total of exactly the limit passes; one byte more fails, and it stays failed", () => {
    const fits = bodyCounter(1_000);
    expect(fits(400)).toBe(true);
    expect(fits(600)).toBe(true);
    expect(fits(0)).toBe(true);
    expect(fits(1)).toBe(false);
    expect(fits(0)).toBe(false);
    expect(fits(10)).toBe(false);
  });

  test("one chunk over the limit fails at once", () => {
    expect(bodyCounter(1_000)(1_001)).toBe(false);
  });

  test("limit 0 accepts empty chunks only", () => {
    const fits = bodyCounter(0);
    expect(fits(0)).toBe(true);
    expect(fits(1)).toBe(false);
  });

  test("each counter counts on its own", () => {
    const a = bodyCounter(10);
    const b = bodyCounter(10);
    expect(a(10)).toBe(true);
    expect(b(10)).toBe(true);
    expect(a(1)).toBe(false);
    expect(b(0)).toBe(true);
  });

  test("a chunk size that is not a number fails closed, for good", () => {
    const fits = bodyCounter(1_000);
    expect(fits(Number.NaN)).toBe(false);
    expect(fits(1)).toBe(false);
  });

  test("counts past 2^32 without wrapping", () => {
    const fits = bodyCounter(5 * 2 ** 30);
    for (let i = 0; i < 5; i++) expect(fits(2 ** 30)).toBe(true);
    expect(fits(1)).toBe(false);
  });
});
