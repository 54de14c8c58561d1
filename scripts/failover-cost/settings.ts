/** The failover run's fixed choices (origins, victim, load) and each proxy's settings for it. */

export const IDS = Array.from({ length: 10 }, (_, i) => `o${i}`);
/** The origin that fails. */
export const VICTIM = "o3";
/** c/d: requests per second per proxy, one in three from a client of the victim. */
export const LOAD_RATE = 60;
export const RECOVERY_CAP_MS = 25_000;
// HAProxy: the configuration (retries 3 + option redispatch, checks inter 2s rise 2 fall 3).
export const HAPROXY_HEADERS = ['http-response set-header X-Retries "%rc"', 'http-response set-header X-Server "%s"'];
export const HAPROXY_CHECK = "check inter 2s rise 2 fall 3";
export const NGINX_FAIL_TIMEOUT_MS = 10_000;

const QUICK_SIZES = {
  candidates: 1_000,
  latencyN: 150,
  rate: 100,
  blackholeN: 60,
  blackholeRate: 50,
  cycles: 1,
  deadMs: 10_000,
};
const FULL_SIZES = {
  candidates: 4_000,
  latencyN: 600,
  rate: 100,
  blackholeN: 300,
  blackholeRate: 50,
  cycles: 3,
  deadMs: 15_000,
};
export type Sizes = typeof FULL_SIZES;

export interface Settings {
  readonly quick: boolean;
  readonly seed: number;
  /** The per-try timeout of every proxy: ours TRY_TIMEOUT_MS, HAProxy `timeout server`, nginx `proxy_read_timeout`. */
  readonly tryTimeoutMs: number;
  readonly sizes: Sizes;
  /** Ours in a/b: no probe alarm, no ejection within the run, a retry budget every request may use. */
  readonly oursNoLearning: Record<string, string>;
  /** Ours in c/d: health settings scaled down 10× from the defaults, the rest default except slow start. */
  readonly oursHealth: Record<string, string>;
  readonly probeIntervalMs: number;
  readonly rise: number;
  readonly haproxyDefaults: readonly string[];
  /** nginx: the per-try timeout and the servers tried in a response header. */
  readonly nginxLocation: readonly string[];
}

/** The settings for the command line's `--quick`, `--seed` and `--try-timeout`. */
export function failoverSettings(args: { quick: boolean; seed: string; "try-timeout": string }): Settings {
  const seed = Number(args.seed) >>> 0;
  const tryTimeoutMs = Number(args["try-timeout"]);
  if (!(tryTimeoutMs >= 100 && tryTimeoutMs <= 100_000)) throw new RangeError("--try-timeout must be 100–100000");
  // Ours. a/b: learning off, so each request pays the retry. c/d: interval 10 s → 1 s, snapshot TTL 10 s → 1 s.
  const common = { DEBUG_HEADERS: "true", TRY_TIMEOUT_MS: String(tryTimeoutMs), HEALTH_PATH: "/healthz" };
  const oursHealth = {
    ...common,
    HEALTH_INTERVAL_MS: "1000",
    HEALTH_FAST_INTERVAL_MS: "200",
    HEALTH_TIMEOUT_MS: "500",
    HEALTH_RISE: "2",
    HEALTH_FALL: "3",
    SNAPSHOT_TTL_MS: "1000",
    SLOW_START_MS: "0",
  };
  return {
    quick: args.quick,
    seed,
    tryTimeoutMs,
    sizes: args.quick ? QUICK_SIZES : FULL_SIZES,
    oursNoLearning: { ...common, HEALTH_INTERVAL_MS: "0", EJECT_AFTER_FAILURES: "1000", RETRY_BUDGET_PERCENT: "100" },
    oursHealth,
    probeIntervalMs: Number(oursHealth.HEALTH_INTERVAL_MS),
    rise: Number(oursHealth.HEALTH_RISE),
    haproxyDefaults: [
      "timeout connect 1s",
      "timeout client 30s",
      `timeout server ${tryTimeoutMs}ms`,
      "retries 3",
      "option redispatch",
    ],
    // nginx: defaults (max_fails=1 fail_timeout=10s, proxy_next_upstream error timeout); a/b with
    // max_fails=0 (never marks).
    nginxLocation: [`proxy_read_timeout ${tryTimeoutMs}ms;`, "add_header X-Upstream $upstream_addr always;"],
  };
}
