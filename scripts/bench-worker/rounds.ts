/**
 * The measured runs, in pairs: the two workers of a pair each in a fresh Miniflare (its own workerd
 * process), both loaded at the same time by two load generators, so a slow spell of this shared
 * machine hits both alike (and, pinned with taskset, both share one core). Every round runs each
 * pair once, in alternating order: the balancer against the bare worker, and the bare worker against
 * itself (the control, which says how far apart two identical workers read). The ring Durable
 * Object's calls are counted (`callCounts()`) when each measured run starts and ends.
 */
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import { log } from "../lib/log.ts";
import { descendantCores } from "../lib/taskset.ts";
import { loadInThread, PATH, randomIp, runWrk, type Generator, type Load, type Result } from "./load.ts";
import type { Target } from "./targets.ts";

/** What the ring Durable Object has served since it started (src/ring-store/ring-store.ts). */
export type CallCounts = { getUpdate: number; report: number; probeRound: number };
type RingStub = { callCounts(): Promise<CallCounts> };

/** Two workers measured at the same time: `a` is read against `b`. */
export interface Pair {
  readonly name: string;
  readonly a: Target;
  readonly b: Target;
}

/** One run of a pair: both results, and this process's CPU use meanwhile (the load generators and origins). */
export interface PairRun {
  readonly pair: string;
  readonly round: number;
  readonly a: Result;
  readonly b: Result;
  /** CPU time of this process over the measured wall time (1 = one core busy). */
  readonly loadCpu: number;
}

export interface RoundsOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  /** Requests/s per worker on a fixed schedule (open-loop.ts, in the node:http thread) instead of a closed loop. */
  readonly rate?: number;
  readonly generator: Generator;
  /** For wrk's Lua script. */
  readonly tmp: string;
}

type Instance = {
  ready: Promise<URL>;
  dispose(): Promise<void>;
  getDurableObjectNamespace(name: string): Promise<any>;
};

/** The balancer's ring object in `mf`, whose counters are read when a measured run starts and ends. */
async function ringCounter(mf: Instance, name: string): Promise<() => Promise<CallCounts | null>> {
  const namespace = await mf.getDurableObjectNamespace("RING");
  const ring = namespace.get(namespace.idFromName(RING_OBJECT_NAME)) as RingStub;
  return async () => {
    try {
      const c = await ring.callCounts();
      return { getUpdate: c.getUpdate, report: c.report, probeRound: c.probeRound };
    } catch (error) {
      log(`${name}: callCounts() failed: ${(error as Error).message}`);
      return null;
    }
  };
}

// Only the balancer has the ring object; bare workers (bench:worker's floor, bench:parts' variants) do not.
const hasRing = (t: Target) => (t.options as { durableObjects?: unknown }).durableObjects !== undefined;

/** Every pair's runs, and the Durable Object's calls per balancer target summed over its measured runs. */
export async function runPairs(pairs: readonly Pair[], o: RoundsOptions) {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const { rounds, seconds, warmup, connections, generator } = o;
  const runs: PairRun[] = [];
  const calls = new Map<string, CallCounts>();
  for (let round = 1; round <= rounds; round++) {
    // Alternating order, so neither pair always runs on a machine warmed (or tired) by the other.
    const order = round % 2 === 1 ? pairs : [...pairs].reverse();
    for (const pair of order) {
      const label = `round ${round}/${rounds} ${pair.name}`;
      const targets = [pair.a, pair.b];
      const instances: Instance[] = targets.map(
        (t) => new Miniflare(convertV4MiniflareOptions({ ...t.options, host: "127.0.0.1", port: 0 } as never)),
      );
      try {
        const urls = await Promise.all(instances.map((mf) => mf.ready.then((u) => u.href)));
        for (const url of urls) {
          const probe = await fetch(new URL(PATH, url), { headers: { "cf-connecting-ip": randomIp() } });
          await probe.arrayBuffer();
          if (probe.status !== 200) log(`${label}: ${url} answers ${probe.status}`);
        }
        const pinned = descendantCores("workerd").map((p) => `${p.pid} on ${p.cores ?? "?"}`);
        log(`${label}: ${warmup} s warm-up, ${seconds} s measured, both at once (workerd ${pinned.join(", ")})…`);
        const counters = await Promise.all(
          targets.map((t, i) => (hasRing(t) ? ringCounter(instances[i]!, `${label} ${t.name}`) : null)),
        );
        const before: Promise<CallCounts | null>[] = counters.map(() => Promise.resolve(null));
        let cpuStart = process.cpuUsage();
        let wallStart = performance.now();
        const measuring = (i: number) => () => {
          if (i === 0) [cpuStart, wallStart] = [process.cpuUsage(), performance.now()];
          before[i] = counters[i]?.() ?? Promise.resolve(null);
        };
        let [cpu, wall] = [0, 1];
        const stopped = () => {
          const used = process.cpuUsage(cpuStart);
          [cpu, wall] = [(used.user + used.system) / 1000, performance.now() - wallStart];
        };
        const startAt = Date.now() + 1_000; // both load generators start their warm-up together, threads loaded
        const results = await Promise.all(
          urls.map((url, i) => {
            const load: Load = { url, connections, seconds, warmup, generator, startAt, rate: o.rate };
            if (generator === "wrk" && o.rate === undefined) {
              return runWrk(load, o.tmp, async () => measuring(i)()).finally(() => i === 0 && stopped());
            }
            return loadInThread(load, { onMeasuring: measuring(i), onStopped: i === 0 ? stopped : undefined });
          }),
        );
        const [a, b] = results as [Result, Result];
        runs.push({ pair: pair.name, round, a, b, loadCpu: cpu / wall });
        const line = (t: Target, r: Result) =>
          `${t.name} ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`;
        log(`${label}: ${line(pair.a, a)} | ${line(pair.b, b)} | ×${(a.rps / b.rps).toFixed(3)} req/s`);
        for (const [i, counter] of counters.entries()) {
          if (counter === null) continue;
          const [start, end] = [await before[i]!, await counter()];
          if (start === null || end === null) continue;
          const name = targets[i]!.name;
          const total = calls.get(name) ?? { getUpdate: 0, report: 0, probeRound: 0 };
          for (const key of ["getUpdate", "report", "probeRound"] as const) total[key] += end[key] - start[key];
          calls.set(name, total);
          const d = (key: keyof CallCounts) => end[key] - start[key];
          log(
            `${label}: ${name}'s Durable Object: ${d("getUpdate")} getUpdate, ${d("report")} report, ${d("probeRound")} probe rounds`,
          );
        }
      } finally {
        await Promise.all(instances.map((mf) => mf.dispose()));
      }
    }
  }
  return { runs, calls };
}
