/**
 * Delivers the alert outbox (alert-outbox.ts) to ALERT_WEBHOOK_URL: a POST of the JSON body per
 * alert, ALERT_TIMEOUT_MS per attempt, ALERT_RETRIES retries after ALERT_BACKOFF_MS × 2^n. A 2xx
 * deletes the alert; so does giving up. Either way the audit log (action "alert") and the log
 * (alert.sent / alert.failed) say so. One delivery loop per object; the object starts it after
 * every change and at every probe round, so alerts left by a restart go out at the next round.
 */
import type { AlertSettings } from "../core/config/alert-settings.ts";
import { errorText } from "../core/log/log-event.ts";
import { appendAudit } from "./audit-log.ts";
import { deleteAlert, readPending, recordAttempt, type PendingAlert } from "./alert-outbox.ts";
import type { StoreHost } from "./store-host.ts";

/** IO the delivery needs; defaults are the runtime's (wall clock: backoff is real time, not the health clock). */
export interface AlertDeps {
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

const DEFAULT_DEPS: AlertDeps = {
  // Called unbound (workerd: "Illegal invocation" otherwise).
  fetch: (input, init) => fetch(input, init),
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Sends the outbox's alerts, one loop at a time. */
export class AlertDelivery {
  private running: Promise<void> | null = null;

  /** `settings` null: alerts are off (unset or invalid ALERT_WEBHOOK_URL). Replaceable by tests. */
  constructor(
    private readonly host: StoreHost,
    public settings: AlertSettings | null,
    private readonly deps: AlertDeps = DEFAULT_DEPS,
  ) {}

  /** True when a webhook is configured, so changes queue alerts. */
  enabled(): boolean {
    return this.settings?.webhookUrl != null;
  }

  /** Delivers what is due, waiting out backoffs, until the outbox is empty. Never throws. */
  deliver(): Promise<void> {
    this.running ??= this.loop()
      .catch((error: unknown) => {
        this.host.log({ event: "alert.failed", level: "error", reason: `delivery stopped: ${errorText(error)}` });
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async loop(): Promise<void> {
    for (;;) {
      const pending = readPending(this.host.storage.sql);
      if (pending.length === 0) return;
      const settings = this.settings;
      if (settings === null || settings.webhookUrl === null) {
        // Turned off (or made invalid) while alerts waited: each is given up, and says so.
        for (const alert of pending)
          this.settle(alert, alert.attempts, "alerts are off (ALERT_WEBHOOK_URL unset or invalid)");
        return;
      }
      const now = this.deps.now();
      const due = pending.filter((alert) => alert.nextAt <= now);
      if (due.length === 0) {
        await this.deps.sleep(Math.min(...pending.map((alert) => alert.nextAt)) - now);
        continue;
      }
      for (const alert of due) await this.attempt(alert, settings, settings.webhookUrl);
    }
  }

  private async attempt(alert: PendingAlert, settings: AlertSettings, url: string): Promise<void> {
    const error = await post(url, alert, settings.timeoutMs, this.deps.fetch);
    const attempts = alert.attempts + 1;
    if (error === null) return this.settle(alert, attempts, null);
    if (attempts > settings.retries) return this.settle(alert, attempts, error);
    const nextAt = this.deps.now() + settings.backoffMs * 2 ** (attempts - 1);
    recordAttempt(this.host.storage.sql, alert.id, attempts, nextAt, error);
    this.host.log({
      event: "alert.retry",
      level: "warn",
      ...summary(alert),
      attempts,
      error,
      retryInMs: nextAt - this.deps.now(),
    });
  }

  /** Removes a delivered (`error` null) or abandoned alert, with its audit entry and log line. */
  private settle(alert: PendingAlert, attempts: number, error: string | null): void {
    const sql = this.host.storage.sql;
    const result = error === null ? "delivered" : "abandoned";
    this.host.storage.transactionSync(() => {
      deleteAlert(sql, alert.id);
      appendAudit(
        sql,
        this.deps.now(),
        alert.body.epoch,
        "alert",
        { result, ...summary(alert), attempts, error },
        "health",
      );
    });
    if (error === null) this.host.log({ event: "alert.sent", level: "info", ...summary(alert), attempts });
    else this.host.log({ event: "alert.failed", level: "error", ...summary(alert), attempts, error });
  }
}

/** One POST; null on a 2xx, else why not (never the URL: it is a secret). */
async function post(
  url: string,
  alert: PendingAlert,
  timeoutMs: number,
  fetcher: typeof fetch,
): Promise<string | null> {
  try {
    const response = await fetcher(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "edge-affinity-lb-alert" },
      body: JSON.stringify(alert.body),
      // A redirect could point anywhere; a receiver that moved answers 3xx, counted as a failure.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300 ? null : `status ${response.status}`;
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    return timedOut ? `no answer within ${timeoutMs} ms` : "connection failed";
  }
}

function summary(alert: PendingAlert): Record<string, unknown> {
  return { id: alert.id, change: alert.body.event, origin: alert.body.origin };
}
