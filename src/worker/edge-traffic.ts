/**
 * This isolate's share of the edge-wide traffic view (README "Load-aware placement"): per origin
 * requests and errors, and the heaviest client keys with how many users are behind each, counted
 * since the last report (core/traffic/report-counter.ts) in module scope. The report rides on the
 * next snapshot refresh that reaches the Durable Object (routing-cache.ts), so it adds no call per
 * request; it is dropped, not retried, when that refresh fails.
 */
import type { Settings } from "../core/config/settings.ts";
import { xxh32String } from "../core/hash.ts";
import type { ClientKey } from "../core/key/client-key.ts";
import type { RequestScan } from "../core/proxy/request-scan.ts";
import { countForReport, createReportCounter, takeReport, type ReportCounter } from "../core/traffic/report-counter.ts";
import type { TrafficReport } from "../core/traffic/traffic-report.ts";
import { isolateIdentity } from "./isolate-traffic.ts";

// Made on first use: 32 KiB of users sketch, which an isolate that only serves the status page never needs.
let counter: ReportCounter | null = null;
let startedAt = Number.NaN;
let sampled = 0;

/**
 * The users behind one address, told apart by what their software says about itself (User-Agent
 * and Accept-Language) and, with `cookies`, by the cookies they hold (an application's session
 * id tells apart even users of one browser build): a hash, or null when the request has none.
 */
export function userTraitHash(headers: Headers, cookies = false): number | null {
  return traitHash(headers.get("user-agent"), headers.get("accept-language"), cookies ? headers.get("cookie") : null);
}

/** `userTraitHash` from the values themselves (the request scan has read them already). */
function traitHash(agent: string | null, language: string | null, cookie: string | null): number | null {
  if (agent === null && language === null && cookie === null) return null;
  return xxh32String(`${agent ?? ""}\n${language ?? ""}\n${cookie ?? ""}`);
}

/**
 * Counts one answered request: the origin that answered (null: none did), the client key and its
 * hash, the final status, and the request's User-Agent, Accept-Language and Cookie (read by the
 * request scan). Users are counted on one request in four: a hot key has thousands, and the
 * estimate needs only a few per user, so three requests in four skip hashing them.
 */
export function countEdgeRequest(
  originId: string | null,
  key: ClientKey | null,
  keyHash: number,
  status: number,
  traits: Pick<RequestScan, "userAgent" | "acceptLanguage" | "cookie">,
  now: number = Date.now(),
): void {
  counter ??= createReportCounter();
  if (startedAt !== startedAt) startedAt = now;
  // A fallback key (no usable address) is every such client at once, never one placeable client.
  const counted = key === null || key.kind === "fallback" ? null : key;
  const user =
    (sampled++ & 3) === 0 && counted !== null
      ? traitHash(traits.userAgent, traits.acceptLanguage, traits.cookie)
      : null;
  countForReport(counter, originId, counted, keyHash, status, now, user);
}

/**
 * True when the counts have waited long enough that the next refresh should go to the Durable
 * Object with them even if the location's cache could answer it: max(SNAPSHOT_TTL_MS,
 * TRAFFIC_WINDOW_MS / 3), so each isolate reports at least three times per window and the object
 * hears from an isolate at most once per that interval (README scale table).
 */
export function edgeReportDue(settings: Settings, now: number = Date.now()): boolean {
  if (startedAt !== startedAt) return false;
  return now - startedAt >= Math.max(settings.snapshotTtlMs, settings.placement.trafficWindowMs / 3);
}

/** The counts since the last report, or null when there are none; counting starts afresh. */
export function takeEdgeReport(now: number = Date.now()): TrafficReport | null {
  if (counter === null) return null;
  startedAt = Number.NaN;
  return takeReport(counter, isolateIdentity(now).id, now);
}

/** Forgets the counts (tests only: module scope outlives a test). */
export function resetEdgeTraffic(): void {
  counter = null;
  startedAt = Number.NaN;
  sampled = 0;
}
