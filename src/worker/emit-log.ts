/**
 * Prints structured log lines (core/log/log-event.ts) through the console method of their level,
 * which is what `wrangler tail` and Workers Logs record as the level. The values of the secrets
 * in `env` (any variable named like a token, secret or webhook) are kept out of every line.
 */
import { formatLogEvent, type LogEvent } from "../core/log/log-event.ts";

/** Variables whose values are secrets (ADMIN_TOKEN, ORIGIN_AUTH_SECRET*, ALERT_WEBHOOK_URL). */
const SECRET_VARIABLE = /TOKEN|SECRET|WEBHOOK/;

/** Prints one event line; `env` supplies the secrets to redact, `now` the time. Never throws. */
export function emitLog(event: LogEvent, env: object | null = null, now: number = Date.now()): void {
  const line = formatLogEvent(event, now, secretValues(env));
  if (event.level === "error") console.error(line);
  else if (event.level === "warn") console.warn(line);
  else console.log(line);
}

/** The string values of the secret variables in `env`. */
export function secretValues(env: object | null): string[] {
  if (env === null) return [];
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (SECRET_VARIABLE.test(name) && typeof value === "string" && value !== "") values.push(value);
  }
  return values;
}
