/** a and b: what one request pays while a proxy still tries a primary that refuses or black-holes. */
import { openLoop, servedBy, type Reply } from "../lib/http-load.ts";
import { log } from "../lib/log.ts";
import { median, p99 } from "../lib/stats.ts";
import { ms1 } from "./format.ts";
import type { Origins } from "./origins.ts";
import type { Settings } from "./settings.ts";
import { findVictims, type Target } from "./targets.ts";

export interface LatencyResult {
  readonly name: string;
  readonly requests: number;
  readonly upMedian: number;
  readonly upP99: number;
  readonly refusedMedian: number;
  readonly refusedP99: number;
  readonly refusedMax: number;
  readonly refusedTried: number;
  readonly refusedErrors: number;
  readonly refusedStatuses: string;
  readonly upErrors: number;
  readonly blackholeRequests: number;
  readonly blackholeMedian: number;
  readonly blackholeP99: number;
  readonly blackholeConnections: number;
  readonly blackholeErrors: number;
  readonly blackholeStatuses: string;
}

export const errorsOf = (replies: readonly Reply[]) => replies.filter((r) => servedBy(r) === null).length;

/** The answers' statuses counted, e.g. "3× 200, 1× no answer". */
const statuses = (replies: readonly Reply[]) => {
  const counts = new Map<number, number>();
  for (const r of replies) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([status, n]) => `${n}× ${status === 0 ? "no answer" : status}`)
    .join(", ");
};

/** a and b for one proxy whose learning is off. The victim is up on entry and on return. */
export async function measureLatency(
  t: Target,
  origins: Origins,
  candidates: readonly string[],
  { sizes }: Settings,
): Promise<LatencyResult> {
  await findVictims(t, candidates);
  const victims = t.victims;
  await openLoop(t.url, victims, 20, sizes.rate); // warm connections
  const up = await openLoop(t.url, victims, sizes.latencyN, sizes.rate);
  log(`${t.name}: primary up, ${up.length} requests: median ${ms1(median(up.map((r) => r.ms)))}`);
  await origins.kill();
  let refused: Reply[];
  try {
    refused = await openLoop(t.url, victims, sizes.latencyN, sizes.rate);
    log(`${t.name}: primary refusing, ${refused.length} requests: median ${ms1(median(refused.map((r) => r.ms)))}`);
    const blackhole = await origins.blackhole();
    let held: Reply[];
    let connections: number;
    try {
      held = await openLoop(t.url, victims, sizes.blackholeN, sizes.blackholeRate);
      connections = blackhole.connections();
    } finally {
      await blackhole.close();
    }
    log(`${t.name}: primary black-holing, ${held.length} requests: median ${ms1(median(held.map((r) => r.ms)))}`);
    const ok = (replies: Reply[]) => replies.map((r) => r.ms);
    return {
      name: t.name,
      requests: up.length,
      upMedian: median(ok(up)),
      upP99: p99(ok(up)),
      upErrors: errorsOf(up),
      refusedMedian: median(ok(refused)),
      refusedP99: p99(ok(refused)),
      refusedMax: Math.max(...ok(refused)),
      refusedTried: refused.filter((r) => t.triedVictim(r)).length,
      refusedErrors: errorsOf(refused),
      refusedStatuses: statuses(refused),
      blackholeRequests: held.length,
      blackholeMedian: median(ok(held)),
      blackholeP99: p99(ok(held)),
      blackholeConnections: connections,
      blackholeErrors: errorsOf(held),
      blackholeStatuses: statuses(held),
    };
  } finally {
    await origins.revive();
  }
}
