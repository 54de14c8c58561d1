/**
 * Comparing against the one secret, ADMIN_TOKEN (token-rules.ts says whether it is usable at all):
 * every comparison hashes both sides and compares the digests in constant time.
 */

const encoder = new TextEncoder();

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/**
 * True when `given` equals `secret`, in time independent of where they differ: both are hashed
 * first, so the comparison sees two 32-byte digests whatever the lengths (no early exit on a
 * length mismatch either), and `timingSafeEqual` compares every byte.
 */
export async function sameSecret(given: string, secret: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(secret)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** The first 8 hex digits of the token's SHA-256: tells tokens apart in the audit log without revealing one. */
export async function tokenFingerprint(token: string): Promise<string> {
  return hex(await sha256(token)).slice(0, 8);
}

export function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
