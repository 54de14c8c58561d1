/**
 * The measured runs: each target in a fresh Miniflare, one at a time (alternating with several
 * rounds), loaded after its warm-up; the ring Durable Object's calls counted (`callCounts()`) when
 * each measured run starts and ends.
 */
import { Worker } from "node:worker_threads";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import { log } from "../lib/log.ts";
import { PATH, randomIp, runWrk, type Generator, type Load, type Result, type ThreadMessage } from "./load.ts";
import type { Target } from "./targets.ts";

/** What the ring Durable Object has served since it started (src/ring-store/ring-store.ts). */
export type CallCounts = { getUpdate: number; report: number; probeRound: number };
type RingStub = { callCounts(): Promise<CallCounts> };

export interface RoundsOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  readonly generator: Generator;
  /** For wrk's Lua script. */
  readonly tmp: string;
}

/** Every round's result per target, and the Durable Object's calls per target summed over the rounds. */
export async function runRounds(targets: readonly Target[], o: RoundsOptions) {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const { rounds, seconds, warmup, connections, generator } = o;
  const results = new Map<string, Result[]>(targets.map((t) => [t.name, []]));
  const calls = new Map<string, CallCounts>();
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const mf = new Miniflare(convertV4MiniflareOptions({ ...target.options, host: "127.0.0.1", port: 0 } as never));
      try {
        const url = (await mf.ready).href;
        const probe = await fetch(new URL(PATH, url), { headers: { "cf-connecting-ip": randomIp() } });
        await probe.arrayBuffer();
        const name = rounds > 1 ? `round ${round}/${rounds} ${target.name}` : target.name;
        log(`${name}: ${url} answers ${probe.status}; ${warmup} s warm-up, ${seconds} s measured…`);
        // The balancer's ring object: its call counters are read when the measured run starts and ends.
        let ring: RingStub | null = null;
        if (target.name !== "bare") {
          const namespace = await mf.getDurableObjectNamespace("RING");
          ring = namespace.get(namespace.idFromName(RING_OBJECT_NAME)) as unknown as RingStub;
        }
        const counts = async (): Promise<CallCounts | null> => {
          if (ring === null) return null;
          try {
            const c = await ring.callCounts();
            return { getUpdate: c.getUpdate, report: c.report, probeRound: c.probeRound };
          } catch (error) {
            log(`${name}: callCounts() failed: ${(error as Error).message}`);
            return null;
          }
        };
        let before: Promise<CallCounts | null> = Promise.resolve(null);
        const load: Load = { url, connections, seconds, warmup, generator };
        const r: Result =
          generator === "wrk"
            ? await runWrk(load, o.tmp, async () => void (before = Promise.resolve(await counts())))
            : await new Promise((resolve, reject) => {
                const worker = new Worker(new URL("./load-thread.ts", import.meta.url), { workerData: load });
                worker.on("message", (m: ThreadMessage) => {
                  if (m.type === "measuring") before = counts();
                  else resolve(m.result);
                });
                worker.once("error", reject);
                worker.once("exit", (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
              });
        const [start, end] = [await before, await counts()];
        results.get(target.name)!.push(r);
        let line = `${name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`;
        if (start !== null && end !== null) {
          const total = calls.get(target.name) ?? { getUpdate: 0, report: 0, probeRound: 0 };
          for (const key of ["getUpdate", "report", "probeRound"] as const) total[key] += end[key] - start[key];
          calls.set(target.name, total);
          const d = (key: keyof CallCounts) => end[key] - start[key];
          line += `; Durable Object: ${d("getUpdate")} getUpdate, ${d("report")} report, ${d("probeRound")} probe rounds`;
        }
        log(line);
      } finally {
        await mf.dispose();
      }
    }
  }
  return { results, calls };
}
