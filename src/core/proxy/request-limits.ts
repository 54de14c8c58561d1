/**
 * What the balancer refuses before contacting any origin: a body, URL or header section over its
 * limit, and a Content-Length that cannot be trusted. Pure: works on the standard `Headers` class
 * and allocates nothing on the way to a verdict but the header scan (the verdicts are constants).
 */
import { scanRequest, type RequestScan } from "./request-scan.ts";

/** The limits (MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_URL_BYTES). */
export interface RequestLimits {
  readonly maxBodyBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxUrlBytes: number;
}

/** A refusal: the status and a fixed one-line message that never echoes the request. */
interface Refusal {
  readonly status: 400 | 413 | 414 | 431;
  readonly message: string;
}

const INVALID_LENGTH: Refusal = Object.freeze({ status: 400, message: "invalid Content-Length" });
// RFC 9110 §15.5.14 (413 Content Too Large), §15.5.15 (414 URI Too Long); RFC 6585 §5 (431).
const BODY_TOO_LARGE: Refusal = Object.freeze({ status: 413, message: "request body too large" });
const URI_TOO_LONG: Refusal = Object.freeze({ status: 414, message: "request URI too long" });
const HEADERS_TOO_LARGE: Refusal = Object.freeze({ status: 431, message: "request header fields too large" });

const COMMA = 0x2c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const isOws = (c: number) => c === 0x20 || c === 0x09;

/** The body length a request declares: Content-Length when there is no Transfer-Encoding (RFC 9112 §6.3), null when unknown; "invalid" for a malformed or conflicting Content-Length (RFC 9110 §8.6: a list of identical values is acceptable). */
export function declaredLength(headers: Headers): number | null | "invalid" {
  // RFC 9112 §6.3 (3): Transfer-Encoding overrides Content-Length, so the length is not known
  // up front, whatever Content-Length says; the body is counted as it streams instead.
  if (headers.has("transfer-encoding")) return null;
  const value = headers.get("content-length");
  return value === null ? null : parseContentLength(value);
}

/** `declaredLength` from a scan of the headers (request-scan.ts). */
export function scannedLength(scan: RequestScan): number | null | "invalid" {
  if (scan.transferEncoding) return null;
  return scan.contentLength === null ? null : parseContentLength(scan.contentLength);
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). Headers joins repeated fields with ", ", and §8.6 lets
 * a recipient accept a list whose members are all the same number; anything else ("-1", "1e3",
 * "0x10", "", "12, 13", a member past 2^53 − 1 that a double could not hold exactly) is invalid:
 * a length two parsers could read differently is how requests are smuggled.
 */
function parseContentLength(value: string): number | "invalid" {
  const n = value.length;
  let length = -1;
  let i = 0;
  for (;;) {
    while (i < n && isOws(value.charCodeAt(i))) i++;
    const start = i;
    let member = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c < DIGIT_0 || c > DIGIT_9) break;
      member = member * 10 + (c - DIGIT_0);
      if (member > Number.MAX_SAFE_INTEGER) return "invalid";
    }
    if (i === start) return "invalid";
    if (length === -1) length = member;
    else if (member !== length) return "invalid";
    while (i < n && isOws(value.charCodeAt(i))) i++;
    if (i === n) return length;
    if (value.charCodeAt(i) !== COMMA) return "invalid";
    i++;
  }
}

/** Why a request must be refused before any origin is contacted, or null: 400 invalid Content-Length, 413 declared body over maxBodyBytes, 414 URL over maxUrlBytes, 431 header section over maxHeaderBytes (RFC 6585 §5; size = Σ name + value + 4 per field, a documented approximation of the wire size). */
export function checkRequest(url: string, headers: Headers, limits: RequestLimits): Refusal | null {
  return checkScanned(url, scanRequest(headers), limits);
}

/** `checkRequest` from a scan of the headers (request-scan.ts), which has summed their size already. */
export function checkScanned(url: string, scan: RequestScan, limits: RequestLimits): Refusal | null {
  // In the order a server reads a request: request line, header section, then body framing.
  if (urlTooLong(url, limits.maxUrlBytes)) return URI_TOO_LONG;
  if (scan.bytes > limits.maxHeaderBytes) return HEADERS_TOO_LARGE;
  const declared = scannedLength(scan);
  if (declared === "invalid") return INVALID_LENGTH;
  if (declared !== null && declared > limits.maxBodyBytes) return BODY_TOO_LARGE;
  return null;
}

/** A TransformStream-free counter for streamed bodies: returns a function that takes a chunk's byteLength and returns false once the running total exceeds the limit. */
export function bodyCounter(limit: number): (chunkBytes: number) => boolean {
  let total = 0;
  // Written as "within" so that a NaN (total or limit) fails closed, and stays false.
  return (chunkBytes) => {
    total += chunkBytes;
    return total <= limit;
  };
}

/** True when the URL's UTF-8 length is over `limit`, without encoding it. */
function urlTooLong(url: string, limit: number): boolean {
  // A UTF-16 unit is 1 to 3 bytes of UTF-8 (a surrogate pair, two units, is 4): most URLs are
  // decided by their length alone. A URL the runtime serialized is ASCII anyway.
  if (url.length > limit) return true;
  if (url.length * 3 <= limit) return false;
  let bytes = 0;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return bytes > limit;
}
