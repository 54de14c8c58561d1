/** The Worker's variables and secrets (see wrangler.toml and the README's settings table), without bindings. */
export interface Vars {
  /** The bootstrap origin list: an array (TOML tables) or a JSON string. */
  readonly ORIGINS?: unknown;
  /** Secret (`wrangler secret put ADMIN_TOKEN`): the admin API's bearer token; unset, the API is closed. */
  readonly ADMIN_TOKEN?: string;
  /** Admin API and status page: see README "Admin API". */
  readonly STATUS_PUBLIC?: string | boolean;
  readonly ADMIN_ALLOW_LOCAL_ORIGINS?: string | boolean;
  readonly ADMIN_ALLOWED_PORTS?: string | number | readonly number[];
  readonly ADMIN_MAX_BODY_BYTES?: string | number;
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
