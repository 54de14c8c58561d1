/**
 * Joins a request's path and query onto an origin's base URL so that no path can change the host
 * that is contacted (DESIGN.md: "Never an open proxy").
 *
 * Why not `new URL(path, base)`: RFC 3986 §5.2 resolves a reference that starts with "//" as a
 * network-path reference, so `//evil.example/x` would replace the host; WHATWG URL also reads
 * `/\evil.example` that way for special schemes. Concatenating after the authority cannot do that:
 * the base ends with the authority (and an optional base path), the appended part starts with "/",
 * and an authority ends at the first "/" (RFC 3986 §3.2), so whatever follows is path.
 */

/**
 * The URL for one attempt. `base` is a normalized origin URL ("https://host[:port][/path]", no
 * trailing slash); `pathname` and `search` come from the runtime's parsed request URL, which has
 * already percent-encoded everything that is not allowed in a path or query.
 */
export function targetUrl(base: string, pathname: string, search: string): string {
  // A parsed URL's pathname always starts with "/"; the guard keeps the invariant explicit.
  const path = pathname.charCodeAt(0) === 47 ? pathname : `/${pathname}`;
  return base + path + search;
}
