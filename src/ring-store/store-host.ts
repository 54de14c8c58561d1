/** What the object's modules need from the object itself: a narrow host interface. */
import type { Settings } from "../core/config/settings.ts";
import type { LogEvent } from "../core/log/log-event.ts";

/** The object's storage, settings and epoch bump, as its modules see them. */
export interface StoreHost {
  readonly storage: DurableObjectStorage;
  /** The parsed variables, or null when they are invalid (the worker then answers 503 misconfigured). */
  readonly settings: Settings | null;
  /** Bumps the epoch and drops the cached snapshot: every routing-relevant write ends here. */
  bumpEpoch(): void;
  /** Prints one structured log line (secrets of the object's env redacted); `at` defaults to the wall clock. */
  log(event: LogEvent, at?: number): void;
  /** True when ALERT_WEBHOOK_URL is set and valid, so health changes queue alerts. */
  alertsEnabled(): boolean;
}
