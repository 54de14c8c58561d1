/**
 * Header rules for proxying: hop-by-hop fields are dropped in both directions and the origin is
 * told who the client is. Pure: works on the standard `Headers` class only.
 */
import type { ForwardFields } from "../config/forward-fields.ts";
import { DROPPED, HOP_BY_HOP, scanRequest, type RequestScan } from "./request-scan.ts";

/** A field name is an RFC 9110 §5.1 token; anything else cannot name a field (and Headers would throw). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Removes the hop-by-hop fields, and every field the `Connection` header names (RFC 9110 §7.6.1). */
export function stripHopByHop(headers: Headers): void {
  const connection = headers.get("connection");
  if (connection !== null) stripNamed(headers, connection);
  for (const name of HOP_BY_HOP) headers.delete(name);
}

/** Removes the fields a `Connection` value names; a token that is no field name is skipped. */
function stripNamed(headers: Headers, connection: string): void {
  for (const token of connection.split(",")) {
    const name = token.trim();
    if (FIELD_NAME.test(name)) headers.delete(name);
  }
}

/**
 * Hop-by-hop fields that workerd never passes from an origin's response to the client (it frames
 * the response itself): a response that carries only these needs no rebuilding to drop them.
 */
const DROPPED_BY_RUNTIME: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "transfer-encoding",
]);

/**
 * True when the client would receive a hop-by-hop field that means something to it if `headers`
 * (of a response with this `status`) were passed through as they are: a field the origin's
 * Connection names (not "keep-alive" or "close", which Node origins send on every answer), or
 * Proxy-Authenticate on a 407, the one status a client reads it on (RFC 9110 §11.7.1, §15.5.8):
 * there it would ask the client for credentials to a proxy it never chose.
 *
 * Not looked for, since a client makes nothing of them: Proxy-Authenticate on any other status, and
 * Proxy-Authorization and Proxy-Connection, which are request fields. Each lookup is a call into
 * the runtime on every response (a `has` 0.1 µs in a warm loop, bench/api-cost.md; this function fell
 * from 1.1 to 0.5 µs per request in `npm run profile`); a response rebuilt for another reason still
 * loses them (`responseHeaders`).
 */
export function responseNeedsStrip(headers: Headers, status: number): boolean {
  if (status === 407 && headers.has("proxy-authenticate")) return true;
  const connection = headers.get("connection");
  // What nearly every origin sends: nothing to split.
  if (connection === null || connection === "keep-alive" || connection === "close") return false;
  for (const token of connection.split(",")) {
    const name = token.trim().toLowerCase();
    if (!DROPPED_BY_RUNTIME.has(name) && FIELD_NAME.test(name) && headers.has(name)) return true;
  }
  return false;
}

/** What the origin is told about the request it receives. */
export interface ForwardInfo {
  /** The client's address as text (canonical form), or null when CF-Connecting-IP was unusable. */
  readonly clientIp: string | null;
  /** "http" or "https": the scheme the client used. */
  readonly proto: string;
  /** The Host the client asked for. */
  readonly host: string;
}

/** Every field FORWARD_HEADERS can name (the pure functions' default, as tests exercise them). */
const ALL_FIELDS: ForwardFields = Object.freeze({
  forwardedFor: true,
  proto: true,
  host: true,
  realIp: true,
  forwarded: true,
  successor: true,
});

/**
 * Builds the headers sent to an origin: the client's fields minus hop-by-hop ones, minus `Host`
 * (the runtime sets it from the origin URL), `CF-Connecting-IP` (workerd strips it from
 * subrequests anyway) and any client-sent `X-Real-IP`, `X-Forwarded-Host` or `X-LB-Successor`,
 * plus what `fields` (FORWARD_HEADERS) asks for: `X-Forwarded-For` (appended), `X-Real-IP`,
 * `X-Forwarded-Proto`, `X-Forwarded-Host`. The additions come after the strip, so a client's
 * `Connection` header cannot remove them. (`Forwarded`, `Via` and the successor hint are the
 * proxy's: worker/proxy.ts.)
 */
export function forwardHeaders(incoming: Headers, info: ForwardInfo, fields: ForwardFields = ALL_FIELDS): Headers {
  return forwardScanned(incoming, scanRequest(incoming), info, fields);
}

/**
 * `forwardHeaders` from a scan of `incoming` (request-scan.ts): a field is deleted only when the
 * scan saw it, and a value the strip cannot have touched is taken from the scan, not read again.
 * Every field set here is one more on the wire, which costs workerd 1–2 % of throughput
 * (bench/worker-parts.md): only what `fields` asks for is added.
 */
export function forwardScanned(
  incoming: Headers,
  scan: RequestScan,
  info: ForwardInfo,
  fields: ForwardFields,
): Headers {
  const headers = new Headers(incoming);
  // RFC 9112 §6.3: with Transfer-Encoding, Content-Length is wrong and must not be forwarded.
  if (scan.transferEncoding && scan.contentLength !== null) headers.delete("content-length");
  if (scan.connection !== null) stripNamed(headers, scan.connection);
  // Host, CF-Connecting-IP, X-Real-IP, X-Forwarded-Host and X-LB-Successor (values an origin may
  // trust: only ever ours) go with the hop-by-hop fields.
  for (let i = 0; i < DROPPED.length; i++) if ((scan.present & (1 << i)) !== 0) headers.delete(DROPPED[i]!);
  if (info.clientIp !== null) {
    if (fields.forwardedFor) {
      // A field the client's Connection names is gone: read it again only then.
      // Trimmed as a copied Headers would hold it: duplicates joined with an empty last one end in ", ".
      const prior = (scan.connection === null ? scan.forwardedFor : headers.get("x-forwarded-for"))?.trim() ?? "";
      headers.set("x-forwarded-for", prior === "" ? info.clientIp : `${prior}, ${info.clientIp}`);
    }
    if (fields.realIp) headers.set("x-real-ip", info.clientIp);
  }
  if (fields.proto) headers.set("x-forwarded-proto", info.proto);
  if (fields.host) headers.set("x-forwarded-host", info.host);
  return headers;
}

/** The response headers passed back to the client: the origin's minus hop-by-hop fields. */
export function responseHeaders(fromOrigin: Headers): Headers {
  const headers = new Headers(fromOrigin);
  stripHopByHop(headers);
  return headers;
}
