// The built worker (dist/, from build.setup.ts) in workerd through wrangler's test harness, in
// front of real origins on loopback; plus a raw HTTP client for request targets that fetch()
// would normalize away.
import http from "node:http";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { startOrigins, type DemoOrigin, type OriginOptions } from "../../scripts/demo-origins.ts";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";

/** The ring object's RPC methods the end-to-end tests call (src/ring-store/ring-store.ts). */
export interface RingRpc {
  setOriginState(id: string, state: string): Promise<{ ok: boolean }>;
}

/** A running balancer and its origins. */
export interface Balancer {
  readonly url: URL;
  readonly origins: DemoOrigin[];
  /**
   * GET (or another method) as the client `ip`; resolves with status, serving origin and body.
   * `cf` becomes the worker's `request.cf` (see `CF_BLOB_HEADER`); without it the worker sees
   * Miniflare's default `cf` object.
   */
  request(path: string, ip: string, init?: RequestOptions): Promise<Served>;
  /** The ring Durable Object, over Miniflare's binding proxy (JS RPC from Node). */
  ring(): Promise<RingRpc>;
  close(): Promise<void>;
}

/** Options of `Balancer.request`. */
export interface RequestOptions {
  readonly method?: string;
  readonly body?: string;
  /** More request headers (`cf-connecting-ip` is always the `ip` argument). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The `request.cf` object the worker sees, e.g. `{ country: "DE", continent: "EU", latitude: "52.52", longitude: "13.40" }`. */
  readonly cf?: Readonly<Record<string, unknown>>;
}

/** What a client saw. */
export interface Served {
  readonly status: number;
  readonly origin: string | null;
  readonly body: string;
  /** The balancer's response headers (`x-lb-origin`, `x-lb-pool` with DEBUG_HEADERS). */
  readonly headers: Headers;
}

/**
 * Miniflare's entry worker turns this request header (JSON) into the user worker's `request.cf`,
 * replacing its default object (miniflare/dist/src/workers/core/entry.worker.js, `CoreHeaders.CF_BLOB`);
 * `dispatchFetch(url, { cf })` uses the same header. The header itself stays on the request.
 */
export const CF_BLOB_HEADER = "MF-CF-Blob";

/** Starts origins with these ids and the balancer in front of them. */
export async function startBalancer(
  ids: readonly string[],
  vars: Record<string, string> = {},
  originOptions: OriginOptions = {},
): Promise<Balancer> {
  const origins = await startOrigins(ids, originOptions);
  // Options derived from wrangler.toml (bindings, Durable Object, migrations, vars), the script
  // from the --dry-run bundle. Miniflare itself rather than wrangler's test harness: the harness
  // sends the worker's outbound fetches through Node, which turns a refused connection into a
  // synthetic 500 instead of workerd's own network error.
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      compatibilityDate: workerOptions.compatibilityDate,
      compatibilityFlags: workerOptions.compatibilityFlags,
      durableObjects: workerOptions.durableObjects,
      modules: true,
      scriptPath: "dist/index.js",
      bindings: {
        ...(workerOptions.bindings as Record<string, unknown>),
        ORIGINS: JSON.stringify(origins.map((o) => ({ id: o.id, url: o.url }))),
        ...vars,
      },
      host: "127.0.0.1",
      port: 0,
    } as never),
  );
  const url = await mf.ready;
  return {
    url,
    origins,
    async request(path, ip, init = {}) {
      const headers: Record<string, string> = { ...init.headers, "cf-connecting-ip": ip };
      if (init.cf !== undefined) headers[CF_BLOB_HEADER] = JSON.stringify(init.cf);
      const response = await fetch(new URL(path, url), { method: init.method ?? "GET", body: init.body, headers });
      return {
        status: response.status,
        origin: response.headers.get("x-origin-id"),
        body: await response.text(),
        headers: response.headers,
      };
    },
    async ring() {
      const namespace = await mf.getDurableObjectNamespace("RING");
      return namespace.get(namespace.idFromName(RING_OBJECT_NAME)) as unknown as RingRpc;
    },
    async close() {
      await mf.dispose();
      await Promise.all(origins.map((o) => o.stop()));
    },
  };
}

/** Sends a request with a raw request target (e.g. "/\\host/x" or an absolute form). */
export function rawRequest(base: URL, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: target,
        method: "GET",
        headers: { "cf-connecting-ip": "192.0.2.1" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Runs `task` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `GET /__lb/status` as JSON, without a token: the suites that read it run with STATUS_PUBLIC. */
export async function statusOf<T>(lb: Balancer): Promise<T> {
  return (await (await fetch(new URL("/__lb/status", lb.url))).json()) as T;
}

/** Polls the status until `done` holds; returns it, or throws after `limitMs`. */
export async function untilStatus<T>(lb: Balancer, done: (s: T) => boolean, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const s = await statusOf<T>(lb);
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms: ${JSON.stringify(s)}`);
    await sleep(25);
  }
}
