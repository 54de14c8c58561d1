/**
 * The request body of a proxied request, prepared once for all its attempts (README "Retries": a
 * body that was not buffered is never retried).
 */
import type { Settings } from "../core/config/settings.ts";
import { bodyCounter, scannedLength } from "../core/proxy/request-limits.ts";
import type { RequestScan } from "../core/proxy/request-scan.ts";

/** A request body as the attempts send it. */
export interface PreparedBody {
  /** The whole body, read once, for bodies that may be replayed; null when it streams. */
  readonly buffered: Promise<ArrayBuffer> | null;
  readonly stream: ReadableStream | null;
  readonly replayable: boolean;
  /** True once a streamed body of unknown length went past MAX_BODY_BYTES. */
  readonly exceeded: () => boolean;
}

const NEVER = () => false;
// Shared by every request without a body (most are GETs): nothing in it changes.
const NO_BODY: PreparedBody = Object.freeze({ buffered: null, stream: null, replayable: true, exceeded: NEVER });

/**
 * How `request`'s body is sent: buffered when it may be replayed (a declared length up to
 * REPLAY_BODY_LIMIT), else streamed, and counted against MAX_BODY_BYTES when its length is unknown.
 */
export function prepareBody(request: Request, method: string, settings: Settings, scan: RequestScan): PreparedBody {
  if (method === "GET" || method === "HEAD" || request.body === null) return NO_BODY;
  // The entry has refused invalid lengths and declared lengths over MAX_BODY_BYTES already.
  const declared = scannedLength(scan);
  if (typeof declared === "number" && declared <= settings.replayBodyLimit) {
    return { buffered: request.arrayBuffer(), stream: null, replayable: true, exceeded: NEVER };
  }
  if (typeof declared === "number") return { buffered: null, stream: request.body, replayable: false, exceeded: NEVER };
  // Unknown length (chunked): count as it streams, and stop the upload past the limit.
  let exceeded = false;
  const fits = bodyCounter(settings.maxBodyBytes);
  const counted = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (fits(chunk.byteLength)) controller.enqueue(chunk);
        else {
          exceeded = true;
          controller.error(new Error("request body too large"));
        }
      },
    }),
  );
  return { buffered: null, stream: counted, replayable: false, exceeded: () => exceeded };
}
