/**
 * One profile of a worker's isolate under load, over the Chrome DevTools Protocol: the scripts the
 * isolate has parsed (for their source maps), then the sampler started when the load generator starts
 * measuring and stopped when it stops, so the profile covers the requests it counts. Two samplers:
 * the CPU profiler (`npm run profile`) and V8's sampling heap profiler (`npm run profile:alloc`).
 */
import { connectCdp, inspectorTargets, type Cdp } from "../lib/cdp.ts";
import { log } from "../lib/log.ts";
import { commandLine, cpuMs, descendants } from "../lib/procfs.ts";
import { affinityOf } from "../lib/taskset.ts";
import { loadInThread, PATH, randomIp, type Load, type Result } from "../bench-worker/load.ts";
import type { DevServer } from "./dev-server.ts";
import type { CpuProfile } from "./self-time.ts";

/** A script as Debugger.scriptParsed reports it. */
export interface ParsedScript {
  readonly scriptId: string;
  readonly url: string;
  readonly sourceMapURL: string;
}

/** What is recorded over the measured requests, and how. */
export interface Sampler<T> {
  /** For the log: how it samples. */
  readonly what: string;
  prepare(cdp: Cdp): Promise<void>;
  start(cdp: Cdp): Promise<unknown>;
  stop(cdp: Cdp): Promise<T>;
}

/** The CPU profiler, sampling every `intervalUs` µs. */
export function cpuSampler(intervalUs: number): Sampler<CpuProfile> {
  return {
    what: `sampling every ${intervalUs} µs`,
    prepare: async (cdp) => {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: intervalUs });
    },
    start: (cdp) => cdp.send("Profiler.start"),
    stop: async (cdp) => {
      const { profile } = await cdp.send<{ profile: CpuProfile }>("Profiler.stop");
      await cdp.send("Profiler.disable");
      return profile;
    },
  };
}

export interface Recording<T = CpuProfile> {
  readonly profile: T;
  readonly scripts: readonly ParsedScript[];
  readonly load: Result;
  /** The inspector target profiled (its title). */
  readonly target: string;
  /** CPU time of the workerd process that runs the isolate (all its threads and isolates), while profiling. */
  readonly workerdCpuMs: number;
}

/** The workerd processes of `server` that run user workers (with the inspector), else all of them. */
function workerdPids(server: DevServer): number[] {
  const all = descendants("workerd", server.pid);
  const inspected = all.filter((pid) => commandLine(pid).some((arg) => arg.startsWith("--inspector-addr")));
  return inspected.length > 0 ? inspected : all;
}

export interface RecordOptions {
  readonly connections: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly generator: Load["generator"];
  /** When the load's warm-up starts (ms since the Unix epoch), so workers profiled together start together. */
  readonly startAt?: number;
}

/** Profiles the isolate behind `server` with `sampler` while the bench's load generator drives it. */
export async function recordProfile<T>(
  name: string,
  server: DevServer,
  o: RecordOptions,
  sampler: Sampler<T>,
): Promise<Recording<T>> {
  const probe = await fetch(new URL(PATH, server.url), { headers: { "cf-connecting-ip": randomIp() } });
  await probe.arrayBuffer();
  const targets = await inspectorTargets(server.inspectorPort);
  const target = targets[0]!;
  log(`${name}: ${server.url} answers ${probe.status}; inspector ${target.webSocketDebuggerUrl} (${target.title})`);
  const cdp = await connectCdp(target.webSocketDebuggerUrl);
  try {
    // The already parsed scripts are reported on enable; the debugger is off again before the load.
    const scripts: ParsedScript[] = [];
    cdp.on("Debugger.scriptParsed", (p: ParsedScript) =>
      scripts.push({ scriptId: p.scriptId, url: p.url, sourceMapURL: p.sourceMapURL ?? "" }),
    );
    await cdp.send("Debugger.enable");
    await cdp.send("Debugger.disable");
    await sampler.prepare(cdp);
    log(`${name}: ${o.warmup} s warm-up, then ${o.seconds} s profiled (${sampler.what})…`);
    const pids = workerdPids(server);
    log(`${name}: workerd ${pids.map((pid) => `${pid} on cores ${affinityOf(pid) ?? "?"}`).join(", ")}`);
    const cpu = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    let [cpuStart, cpuEnd] = [0, 0];
    let started: Promise<unknown> = Promise.resolve();
    let stopped: Promise<T> | null = null;
    const stop = () =>
      (stopped ??= started.then(() => {
        cpuEnd = cpu();
        return sampler.stop(cdp);
      }));
    const load = await loadInThread(
      {
        url: server.url,
        connections: o.connections,
        seconds: o.seconds,
        warmup: o.warmup,
        generator: o.generator,
        startAt: o.startAt,
      },
      {
        onMeasuring: () => {
          cpuStart = cpu();
          started = sampler.start(cdp);
        },
        onStopped: () => void stop(),
      },
    );
    const profile = await stop();
    log(`${name}: ${load.requests.toLocaleString("en")} requests (${load.rps.toFixed(0)} req/s)`);
    return { profile, scripts, load, target: target.title, workerdCpuMs: cpuEnd - cpuStart };
  } finally {
    await cdp.close();
  }
}
