/**
 * The parts of a request's URL the request path reads (origin, path, query), cut from the
 * serialized URL instead of parsed: `new URL` and its two getters are calls into the runtime
 * (0.7 µs in a warm loop, bench/api-cost.md; this function costs 0.2 µs per request in `npm run
 * profile`), for text that is already there.
 *
 * Why it is safe: the runtime gives `request.url` as a WHATWG-serialized absolute URL (workerd
 * normalizes dot segments, backslashes and percent-encoding before the Worker sees it:
 * test/e2e/request-url.test.ts sends raw request lines and checks it), and a serialized http(s) URL
 * is `scheme://host[:port]` + a path that starts with "/" + `?query` + `#fragment`, where neither the
 * path nor the query holds a raw "?" or "#" that would end it early. Anything of another shape
 * (another scheme, userinfo) is parsed by `URL` as before. Tested against `URL` itself
 * (test/core/proxy/request-url.test.ts).
 */

/** What `URL` would give for these three getters. */
export interface RequestUrl {
  /** `scheme://host[:port]`: URL.origin. */
  readonly origin: string;
  /** Starts with "/": URL.pathname. */
  readonly pathname: string;
  /** "" or "?" and a non-empty query: URL.search. */
  readonly search: string;
}

/** The origin, path and query of a serialized URL (`request.url`). */
export function splitRequestUrl(href: string): RequestUrl {
  const start = href.startsWith("https://") ? 8 : href.startsWith("http://") ? 7 : -1;
  const slash = start < 0 ? -1 : href.indexOf("/", start);
  // userinfo (never in a request the runtime received, but not ours to rule out) is not part of the origin.
  if (slash < 0 || href.lastIndexOf("@", slash) >= start) return parsed(href);
  const fragment = href.indexOf("#", slash);
  const end = fragment < 0 ? href.length : fragment;
  const query = href.indexOf("?", slash);
  if (query < 0 || query >= end) return { origin: href.slice(0, slash), pathname: href.slice(slash, end), search: "" };
  return {
    origin: href.slice(0, slash),
    pathname: href.slice(slash, query),
    // URL.search is "" for an empty query ("/?" and "/").
    search: query + 1 === end ? "" : href.slice(query, end),
  };
}

function parsed(href: string): RequestUrl {
  const url = new URL(href);
  return { origin: url.origin, pathname: url.pathname, search: url.search };
}

/** The host (and port) of an origin `splitRequestUrl` gave: URL.host. */
export function originHost(origin: string): string {
  const authority = origin.indexOf("//");
  return authority < 0 ? "" : origin.slice(authority + 2);
}
