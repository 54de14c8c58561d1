/**
 * The balancer as it is in this tree, bundled as `wrangler deploy` would into a temp folder (not
 * dist/, which the tests build), in workerd through Miniflare with wrangler.toml's bindings and
 * defaults, in front of the given origins; and the ring Durable Object's call counters.
 */
import path from "node:path";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import { balancerOptions, build } from "../bench-worker/targets.ts";
import { onCleanup } from "../lib/cleanup.ts";
import { log } from "../lib/log.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** What the ring object has served since it started (src/ring-store/protocol.ts `CallCounts`). */
export interface CallCounts {
  readonly getUpdate: number;
  readonly report: number;
  readonly probeRound: number;
}

export interface RunningBalancer {
  readonly url: URL;
  /** The object's counters now, or null when the RPC is unavailable. */
  callCounts(): Promise<CallCounts | null>;
  stop(): Promise<void>;
}

/** Builds and starts the balancer in front of `origins` (id and URL); stopped at cleanup. */
export async function startBalancer(
  origins: readonly { id: string; url: string }[],
  tmp: string,
): Promise<RunningBalancer> {
  const scriptPath = build("the balancer", ROOT, tmp);
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  // The affinity cookie's key is a secret (never in wrangler.toml): without one no cookie is issued.
  const options = await balancerOptions(ROOT, scriptPath, origins, {
    AFFINITY_COOKIE_SECRET: "bench-skew-affinity-cookie-secret",
  });
  const mf = new Miniflare(convertV4MiniflareOptions({ ...options, host: "127.0.0.1", port: 0 } as never));
  const stop = onCleanup(() => mf.dispose());
  const url = await mf.ready;
  const namespace = await mf.getDurableObjectNamespace("RING");
  const ring = namespace.get(namespace.idFromName(RING_OBJECT_NAME)) as unknown as {
    callCounts(): Promise<CallCounts>;
  };
  return {
    url,
    async callCounts() {
      try {
        const c = await ring.callCounts();
        return { getUpdate: c.getUpdate, report: c.report, probeRound: c.probeRound };
      } catch (error) {
        log(`callCounts() failed: ${(error as Error).message}`);
        return null;
      }
    },
    stop,
  };
}
