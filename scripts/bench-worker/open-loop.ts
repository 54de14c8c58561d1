/**
 * The load generator's open loop (`--rate`): requests sent on a fixed schedule, whatever the target
 * answers, so latency is measured at a load the worker can serve rather than at saturation. A closed
 * loop of 50 connections keeps the worker saturated: its latency is then mostly the queue in front
 * of the worker (p50 ≈ connections ÷ req/s), not the time a request takes. Here each request is
 * timed from when it is handed to the agent (which queues it when all `connections` sockets are busy,
 * so a target that falls behind is charged for the wait: no coordinated omission).
 */
import http from "node:http";
import { sleep } from "../lib/log.ts";
import { quantile } from "../lib/stats.ts";
import { timedGet, type Load, type Result } from "./load.ts";

/** Warm-up, then the measured window, at `rate` requests/s; a request counts when it was sent in the window. */
export async function openLoop(
  load: Load,
  rate: number,
  url: URL,
  onMeasuring: () => void,
  onStopped: () => void,
): Promise<Result> {
  if (load.startAt !== undefined) await sleep(Math.max(0, load.startAt - Date.now()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.connections });
  const latencies: number[] = [];
  /** When each measured request was sent (ms since the Unix epoch: comparable across threads), by index into latencies. */
  const sentAt: number[] = [];
  const counts = { errors: 0, non2xx: 0 };
  const inFlight = new Set<Promise<void>>();
  const send = (measured: boolean) => {
    const done = timedGet(url, agent).then((answer) => {
      if (!measured) return;
      if (answer === null) return void counts.errors++;
      latencies.push(answer.ms);
      sentAt.push(performance.timeOrigin + answer.startedAt);
      if (answer.status < 200 || answer.status > 299) counts.non2xx++;
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  const interval = 1000 / rate;
  const t0 = performance.now();
  const measureFrom = t0 + load.warmup * 1000;
  const measureTo = measureFrom + load.seconds * 1000;
  let next = t0;
  let measuring = false;
  // Each timer sends every request whose time has come (timers fire late; the schedule does not drift).
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next <= now && next < measureTo) {
        if (!measuring && next >= measureFrom) {
          measuring = true;
          onMeasuring();
        }
        send(measuring);
        next += interval;
      }
      if (next >= measureTo) return resolve();
      setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
  onStopped();
  await Promise.all(inFlight);
  agent.destroy();
  const p99 = quantile(latencies, 0.99);
  return {
    rps: latencies.length / load.seconds,
    p50: quantile(latencies, 0.5),
    p99,
    slowSentAt: sentAt.filter((_, i) => latencies[i]! >= p99),
    errors: counts.errors,
    non2xx: counts.non2xx,
    requests: latencies.length,
  };
}

/** `--rate`: requests/s per worker, or undefined when not given; anything else is refused. */
export function parseRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const rate = Number(text);
  if (!(rate > 0 && rate <= 100_000)) throw new Error(`--rate takes requests/s per worker, 1 to 100000 (got ${text})`);
  return rate;
}
