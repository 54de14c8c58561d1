/** What the object's modules need from the object itself: a narrow host interface. */
import type { Settings } from "../core/config/settings.ts";

/** The object's storage, settings and epoch bump, as its modules see them. */
export interface StoreHost {
  readonly storage: DurableObjectStorage;
  /** The parsed variables, or null when they are invalid (the worker then answers 503 misconfigured). */
  readonly settings: Settings | null;
  /** Bumps the epoch and drops the cached snapshot: every routing-relevant write ends here. */
  bumpEpoch(): void;
}
