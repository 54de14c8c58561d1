/**
 * Structured log lines: one JSON object per line, with a stable `event` name, `at` (ISO time) and
 * `level` first, then the event's own fields (README "Logs and alerts" lists every event). Pure:
 * the caller passes the time and the secret values to keep out; the shell prints the line.
 */

/** Every event name the balancer logs; names are a contract (dashboards and alerts filter on them). */
export type LogEventName =
  | "origin.up"
  | "origin.down"
  | "origin.ejected"
  | "origin.restored"
  | "panic.start"
  | "panic.end"
  | "config.changed"
  | "probe.round"
  | "probe.round_failed"
  | "snapshot.refresh_failed"
  | "snapshot.layout_mismatch"
  | "layout.refilled"
  | "placement.changed"
  | "location_cache.failed"
  | "report.failed"
  | "report.answer_rejected"
  | "request.failed"
  | "admin.failed"
  | "misconfigured"
  | "settings.warning"
  | "alert.sent"
  | "alert.retry"
  | "alert.failed";

/** How bad it is: mapped onto console.log / warn / error, which Workers Logs reads as the level. */
export type LogLevel = "info" | "warn" | "error";

/** One event before formatting: its name, level and fields (any JSON-able values). */
export interface LogEvent {
  readonly event: LogEventName;
  readonly level: LogLevel;
  readonly [field: string]: unknown;
}

/** What replaces a secret or a URL's credentials. */
export const REDACTED = "[redacted]";

/** Secrets shorter than this are not searched for: they would blank out ordinary words. */
const MIN_SECRET_LENGTH = 6;

/** Field names whose value is never logged, whatever it is. */
const SECRET_FIELD = /token|secret|password|authorization|cookie|webhook/i;

/** `scheme://user:pass@` (RFC 3986 §3.2.1 userinfo): the part between `//` and `@` is dropped. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]*@/gi;

/** Deeper values are cut: a log line describes an event, it does not dump state. */
const MAX_DEPTH = 4;

/**
 * One JSON line for `event` at `at` (ms since the epoch). Every string is scrubbed: the values in
 * `secrets` and any URL's userinfo become "[redacted]", as does any field named like a secret;
 * errors become their message. Never throws.
 */
export function formatLogEvent(event: LogEvent, at: number, secrets: readonly string[] = []): string {
  const usable = secrets.filter((s) => typeof s === "string" && s.length >= MIN_SECRET_LENGTH);
  // Longest first, so a secret that contains another is removed whole.
  usable.sort((a, b) => b.length - a.length);
  const { event: name, level, ...fields } = event;
  const line: Record<string, unknown> = { event: name, at: isoTime(at), level };
  for (const [key, value] of Object.entries(fields)) {
    if (key === "event" || key === "at" || key === "level") continue;
    line[key] = SECRET_FIELD.test(key) ? REDACTED : scrub(value, usable, 0);
  }
  return JSON.stringify(line);
}

/** A message for anything thrown (an Error's message, else its text). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function scrub(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === "string") return scrubText(value, secrets);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean" || value === null || value === undefined) return value ?? null;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return scrubText(value.message, secrets);
  if (typeof value !== "object") return null;
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : scrub(item, secrets, depth + 1);
  }
  return out;
}

function scrubText(text: string, secrets: readonly string[]): string {
  let out = text.replace(USERINFO, `$1${REDACTED}@`);
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}

function isoTime(at: number): string | null {
  const date = new Date(at);
  return Number.isFinite(date.getTime()) ? date.toISOString() : null;
}
