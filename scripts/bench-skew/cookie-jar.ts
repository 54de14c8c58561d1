/**
 * A browser's cookie jar for one user and one site (the proxy under test, on loopback): it stores
 * what `Set-Cookie` sets for the host (RFC 6265: host-only unless `Domain` matches, `Max-Age`
 * before `Expires`, a past expiry deletes, `Path` scopes) and sends back those whose path matches.
 * `Secure` cookies are kept, as browsers keep them for loopback (a potentially trustworthy origin).
 */

interface Stored {
  readonly value: string;
  readonly path: string;
  /** ms since the epoch, or Infinity for a session cookie. */
  readonly expires: number;
}

export class CookieJar {
  readonly #cookies = new Map<string, Stored>();
  /** How many Set-Cookie headers were stored, and how many refused (wrong domain, malformed). */
  stored = 0;
  refused = 0;

  readonly host: string;

  constructor(host: string) {
    this.host = host;
  }

  /** The `Cookie` header for a request to `path`, or undefined when none applies. */
  header(path: string, now = Date.now()): string | undefined {
    const pairs: string[] = [];
    for (const [name, c] of this.#cookies) {
      if (c.expires <= now) {
        this.#cookies.delete(name);
        continue;
      }
      const p = path.split("?")[0]!;
      if (p === c.path || (p.startsWith(c.path) && (c.path.endsWith("/") || p[c.path.length] === "/")))
        pairs.push(`${name}=${c.value}`);
    }
    return pairs.length > 0 ? pairs.join("; ") : undefined;
  }

  /** Stores the response's `Set-Cookie` headers (Node gives them as an array). */
  store(setCookie: readonly string[] | undefined, requestPath: string, now = Date.now()): void {
    for (const line of setCookie ?? []) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = eq > 0 ? pair!.slice(0, eq).trim() : "";
      if (name === "") {
        this.refused++;
        continue;
      }
      const value = pair!.slice(eq + 1).trim();
      const dir = requestPath.split("?")[0]!.replace(/\/[^/]*$/, "");
      let path = dir === "" ? "/" : dir;
      let expires = Infinity;
      let maxAge: number | null = null;
      let ok = true;
      for (const attribute of attributes) {
        const i = attribute.indexOf("=");
        const key = (i < 0 ? attribute : attribute.slice(0, i)).trim().toLowerCase();
        const v = i < 0 ? "" : attribute.slice(i + 1).trim();
        if (key === "path" && v.startsWith("/")) path = v;
        else if (key === "max-age" && /^-?\d+$/.test(v)) maxAge = Number(v);
        else if (key === "expires" && !Number.isNaN(Date.parse(v))) expires = Date.parse(v);
        else if (key === "domain" && v !== "") {
          const d = v.replace(/^\./, "").toLowerCase();
          if (this.host !== d && !this.host.endsWith(`.${d}`)) ok = false;
        }
      }
      if (!ok) {
        this.refused++;
        continue;
      }
      if (maxAge !== null) expires = maxAge <= 0 ? -Infinity : now + maxAge * 1000;
      this.stored++;
      if (expires <= now) this.#cookies.delete(name);
      else this.#cookies.set(name, { value, path, expires });
    }
  }

  get size(): number {
    return this.#cookies.size;
  }
}
