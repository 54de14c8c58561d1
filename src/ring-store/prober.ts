/**
 * One active health probe: a request to the origin's health path that follows no redirect, reads
 * no cache and gives up after HEALTH_TIMEOUT_MS. The verdict comes from the pure probe rules.
 */
import type { Settings } from "../core/config/settings.ts";
import type { ProbeResult } from "../core/health/health.ts";
import { judgeProbe } from "../core/health/probe-rules.ts";
import { targetUrl } from "../core/proxy/target-url.ts";

/** IO the prober needs; defaults are the runtime's. */
export interface ProbeDeps {
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

const DEFAULT_DEPS: ProbeDeps = { fetch: (input, init) => fetch(input, init), now: Date.now };

/** Most body bytes read to look for HEALTH_BODY_CONTAINS (a health page is small). */
export const PROBE_BODY_LIMIT = 65_536;

/** Probes one origin base URL; never throws. */
export async function probeOrigin(
  baseUrl: string,
  settings: Settings,
  deps: ProbeDeps = DEFAULT_DEPS,
): Promise<ProbeResult> {
  const started = deps.now();
  const [path, query = ""] = splitQuery(settings.healthPath);
  const headers = new Headers({ "user-agent": "edge-affinity-lb-probe", "cache-control": "no-cache" });
  if (settings.healthHost !== null) headers.set("host", settings.healthHost);
  // Origins that accept only the balancer accept its probes by the same secret.
  if (settings.originAuth !== null) headers.set(settings.originAuth.header, settings.originAuth.secret);
  try {
    const response = await deps.fetch(targetUrl(baseUrl, path, query), {
      method: settings.healthMethod,
      headers,
      redirect: "manual",
      cache: "no-store",
      signal: AbortSignal.timeout(settings.healthTimeoutMs),
    });
    const body = settings.healthBodyContains === null ? null : await readPrefix(response, PROBE_BODY_LIMIT);
    if (body === null) await response.body?.cancel().catch(() => undefined);
    const verdict = judgeProbe(response.status, body, {
      statuses: settings.healthStatuses,
      bodyContains: settings.healthBodyContains,
    });
    return { ok: verdict.ok, at: started, latencyMs: deps.now() - started, error: verdict.error };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    return {
      ok: false,
      at: started,
      latencyMs: null,
      error: timedOut ? `no answer within ${settings.healthTimeoutMs} ms` : "connection failed",
    };
  }
}

function splitQuery(path: string): [string, string] {
  const at = path.indexOf("?");
  return at === -1 ? [path, ""] : [path.slice(0, at), path.slice(at)];
}

async function readPrefix(response: Response, limit: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  while (bytes < limit) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => undefined);
  return text;
}
