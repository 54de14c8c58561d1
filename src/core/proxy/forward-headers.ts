/**
 * Header rules for proxying: hop-by-hop fields are dropped in both directions and the origin is
 * told who the client is. Pure: works on the standard `Headers` class only.
 */

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1, plus `Proxy-Connection` and `Keep-Alive` seen in the wild
 * and the proxy authentication fields of RFC 9110 §11.7, which belong to the hop they were sent on).
 */
export const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
] as const;

/** A field name is an RFC 9110 §5.1 token; anything else cannot name a field (and Headers would throw). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Removes the hop-by-hop fields, and every field the `Connection` header names (RFC 9110 §7.6.1). */
export function stripHopByHop(headers: Headers): void {
  const connection = headers.get("connection");
  if (connection !== null) {
    for (const token of connection.split(",")) {
      const name = token.trim();
      if (FIELD_NAME.test(name)) headers.delete(name);
    }
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
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

/**
 * Builds the headers sent to an origin: the client's fields minus hop-by-hop ones, minus `Host`
 * (the runtime sets it from the origin URL), `CF-Connecting-IP` (workerd strips it from
 * subrequests anyway) and any client-sent `X-Real-IP`, plus `X-Forwarded-For` (appended), `X-Real-IP`, `X-Forwarded-Proto` and
 * `X-Forwarded-Host`. The additions come after the strip, so a client's `Connection` header
 * cannot remove them.
 */
export function forwardHeaders(incoming: Headers, info: ForwardInfo): Headers {
  const headers = new Headers(incoming);
  // RFC 9112 §6.3: with Transfer-Encoding, Content-Length is wrong and must not be forwarded.
  if (headers.has("transfer-encoding")) headers.delete("content-length");
  stripHopByHop(headers);
  headers.delete("host");
  headers.delete("cf-connecting-ip");
  // X-Real-IP is a single value the origin may trust: only ever the one the proxy sets.
  headers.delete("x-real-ip");
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

/** The response headers passed back to the client: the origin's minus hop-by-hop fields. */
export function responseHeaders(fromOrigin: Headers): Headers {
  const headers = new Headers(fromOrigin);
  stripHopByHop(headers);
  return headers;
}
