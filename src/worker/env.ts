import type { RingStore } from "./ring-store.ts";

/** The Worker's bindings and variables (see wrangler.toml and the README's settings table). */
export interface Env {
  readonly RING: DurableObjectNamespace<RingStore>;
  /** The bootstrap origin list: an array (TOML tables) or a JSON string. */
  readonly ORIGINS?: unknown;
  readonly ADMIN_TOKEN?: string;
  readonly LB_PREFIX?: string;
  readonly IPV4_PREFIX?: string | number;
  readonly IPV6_PREFIX?: string | number;
  readonly SNAPSHOT_TTL_MS?: string | number;
  readonly DO_TIMEOUT_MS?: string | number;
  readonly MAX_ATTEMPTS?: string | number;
  readonly TRY_TIMEOUT_MS?: string | number;
  readonly REQUEST_DEADLINE_MS?: string | number;
  readonly REPLAY_BODY_LIMIT?: string | number;
  readonly RING_SLOTS_PER_ORIGIN?: string | number;
  /** Health, ejection, ramps and reporting: see README "Health". */
  readonly [setting: string]: unknown;
}
