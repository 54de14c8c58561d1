// A raw HTTP/1.1 client over node:net: the request goes out byte for byte as given (no client
// library to normalize the target, the method or the header fields), and the first final
// response is read back. A refused, closed or reset connection is an outcome, not an error.
import net from "node:net";

/** How one raw exchange ended. */
export type RawOutcome =
  | {
      readonly kind: "response";
      readonly status: number;
      /** Field lines as received (names lower-cased), in order. */
      readonly headers: readonly (readonly [string, string])[];
      readonly body: Buffer;
      /** True when the connection ended before the framed body was complete. */
      readonly truncated: boolean;
    }
  /** The server closed the connection before a complete status line and header section. */
  | { readonly kind: "closed"; readonly partial: string }
  /** The connection failed (reset, refused, broken pipe) before a response. */
  | { readonly kind: "reset"; readonly error: string }
  /** Nothing final within the time limit. */
  | { readonly kind: "timeout"; readonly status: number | null };

/** The first value of field `name` (lower case) in a response, or null. */
export function headerOf(outcome: RawOutcome, name: string): string | null {
  if (outcome.kind !== "response") return null;
  return outcome.headers.find(([n]) => n === name)?.[1] ?? null;
}

/** Sends `request` to host:port and reads the first final response (RFC 9112 §6.3 framing). */
export function sendRaw(
  host: string,
  port: number,
  request: Buffer,
  options: { method: string; timeoutMs?: number },
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    let head: { status: number; headers: [string, string][]; bodyStart: number } | null = null;
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ kind: "timeout", status: head?.status ?? null }),
      options.timeoutMs ?? 10_000,
    );

    const response = (truncated: boolean): RawOutcome => ({
      kind: "response",
      status: head!.status,
      headers: head!.headers,
      body: decodeBody(head!, received, options.method).body,
      truncated,
    });

    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (head === null) head = parseHead(received);
      if (head !== null && decodeBody(head, received, options.method).complete) finish(response(false));
    });
    socket.on("end", () => finish(ended()));
    socket.on("close", () => finish(ended()));
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish(head !== null ? response(true) : { kind: "reset", error: error.code ?? error.message }),
    );
    // An early answer (400, 413, 431) can close the socket while the body is still being written.
    socket.write(request, () => undefined);

    function ended(): RawOutcome {
      if (head === null) return { kind: "closed", partial: received.subarray(0, 200).toString("latin1") };
      const { complete, untilClose } = decodeBody(head, received, options.method);
      return response(!complete && !untilClose);
    }
  });
}

/** Status line and field lines of the first final response (1xx interim responses skipped, 101 kept). */
function parseHead(data: Buffer): { status: number; headers: [string, string][]; bodyStart: number } | null {
  let start = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", start, "latin1");
    if (end < 0) return null;
    const lines = data.subarray(start, end).toString("latin1").split("\r\n");
    const match = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? "");
    const status = match === null ? 0 : Number(match[1]);
    if (status >= 100 && status < 200 && status !== 101) {
      start = end + 4;
      continue;
    }
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(":");
      return colon < 0
        ? [line.toLowerCase(), ""]
        : [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
    return { status, headers, bodyStart: end + 4 };
  }
}

/** The body so far, and whether its framing says it is complete. */
function decodeBody(
  head: { status: number; headers: [string, string][]; bodyStart: number },
  data: Buffer,
  method: string,
): { body: Buffer; complete: boolean; untilClose: boolean } {
  const raw = data.subarray(head.bodyStart);
  // RFC 9112 §6.3: no content after HEAD, 1xx, 204 and 304.
  if (method === "HEAD" || head.status === 101 || head.status === 204 || head.status === 304) {
    return { body: Buffer.alloc(0), complete: true, untilClose: false };
  }
  const field = (name: string) => head.headers.find(([n]) => n === name)?.[1];
  if (field("transfer-encoding")?.toLowerCase().includes("chunked")) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = raw.indexOf("\r\n", at, "latin1");
      if (lineEnd < 0) return { body: Buffer.concat(parts), complete: false, untilClose: false };
      const size = parseInt(raw.subarray(at, lineEnd).toString("latin1").split(";")[0]!, 16);
      if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false, untilClose: false };
      if (size === 0) {
        // The last chunk, then (no trailers expected) the final CRLF.
        return {
          body: Buffer.concat(parts),
          complete: raw.indexOf("\r\n\r\n", lineEnd, "latin1") >= 0,
          untilClose: false,
        };
      }
      if (raw.length < lineEnd + 2 + size + 2) {
        parts.push(raw.subarray(lineEnd + 2, Math.min(raw.length, lineEnd + 2 + size)));
        return { body: Buffer.concat(parts), complete: false, untilClose: false };
      }
      parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = field("content-length");
  if (length !== undefined && /^\d+$/.test(length)) {
    const n = Number(length);
    return { body: raw.subarray(0, n), complete: raw.length >= n, untilClose: false };
  }
  return { body: raw, complete: false, untilClose: true };
}
