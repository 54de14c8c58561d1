/**
 * One CPU profile of a worker's isolate under load, over the Chrome DevTools Protocol: the scripts
 * the isolate has parsed (for their source maps), then Profiler.start when the load generator starts
 * measuring and Profiler.stop when it stops, so the profile covers the requests it counts.
 */
import { connectCdp, inspectorTargets } from "../lib/cdp.ts";
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

export interface Recording {
  readonly profile: CpuProfile;
  readonly scripts: readonly ParsedScript[];
  readonly load: Result;
  /** The inspector target profiled (its title). */
  readonly target: string;
  /** CPU time of the workerd process that runs the isolate (all its threads and isolates), while profiling. */
  readonly workerdCpuMs: number;
}

/** wrangler dev's workerd processes that run user workers (with the inspector), else all of them. */
function workerdPids(): number[] {
  const all = descendants("workerd");
  const inspected = all.filter((pid) => commandLine(pid).some((arg) => arg.startsWith("--inspector-addr")));
  return inspected.length > 0 ? inspected : all;
}

export interface RecordOptions {
  readonly connections: number;
  readonly seconds: number;
  readonly warmup: number;
  /** Profiler.setSamplingInterval, in µs. */
  readonly intervalUs: number;
  readonly generator: Load["generator"];
}

/** Profiles the isolate behind `server` while the bench's load generator drives it. */
export async function recordProfile(name: string, server: DevServer, o: RecordOptions): Promise<Recording> {
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
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: o.intervalUs });
    log(`${name}: ${o.warmup} s warm-up, then ${o.seconds} s profiled (sampling every ${o.intervalUs} µs)…`);
    const pids = workerdPids();
    log(`${name}: workerd ${pids.map((pid) => `${pid} on cores ${affinityOf(pid) ?? "?"}`).join(", ")}`);
    const cpu = () => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    let [cpuStart, cpuEnd] = [0, 0];
    let started: Promise<unknown> = Promise.resolve();
    let stopped: Promise<{ profile: CpuProfile }> | null = null;
    const stop = () =>
      (stopped ??= started.then(() => {
        cpuEnd = cpu();
        return cdp.send<{ profile: CpuProfile }>("Profiler.stop");
      }));
    const load = await loadInThread(
      { url: server.url, connections: o.connections, seconds: o.seconds, warmup: o.warmup, generator: o.generator },
      {
        onMeasuring: () => {
          cpuStart = cpu();
          started = cdp.send("Profiler.start");
        },
        onStopped: () => void stop(),
      },
    );
    const { profile } = await stop();
    await cdp.send("Profiler.disable");
    log(
      `${name}: ${load.requests.toLocaleString("en")} requests (${load.rps.toFixed(0)} req/s), ` +
        `${profile.samples.length.toLocaleString("en")} samples`,
    );
    return { profile, scripts, load, target: target.title, workerdCpuMs: cpuEnd - cpuStart };
  } finally {
    await cdp.close();
  }
}
