/**
 * The affinity cookie that pins one user of a split key (a NAT address spread over several origins,
 * README "Load-aware placement") to one of the placement's targets. Its value says which key it is
 * for (the key's hash), which target (index and origin id) and until when, signed with HMAC-SHA-256
 * (RFC 2104) so a client can neither forge a pin nor move itself to another origin:
 *
 *   1.<key hash, 8 hex>.<target index>.<origin id, base64url>.<expiry, s since the epoch>.<MAC, base64url>
 *
 * The MAC is the first 128 bits of HMAC-SHA-256 over everything before it (RFC 2104 §5 allows
 * truncation to half the output), compared in constant time. The key is AFFINITY_COOKIE_SECRET
 * when set, else derived from ADMIN_TOKEN with a label of its own (so a MAC is never usable as, or
 * against, the token); with neither there is no key and no cookie is issued or trusted.
 */

/** What a valid cookie says. */
export interface AffinityPin {
  readonly keyHash: number;
  readonly index: number;
  readonly origin: string;
  /** Seconds since the Unix epoch. */
  readonly expiresAt: number;
}

/** A cookie's verdict: its pin, or why it is not trusted. */
export type PinCheck =
  { readonly ok: true; readonly pin: AffinityPin } | { readonly ok: false; readonly reason: "forged" | "expired" };

const encoder = new TextEncoder();
const MAC_BYTES = 16;
let keyFor: { secret: string; key: Promise<CryptoKey> } | null = null;

/** The signing key for these variables (imported once per secret), or null when there is no secret. */
export function cookieKey(vars: Readonly<Record<string, unknown>>): Promise<CryptoKey> | null {
  const own = vars.AFFINITY_COOKIE_SECRET;
  const token = vars.ADMIN_TOKEN;
  const secret =
    typeof own === "string" && own !== ""
      ? `own:${own}`
      : typeof token === "string" && token !== ""
        ? `derived:${token}`
        : null;
  if (secret === null) return null;
  if (keyFor === null || keyFor.secret !== secret) {
    const key = (async () => {
      // Derived: the key is SHA-256 of a label and the token, never the token itself.
      const raw = await crypto.subtle.digest("SHA-256", encoder.encode(`edge-affinity-lb affinity cookie\n${secret}`));
      return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    })();
    keyFor = { secret, key };
  }
  return keyFor.key;
}

/** The cookie value for `pin`. */
export async function signPin(key: CryptoKey, pin: AffinityPin): Promise<string> {
  const body = `1.${(pin.keyHash >>> 0).toString(16).padStart(8, "0")}.${pin.index}.${base64url(encoder.encode(pin.origin))}.${pin.expiresAt}`;
  return `${body}.${base64url(await mac(key, body))}`;
}

/** Checks a cookie value at `nowS` (seconds): its pin when the MAC is right and it has not expired. */
export async function checkPin(key: CryptoKey, value: string, nowS: number): Promise<PinCheck> {
  const match = /^(1\.([0-9a-f]{8})\.(\d{1,2})\.([A-Za-z0-9_-]{1,88})\.(\d{1,12}))\.([A-Za-z0-9_-]{22})$/.exec(value);
  if (match === null) return { ok: false, reason: "forged" };
  const [, body, hash, index, origin, expires, given] = match;
  const expected = await mac(key, body!);
  const got = fromBase64url(given!);
  if (got === null || got.length !== MAC_BYTES || !crypto.subtle.timingSafeEqual(got, expected)) {
    return { ok: false, reason: "forged" };
  }
  const expiresAt = Number(expires);
  if (expiresAt <= nowS) return { ok: false, reason: "expired" };
  const id = fromBase64url(origin!);
  if (id === null) return { ok: false, reason: "forged" };
  return {
    ok: true,
    pin: { keyHash: parseInt(hash!, 16) >>> 0, index: Number(index), origin: new TextDecoder().decode(id), expiresAt },
  };
}

/** The Set-Cookie line: HttpOnly, SameSite=Lax, Path=/, Max-Age, and Secure when the client used https. */
export function setCookieLine(name: string, value: string, maxAgeS: number, secure: boolean): string {
  return `${name}=${value}; Max-Age=${maxAgeS}; Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

async function mac(key: CryptoKey, body: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body))).subarray(0, MAC_BYTES);
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | null {
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
