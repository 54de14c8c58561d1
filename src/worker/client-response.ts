/**
 * The client's side of a proxied exchange: what of the origin's response reaches the client
 * (README "What the origin receives": responses are passed through unless something must change).
 */
import type { Settings } from "../core/config/settings.ts";
import { responseHeaders, responseNeedsStrip } from "../core/proxy/forward-headers.ts";
import { appendVia } from "../core/proxy/forwarded.ts";

/** What the response depends on besides the origin's answer. */
export interface ResponseContext {
  readonly settings: Settings;
  /** The routing table's epoch (a debug header). */
  readonly epoch: number;
  /** The pool an origin belongs to (a debug header; "" is the catch-all pool). */
  readonly poolOf?: (originId: string) => string;
}

/**
 * The response the client gets for the origin's `response` (whose `status` the caller has read):
 * passed through as it is, or rebuilt without the hop-by-hop fields that must not reach the client,
 * without a body where none may be, and with `Via` (VIA_RESPONSE) or the debug headers added.
 */
export function clientResponse(
  response: Response,
  status: number,
  method: string,
  context: ResponseContext,
  attempts: readonly { readonly originId: string }[],
): Response {
  const { settings } = context;
  // RFC 9110 §6.4.1: HEAD, 204 and 304 carry no content.
  const bodyless = method === "HEAD" || status === 204 || status === 304;
  const fromOrigin = response.headers;
  // Passed through as the origin sent it when nothing in it must change: rebuilding a response
  // costs about 5 µs of the isolate's thread and 2.4 % of throughput (README "What the origin
  // receives"), and workerd itself drops Connection, Keep-Alive, Upgrade, TE and Trailer from
  // what it passes on.
  if (
    !settings.viaResponse &&
    !settings.debugHeaders &&
    !(bodyless && response.body !== null) &&
    !responseNeedsStrip(fromOrigin, status)
  )
    return response;
  const headers = responseHeaders(fromOrigin);
  // RFC 9110 §7.6.3: a proxy adds itself to Via in both directions (VIA_RESPONSE; off by default,
  // as in HAProxy and nginx: the request's Via is what detects loops).
  if (settings.viaResponse) headers.set("via", appendVia(fromOrigin.get("via"), settings.viaPseudonym));
  if (settings.debugHeaders) {
    headers.set("x-lb-origin", attempts[attempts.length - 1]!.originId);
    headers.set("x-lb-attempts", String(attempts.length));
    headers.set("x-lb-epoch", String(context.epoch));
    if (context.poolOf !== undefined) headers.set("x-lb-pool", context.poolOf(attempts[attempts.length - 1]!.originId));
  }
  return new Response(bodyless ? null : response.body, {
    status,
    statusText: response.statusText,
    headers,
  });
}
