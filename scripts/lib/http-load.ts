/** HTTP load from a script: one GET as a given client, a sweep over many clients, an open loop. */
import http from "node:http";
import { mapLimit } from "../../test/e2e/harness.ts";
import { now, sleep } from "./log.ts";

/** What a client saw of one GET. */
export interface Reply {
  /** The HTTP status, or 0 when the request failed (connection error, client time-out). */
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** When it was sent (`now()`), and how long until the whole response had arrived. */
  readonly sentAt: number;
  readonly ms: number;
}

/** One GET to `base` as client `ip` (`CF-Connecting-IP`); never rejects. */
export function get(base: URL, ip: string, agent: http.Agent, timeoutMs = 60_000, target = "/bench"): Promise<Reply> {
  const sentAt = now();
  return new Promise<Reply>((resolve) => {
    const done = (status: number, headers: http.IncomingHttpHeaders = {}) =>
      resolve({ status, headers, sentAt, ms: now() - sentAt });
    const req = http.get(
      { host: base.hostname, port: base.port, path: target, agent, headers: { "cf-connecting-ip": ip } },
      (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode ?? 0, res.headers));
        res.on("error", () => done(0));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on("error", () => done(0));
  });
}

/** The origin id a reply came from (the demo origins' `X-Origin-Id`), or null for a failure. */
export function servedBy(reply: Reply): string | null {
  const origin = reply.headers["x-origin-id"];
  return reply.status >= 200 && reply.status < 300 && typeof origin === "string" ? origin : null;
}

/** One GET per address through `base`, `concurrency` at a time; the answering origin per address, or null. */
export async function sweep(base: URL, addresses: readonly string[], concurrency: number): Promise<(string | null)[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    return await mapLimit(addresses, concurrency, async (ip) => servedBy(await get(base, ip, agent, 15_000)));
  } finally {
    agent.destroy();
  }
}

/** Sends `n` GETs at `rate` per second (open loop: a slow answer never delays the next request). */
export async function openLoop(base: URL, ips: readonly string[], n: number, rate: number): Promise<Reply[]> {
  const agent = new http.Agent({ keepAlive: true });
  try {
    const start = now();
    const pending: Promise<Reply>[] = [];
    for (let i = 0; i < n; i++) {
      const wait = start + (i * 1000) / rate - now();
      if (wait > 0) await sleep(wait);
      pending.push(get(base, ips[i % ips.length]!, agent));
    }
    return await Promise.all(pending);
  } finally {
    agent.destroy();
  }
}
