/**
 * Whether ADMIN_TOKEN is usable at all: pure rules, no crypto, so `npm run check` applies the
 * same ones under Node before a deploy.
 */

/** Shorter tokens are treated as unset: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Least estimated entropy (bits) of a token: its length × the Shannon entropy of its characters.
 * `aaaaaaaaaaaaaaaa` has 0, `openssl rand -hex 16` about 110, any 16 characters drawn at random
 * from the 62 letters and digits about 60. A guess at strength, not a proof: it refuses only tokens
 * that are obviously not random.
 */
export const MIN_TOKEN_BITS = 48;

/** The configured token, or why the admin API is closed. */
export function adminSecret(raw: unknown): { readonly token: string } | { readonly closed: string } {
  if (typeof raw !== "string" || raw.trim() === "") {
    return { closed: "the admin API is closed: ADMIN_TOKEN is not set (wrangler secret put ADMIN_TOKEN)" };
  }
  // A bearer header carries no spaces (RFC 6750 §2.1): a token with one could be typed at the
  // login form but never sent by a script.
  if (!/^[\x21-\x7e]+$/.test(raw)) {
    return { closed: "the admin API is closed: ADMIN_TOKEN must be printable ASCII without spaces" };
  }
  if (raw.length < MIN_TOKEN_LENGTH) {
    return { closed: `the admin API is closed: ADMIN_TOKEN is shorter than ${MIN_TOKEN_LENGTH} characters` };
  }
  if (tokenBits(raw) < MIN_TOKEN_BITS) {
    return {
      closed: `the admin API is closed: ADMIN_TOKEN is too predictable (under ${MIN_TOKEN_BITS} bits; use openssl rand -hex 32)`,
    };
  }
  return { token: raw };
}

/** Length × the Shannon entropy (bits per character) of the token's own character frequencies. */
export function tokenBits(token: string): number {
  const counts = new Map<string, number>();
  for (const ch of token) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / token.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * token.length;
}
