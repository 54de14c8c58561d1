/**
 * What an origin URL entered through the admin API may be (README "Admin API"). These rules keep
 * out mistakes and the obvious local names; they are not what keeps a deployed Worker from
 * reaching private networks. Public wildcard-DNS names (`127.0.0.1.nip.io`, `localtest.me`)
 * resolve to anything, and no spelling check can know: production safety rests on Cloudflare
 * refusing to connect a Worker's fetch to private and loopback destinations.
 */

/** How strict the API is about origin URLs (README "Admin API"). */
export interface AdminUrlRules {
  /** ADMIN_ALLOW_LOCAL_ORIGINS: local development only; lifts every rule below except "no userinfo". */
  readonly allowLocal: boolean;
  /** ADMIN_ALLOWED_PORTS: explicit ports an origin URL may name (443 is https's own). */
  readonly allowedPorts: readonly number[];
}

// Names that resolve to the machine itself or to a private network, by convention or by RFC:
// localhost (RFC 6761), .local (mDNS, RFC 6762), .internal (ICANN 2024 reservation), .home.arpa
// (RFC 8375), .lan, .intranet and .localdomain (common private suffixes; `localhost.localdomain`
// names the machine itself on many systems).
const PRIVATE_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "lan", "intranet", "localdomain"];

// RFC 1123 §2.1 (and RFC 952): a label is 1-63 letters, digits and hyphens, neither starting nor
// ending with a hyphen; the name is at most 253 characters without its one optional final dot.
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why `text` may not be an origin URL entered through the admin API, or null when it may.
 * Checked after the WHATWG URL parser has normalized it, so `http://2130706433/` (which it reads
 * as 127.0.0.1) is seen as the IP literal it is.
 */
export function checkAdminUrl(text: string, rules: AdminUrlRules): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL";
  }
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password";
  if (rules.allowLocal) return null;
  if (url.protocol !== "https:") return "must use https (ADMIN_ALLOW_LOCAL_ORIGINS allows http for local development)";
  const host = url.hostname.toLowerCase();
  if (host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    return "must name a host, not an IP address (a deployed Worker cannot fetch IP addresses)";
  }
  // The final dot of an absolute name comes off before any other check, so `vm.` is one label.
  const bare = host.endsWith(".") ? host.slice(0, -1) : host;
  const labels = bare.split(".");
  if (bare.length > 253 || !labels.every((label) => LABEL.test(label))) {
    return "must be a host name of labels of 1-63 letters, digits and inner hyphens, separated by single dots (RFC 1123)";
  }
  if (labels.length < 2) return "must be a fully qualified host name (at least two labels, like origin.example.com)";
  // An all-numeric last label is an IP address in some other spelling, never a top-level domain.
  if (/^\d+$/.test(labels.at(-1)!)) return "must name a host, not an IP address";
  for (const suffix of PRIVATE_SUFFIXES) {
    if (bare === suffix || bare.endsWith(`.${suffix}`)) return `must not be a local or private name (.${suffix})`;
  }
  if (url.port !== "" && !rules.allowedPorts.includes(Number(url.port))) {
    return `port ${url.port} is not in ADMIN_ALLOWED_PORTS (${rules.allowedPorts.join(", ")})`;
  }
  return null;
}
