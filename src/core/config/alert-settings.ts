/**
 * The alert webhook's settings (README "Logs and alerts"): ALERT_WEBHOOK_URL (a secret),
 * ALERT_TIMEOUT_MS, ALERT_RETRIES, ALERT_BACKOFF_MS. Pure. An error never quotes the URL: it is
 * a secret, and webhook URLs carry their credentials in the path or query.
 */
import type { FieldError, Result } from "../result.ts";
import { integerOf, isUnset } from "./text-settings.ts";

/** How the Durable Object delivers alerts; `webhookUrl` null = alerts off. */
export interface AlertSettings {
  readonly webhookUrl: string | null;
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Attempts after the first before an alert is abandoned. */
  readonly retries: number;
  /** The first retry waits this long, each next one twice as long as the one before. */
  readonly backoffMs: number;
}

/** The defaults: a slow receiver gets 5 s per try, and an alert is abandoned after 1 + 3 tries over ~7 s of backoff. */
export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  webhookUrl: null,
  timeoutMs: 5_000,
  retries: 3,
  backoffMs: 1_000,
};

/** Longest URL accepted: far above any webhook service's, far below a log line's budget. */
const MAX_URL_LENGTH = 2_048;

const INTEGERS = [
  { name: "ALERT_TIMEOUT_MS", key: "timeoutMs", min: 100, max: 60_000 },
  { name: "ALERT_RETRIES", key: "retries", min: 0, max: 10 },
  { name: "ALERT_BACKOFF_MS", key: "backoffMs", min: 10, max: 600_000 },
] as const;

/** Parses the alert settings; a missing or empty variable takes its default, an unset URL turns alerts off. */
export function parseAlertSettings(vars: Readonly<Record<string, unknown>>): Result<AlertSettings> {
  const errors: FieldError[] = [];
  const values: { -readonly [K in keyof AlertSettings]: AlertSettings[K] } = { ...DEFAULT_ALERT_SETTINGS };
  for (const { name, key, min, max } of INTEGERS) {
    const raw = vars[name];
    if (isUnset(raw)) continue;
    const value = integerOf(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      errors.push({ field: name, message: `must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})` });
    } else values[key] = value;
  }
  const url = vars.ALERT_WEBHOOK_URL;
  if (!isUnset(url)) {
    const problem = webhookProblem(url);
    if (problem !== null) errors.push({ field: "ALERT_WEBHOOK_URL", message: problem });
    else values.webhookUrl = (url as string).trim();
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: values };
}

/**
 * Why `url` cannot be the webhook, or null. https only: the body names origins and their state,
 * and the URL is a credential. Plain http is allowed to a loopback host alone, for a receiver on
 * the development machine (a deployed Worker cannot reach one anyway).
 */
function webhookProblem(value: unknown): string | null {
  if (typeof value !== "string") return "must be a URL string";
  const text = value.trim();
  if (text.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a valid absolute URL";
  }
  // fetch refuses URLs with credentials (Fetch standard, "Request" constructor step 8).
  if (url.username !== "" || url.password !== "") return "must not contain user:password@; put a token in the path";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return null;
  return "must be https:// (http:// only to localhost or 127.0.0.1 for local development)";
}

/** localhost (RFC 6761 §6.3), 127.0.0.0/8 and ::1. */
function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}
