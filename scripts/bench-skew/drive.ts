/**
 * Driving a request stream through one proxy as browsers would: a closed loop of `concurrency`
 * requests in flight, each request as its user (`CF-Connecting-IP`, its User-Agent, its cookie
 * jar's `Cookie`, storing the response's `Set-Cookie`), recording which origin answered
 * (`X-Origin-Id`) or that it failed. A phase ends after a number of requests or a time; an
 * optional rate paces the sends (an open loop capped at `concurrency`).
 */
import http from "node:http";
import { now, sleep } from "../lib/log.ts";
import { CookieJar } from "./cookie-jar.ts";
import type { Request, Workload } from "./workload.ts";

/** One user's jar per proxy: each proxy is a site of its own. */
export function jarsFor(workload: Workload, url: URL): CookieJar[] {
  return workload.users.map(() => new CookieJar(url.hostname));
}

export interface PhaseOptions {
  readonly concurrency: number;
  /** Stop after this many requests… */
  readonly count?: number;
  /** …or after this long (ms), whichever comes first. */
  readonly durationMs?: number;
  /** Requests per second; unpaced (as fast as answers come) when absent. */
  readonly rate?: number;
}

/** What one phase sent and saw, request by request in stream order. */
export interface Phase {
  readonly users: number[];
  /** Index of the answering origin in `ids`, or -1 for a failure. */
  readonly origins: number[];
  readonly ms: number;
  /** Failures by kind: "status 502", "no origin header", "connection error". */
  readonly errors: Record<string, number>;
  /** Requests that carried a Cookie header. */
  withCookie: number;
}

interface Answer {
  readonly status: number;
  readonly origin: string | null;
  readonly setCookie: string[] | undefined;
}

function send(url: URL, agent: http.Agent, r: Request, ua: string, cookie: string | undefined): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {
      "cf-connecting-ip": r.ip,
      "user-agent": ua,
      accept: "text/html,application/json;q=0.9,*/*;q=0.8",
    };
    if (cookie !== undefined) headers.cookie = cookie;
    const req = http.get({ host: url.hostname, port: url.port, path: r.path, agent, headers }, (res) => {
      res.resume();
      const origin = res.headers["x-origin-id"];
      const done = (status: number) =>
        resolve({ status, origin: typeof origin === "string" ? origin : null, setCookie: res.headers["set-cookie"] });
      res.on("end", () => done(res.statusCode ?? 0));
      res.on("error", () => done(0));
    });
    req.setTimeout(15_000, () => req.destroy());
    req.on("error", () => resolve({ status: 0, origin: null, setCookie: undefined }));
  });
}

/** Runs one phase of `stream` through `url` with the users' `jars`; `ids` are the origins' ids. */
export async function runPhase(
  url: URL,
  workload: Workload,
  jars: readonly CookieJar[],
  stream: () => Request,
  ids: readonly string[],
  o: PhaseOptions,
): Promise<Phase> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const index = new Map(ids.map((id, i) => [id, i]));
  const phase: Phase = { users: [], origins: [], ms: 0, errors: {}, withCookie: 0 };
  const start = now();
  let sent = 0;
  // Paced: the send times must fall inside the duration (the workers claim requests ahead of them).
  const more = () =>
    (o.count === undefined || sent < o.count) &&
    (o.durationMs === undefined ||
      (o.rate === undefined ? now() - start < o.durationMs : (sent * 1000) / o.rate < o.durationMs));
  const worker = async () => {
    while (more()) {
      const k = sent++;
      const r = stream();
      phase.users[k] = r.user;
      phase.origins[k] = -1;
      if (o.rate !== undefined) {
        const wait = start + (k * 1000) / o.rate - now();
        if (wait > 0) await sleep(wait);
      }
      const jar = jars[r.user]!;
      const cookie = jar.header(r.path);
      if (cookie !== undefined) phase.withCookie++;
      const a = await send(url, agent, r, workload.users[r.user]!.ua, cookie);
      jar.store(a.setCookie, r.path);
      const origin = a.origin === null ? undefined : index.get(a.origin);
      if (a.status >= 200 && a.status < 400 && origin !== undefined) phase.origins[k] = origin;
      else {
        const kind = a.status === 0 ? "connection error" : a.status >= 400 ? `status ${a.status}` : "no origin header";
        phase.errors[kind] = (phase.errors[kind] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { ...phase, ms: now() - start };
}
