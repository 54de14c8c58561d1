/**
 * Sends a request to its primary origin and, when that fails in a way that is safe to retry, to
 * the next ring successor (DESIGN.md: "Retries are safe"). Every attempt has its own timeout;
 * one deadline bounds them all; every attempt goes to a different origin.
 */
import type { Settings } from "../core/config.ts";
import { forwardHeaders, responseHeaders, type ForwardInfo } from "../core/forward-headers.ts";
import { shouldRetry, type AttemptOutcome } from "../core/retry.ts";
import type { OriginRecord } from "../core/routing-table.ts";
import { targetUrl } from "../core/target-url.ts";

/** One attempt: which origin, and how it ended. */
export interface Attempt {
  readonly originId: string;
  readonly outcome: AttemptOutcome;
}

/** The response for the client and the attempts behind it. */
export interface ProxyResult {
  readonly response: Response;
  readonly attempts: readonly Attempt[];
}

/** IO the proxy needs; defaults are the runtime's. */
export interface ProxyDeps {
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

const DEFAULT_DEPS: ProxyDeps = {
  fetch: (input, init) => fetch(input, init),
  now: Date.now,
};

/** A short error response: no origin URL, no stack trace. */
export function errorResponse(status: 502 | 503 | 504, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
    },
  });
}

/**
 * Proxies `request` to `candidates` in order (primary first). Bodies up to REPLAY_BODY_LIMIT
 * with a declared length are buffered so that a retry can resend them; other bodies stream
 * through and are never retried.
 */
export async function proxyRequest(
  request: Request,
  url: URL,
  candidates: readonly OriginRecord[],
  settings: Settings,
  info: ForwardInfo,
  deps: ProxyDeps = DEFAULT_DEPS,
): Promise<ProxyResult> {
  if (candidates.length === 0) return { response: errorResponse(503, "no healthy origin"), attempts: [] };
  const method = request.method;
  const { body, replayable } = await prepareBody(request, settings.replayBodyLimit);
  const headers = forwardHeaders(request.headers, info);
  const deadline = deps.now() + settings.requestDeadlineMs;
  const tries = Math.min(settings.maxAttempts, candidates.length);
  const attempts: Attempt[] = [];

  for (let i = 0; i < tries; i++) {
    const origin = candidates[i]!;
    const budget = Math.min(settings.tryTimeoutMs, deadline - deps.now());
    if (budget <= 0) break;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), budget);
    let response: Response | null = null;
    let outcome: AttemptOutcome;
    try {
      response = await deps.fetch(targetUrl(origin.url, url.pathname, url.search), {
        method,
        headers,
        body,
        redirect: "manual",
        signal: controller.signal,
      });
      outcome = { kind: "response", status: response.status };
    } catch {
      outcome = controller.signal.aborted ? { kind: "timeout" } : { kind: "network-error" };
    } finally {
      // Only the wait for response headers is bounded; a long body keeps streaming.
      clearTimeout(timer);
    }
    attempts.push({ originId: origin.id, outcome });
    const last = i === tries - 1;
    if (response !== null && (last || !shouldRetry(method, outcome, replayable))) {
      return { response: clientResponse(response, method), attempts };
    }
    if (response === null && !shouldRetry(method, outcome, replayable)) break;
    // Free the connection before the next attempt (at most six per request are open at once).
    await response?.body?.cancel().catch(() => undefined);
  }
  const timedOut = attempts.length === 0 || attempts[attempts.length - 1]!.outcome.kind === "timeout";
  return {
    response: timedOut ? errorResponse(504, "origin timed out") : errorResponse(502, "origin failed"),
    attempts,
  };
}

async function prepareBody(request: Request, limit: number): Promise<{ body: BodyInit | null; replayable: boolean }> {
  if (request.body === null || request.method === "GET" || request.method === "HEAD")
    return { body: null, replayable: true };
  // Trust Content-Length only without Transfer-Encoding (RFC 9112 §6.3).
  const declared = request.headers.has("transfer-encoding") ? null : request.headers.get("content-length");
  const length = declared !== null && /^\d+$/.test(declared) ? Number(declared) : NaN;
  if (length <= limit) return { body: await request.arrayBuffer(), replayable: true };
  return { body: request.body, replayable: false };
}

function clientResponse(response: Response, method: string): Response {
  const headers = responseHeaders(response.headers);
  // RFC 9110 §6.4.1: HEAD, 204 and 304 carry no content.
  const bodyless = method === "HEAD" || response.status === 204 || response.status === 304;
  return new Response(bodyless ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
