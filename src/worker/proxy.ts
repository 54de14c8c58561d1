/**
 * Sends a request to its primary origin and, when that fails in a way that is safe to retry, to
 * the next ring successor (DESIGN.md: "Retries are safe"). Every attempt has its own timeout;
 * one deadline bounds them all; every attempt goes to a different origin; retries are capped by a
 * per-isolate budget. Bodies stream in both directions; WebSocket upgrades go to the primary only.
 */
import type { Settings } from "../core/config/settings.ts";
import { forwardScanned, type ForwardInfo } from "../core/proxy/forward-headers.ts";
import { appendForwarded, appendVia, forwardedElement } from "../core/proxy/forwarded.ts";
import type { RequestScan } from "../core/proxy/request-scan.ts";
import { shouldRetry, type AttemptOutcome } from "../core/proxy/retry.ts";
import {
  budgetUsage,
  createRetryBudget,
  recordRequest,
  tryAcquireRetry,
  type RetryBudget,
  type RetryBudgetSettings,
} from "../core/proxy/retry-budget.ts";
import {
  clientMayRetry,
  countClientRetry,
  createClientRetryShare,
  type ClientShareSettings,
} from "../core/proxy/client-retry-share.ts";
import type { OriginRecord } from "../core/model.ts";
import { targetUrl } from "../core/proxy/target-url.ts";
import { clientResponse, type ResponseContext } from "./client-response.ts";
import { prepareBody } from "./request-body.ts";

/** One attempt: which origin, and how it ended. */
export interface Attempt {
  readonly originId: string;
  readonly outcome: AttemptOutcome;
}

/** The response for the client, its status (read once: each getter is a call into the runtime) and the attempts behind it. */
export interface ProxyResult {
  readonly response: Response;
  readonly status: number;
  readonly attempts: readonly Attempt[];
}

/** IO the proxy needs; defaults are the runtime's. */
export interface ProxyDeps {
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

/** What the proxy needs besides the request. */
export interface ProxyContext extends ResponseContext {
  readonly info: ForwardInfo;
  /** The request's headers, as the caller got them (request.headers is a call into the runtime). */
  readonly headers: Headers;
  /** The request's header fields, read once (request-scan.ts). */
  readonly scan: RequestScan;
  /** The request URL's path and query, as the caller read them (each URL getter is a call into the runtime). */
  readonly pathname: string;
  readonly search: string;
  /** The client address's hash: its share of the retry budget is counted by it. */
  readonly clientHash: number;
  /** When the request path read the clock (ms since the Unix epoch); `deps.now()` when absent. */
  readonly startedAt?: number;
}

/** Tells the origin which origin is the client's next one on the ring (for session replication). */
export const SUCCESSOR_HEADER = "x-lb-successor";

const DEFAULT_DEPS: ProxyDeps = { fetch: (input, init) => fetch(input, init), now: Date.now };

// Per isolate: retries in the last window against requests in it.
let budget: RetryBudget = createRetryBudget();
let shares = createClientRetryShare();

/** Forgets the retry budget (tests only: module scope outlives a test). */
export function resetRetryBudget(): void {
  budget = createRetryBudget();
  shares = createClientRetryShare();
}

/** A short error response: no origin URL, no stack trace. */
export function errorResponse(status: 400 | 413 | 414 | 431 | 502 | 503 | 504 | 508, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/** True for a WebSocket upgrade request (RFC 6455 §4.1). */
export function isWebSocketUpgrade(scan: RequestScan): boolean {
  return scan.upgrade !== null && scan.upgrade.toLowerCase() === "websocket";
}

/**
 * Proxies `request` to `candidates` in order (primary first). Bodies up to REPLAY_BODY_LIMIT with
 * a declared length are buffered so a retry can resend them; other bodies stream through, are
 * counted against MAX_BODY_BYTES when their length is unknown, and are never retried.
 */
export async function proxyRequest(
  request: Request,
  candidates: readonly OriginRecord[],
  context: ProxyContext,
  deps: ProxyDeps = DEFAULT_DEPS,
): Promise<ProxyResult> {
  if (candidates.length === 0) return failed(503, "no healthy origin", []);
  const { settings } = context;
  const headers = originHeaders(context);
  if (isWebSocketUpgrade(context.scan)) return proxyWebSocket(request, candidates[0]!, headers, context, deps);

  // Each clock reading is a call into the runtime: the caller's is used until something is awaited.
  let now = context.startedAt ?? deps.now();
  recordRequest(budget, budgetSettings(settings).value, now);
  const method = request.method;
  const body = prepareBody(request, method, settings, context.scan);
  let payload: ReadableStream | ArrayBuffer | null = body.stream;
  if (body.buffered !== null) {
    payload = await body.buffered;
    now = deps.now();
  }
  const deadline = now + settings.requestDeadlineMs;
  const tries = Math.min(settings.maxAttempts, candidates.length);
  const attempts: Attempt[] = [];
  const { pathname, search } = context;

  for (let i = 0; i < tries; i++) {
    const origin = candidates[i]!;
    const remaining = i === 0 ? settings.requestDeadlineMs : deadline - deps.now();
    if (remaining <= 0) break;
    if (settings.forwardFields.successor) {
      const successor = candidates[i + 1];
      if (successor === undefined) headers.delete(SUCCESSOR_HEADER);
      else headers.set(SUCCESSOR_HEADER, successor.id);
    }
    // The wait for the response headers is bounded; a body still streaming when the signal fires
    // is not cut, since workerd pipes it to the client itself and nothing here reads it
    // (test/e2e/proxy.test.ts: "a body still streaming when TRY_TIMEOUT_MS has passed arrives whole").
    const signal = AbortSignal.timeout(Math.min(settings.tryTimeoutMs, remaining));
    let response: Response | null = null;
    let status = 0;
    let outcome: AttemptOutcome;
    try {
      response = await deps.fetch(targetUrl(origin.url, pathname, search), {
        method,
        headers,
        body: payload,
        redirect: "manual",
        signal,
      });
      status = response.status;
      outcome = { kind: "response", status };
    } catch {
      outcome = signal.aborted ? { kind: "timeout" } : { kind: "network-error" };
    }
    attempts.push({ originId: origin.id, outcome });
    if (body.exceeded()) {
      await response?.body?.cancel().catch(() => undefined);
      return failed(413, "request body too large", attempts);
    }
    // The budget is asked last, so a refused retry hands the client this attempt's own answer.
    const retry =
      i < tries - 1 &&
      shouldRetry(method, outcome, body.replayable) &&
      acquireRetry(settings, context.clientHash, deps.now());
    if (response !== null && !retry)
      return { response: clientResponse(response, status, method, context, attempts), status, attempts };
    if (!retry) break;
    // Free the connection before the next attempt (at most six per request are open at once).
    await response?.body?.cancel().catch(() => undefined);
  }
  const last = attempts[attempts.length - 1];
  const timedOut = last === undefined || last.outcome.kind === "timeout";
  return failed(timedOut ? 504 : 502, timedOut ? "origin timed out" : "origin failed", attempts);
}

/** The balancer's own short answer, and the attempts that led to it. */
function failed(status: 413 | 502 | 503 | 504, text: string, attempts: readonly Attempt[]): ProxyResult {
  return { response: errorResponse(status, text), status, attempts };
}

/** The request headers every attempt sends (the successor hint is set per attempt). */
function originHeaders({ info, settings, scan, headers: incoming }: ProxyContext): Headers {
  const headers = forwardScanned(incoming, scan, info, settings.forwardFields);
  // Appended to what survived the hop-by-hop strip (a client's Connection may name these fields,
  // RFC 9110 §7.6.1: only then are they read again) and set after it, so our own entries are never removed.
  const stripped = scan.connection !== null;
  if (settings.forwardFields.forwarded) {
    const forwarded = stripped ? headers.get("forwarded") : scan.forwarded;
    headers.set("forwarded", appendForwarded(forwarded, forwardedElement(info)));
  }
  // Always: our name in Via is how a request that comes back through us is refused (508).
  headers.set("via", appendVia(stripped ? headers.get("via") : scan.via, settings.viaPseudonym));
  // The origin's proof that the request came through us: whatever the client sent under that
  // name is replaced, never forwarded.
  if (settings.originAuth !== null) headers.set(settings.originAuth.header, settings.originAuth.secret);
  return headers;
}

/** An upgrade goes to the primary only: a WebSocket is a session, so it stays pinned and is never retried. */
async function proxyWebSocket(
  request: Request,
  origin: OriginRecord,
  headers: Headers,
  context: ProxyContext,
  deps: ProxyDeps,
): Promise<ProxyResult> {
  headers.set("upgrade", "websocket");
  let outcome: AttemptOutcome;
  try {
    const response = await deps.fetch(targetUrl(origin.url, context.pathname, context.search), {
      method: request.method,
      headers,
      signal: AbortSignal.timeout(Math.min(context.settings.tryTimeoutMs, context.settings.requestDeadlineMs)),
    });
    const status = response.status;
    outcome = { kind: "response", status };
    const attempts = [{ originId: origin.id, outcome }];
    if (response.webSocket !== null) {
      return { response: new Response(null, { status: 101, webSocket: response.webSocket }), status: 101, attempts };
    }
    return { response: clientResponse(response, status, request.method, context, attempts), status, attempts };
  } catch (error) {
    outcome = error instanceof Error && error.name === "TimeoutError" ? { kind: "timeout" } : { kind: "network-error" };
    const attempts = [{ originId: origin.id, outcome }];
    const timedOut = outcome.kind === "timeout";
    return failed(timedOut ? 504 : 502, timedOut ? "origin timed out" : "origin failed", attempts);
  }
}

/** One retry from the isolate's budget, if the client has not used up its share of it. */
function acquireRetry(settings: Settings, clientHash: number, now: number): boolean {
  const { value, share } = budgetSettings(settings);
  if (!clientMayRetry(shares, clientHash, budgetUsage(budget, value, now).allowed, share, now)) return false;
  if (!tryAcquireRetry(budget, value, now)) return false;
  countClientRetry(shares, clientHash, share, now);
  return true;
}

let budgetOf: { settings: Settings; value: RetryBudgetSettings; share: ClientShareSettings } | null = null;

function budgetSettings(settings: Settings): { value: RetryBudgetSettings; share: ClientShareSettings } {
  if (budgetOf?.settings !== settings) {
    const value = {
      percent: settings.retryBudgetPercent,
      minRetries: settings.retryBudgetMin,
      windowMs: settings.retryBudgetWindowMs,
    };
    const share = { percent: settings.retryBudgetClientPercent, windowMs: settings.retryBudgetWindowMs };
    budgetOf = { settings, value, share };
  }
  return budgetOf;
}
