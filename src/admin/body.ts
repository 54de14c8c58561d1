/**
 * Request bodies of the admin API: JSON only, and never more than ADMIN_MAX_BODY_BYTES buffered,
 * whatever Content-Length claims (a chunked body has none).
 */

/** The body's bytes, or why it was refused. */
export type BodyResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly status: 400 | 413; readonly field: string; readonly error: string };

/**
 * Reads at most `limit` bytes of the body. A Content-Length above the limit is refused before
 * anything is read; the bytes are counted as they arrive too, and the stream is cancelled as soon
 * as it passes the limit.
 */
export async function readBody(request: Request, limit: number): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, field: "body", error: `is larger than ${limit} bytes` } as const;
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    // RFC 9112 §6.3: a malformed length is an error, not something to guess around.
    if (!/^\d{1,16}$/.test(declared.trim())) {
      return { ok: false, status: 400, field: "Content-Length", error: "is not a byte count" };
    }
    if (Number(declared) > limit) return tooLarge;
  }
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return tooLarge;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}

/** True for `application/json` and `application/<anything>+json` (RFC 6839 §3.1), any parameters. */
export function isJsonType(header: string | null): boolean {
  if (header === null) return false;
  const type = header.split(";", 1)[0]!.trim().toLowerCase();
  return type === "application/json" || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** Parses JSON bytes; a syntax error or invalid UTF-8 names the field "body". */
export function parseJson(
  bytes: Uint8Array,
): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string } {
  try {
    return {
      ok: true,
      value: JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)) as unknown,
    };
  } catch {
    return { ok: false, error: "is not valid JSON" };
  }
}
