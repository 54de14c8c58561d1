// GET {prefix}/metrics inside workerd, in front of the loopback origins of test/worker/origins.setup.ts: scraped,
// parsed with a real parser of the Prometheus text format (test/prometheus.ts), and checked against the status JSON,
// the admin API's origin list and the Durable Object's own call counts.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, test } from "vitest";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import type { Env } from "../../src/worker/env.ts";
import worker from "../../src/worker/index.ts";
import { parseScrape, valueOf, type ParsedFamily } from "../prometheus.ts";

type IncomingRequest = Request<unknown, IncomingRequestCfProperties>;

const AUTH = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const stub = () => env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Init {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly env?: Partial<Record<string, unknown>>;
  readonly ip?: string;
}

async function call(path: string, init: Init = {}): Promise<Response> {
  const headers = new Headers({ "cf-connecting-ip": init.ip ?? "203.0.113.9", ...init.headers });
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const ctx = createExecutionContext();
  // No slow start: origins just probed up would otherwise ramp, and two reads a few ms apart could differ.
  const testEnv = { ...(env as Env), SLOW_START_MS: "0", ...init.env } as Env;
  const body = init.json === undefined ? null : JSON.stringify(init.json);
  const request = new Request(`https://lb.example${path}`, { method: init.method ?? "GET", headers, body });
  const response = await worker.fetch(request as IncomingRequest, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

interface StatusOrigin {
  id: string;
  weight: number;
  state: string;
  traffic: number;
  health: string;
  ejectedUntil: number | null;
  probe: { lastAt: number | null; latencyMs: number | null; passiveFailures: number } | null;
}
interface Status {
  epoch: number;
  source: string;
  panic: boolean;
  eligible: number;
  lastProbeRoundAt: number | null;
  origins: StatusOrigin[];
}
interface Listed {
  layoutEpoch: number;
  origins: { id: string; region: string | null; share: number }[];
}

const status = async () => (await (await call("/__lb/status", { headers: AUTH })).json()) as Status;

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const response = await call("/__lb/metrics", { headers: AUTH });
  expect(response.status).toBe(200);
  return parseScrape(await response.text());
}

beforeAll(async () => {
  // One probe round, then until this isolate's table has its verdicts: every origin has a latency and is up.
  await stub().probeRound();
  for (let i = 0; i < 40 && !(await status()).origins.every((o) => o.health === "up"); i++) await sleep(100);
});

describe("GET {prefix}/metrics", () => {
  test("needs the admin token unless STATUS_PUBLIC, like the status JSON", async () => {
    const anonymous = await call("/__lb/metrics");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect(await anonymous.text()).not.toContain("lb_");
    expect((await call("/__lb/metrics", { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(
      401,
    );
    expect((await call("/__lb/metrics", { env: { ADMIN_TOKEN: undefined }, headers: AUTH })).status).toBe(403);
    const open = await call("/__lb/metrics", { env: { STATUS_PUBLIC: "true" } });
    expect(open.status).toBe(200);
    expect(parseScrape(await open.text()).has("lb_epoch")).toBe(true);
    expect((await call("/__lb/metrics", { method: "POST", headers: AUTH })).status).toBe(405);
  });

  test("answers the format's Content-Type, is never cached, and names no origin URL", async () => {
    const response = await call("/__lb/metrics", { headers: AUTH });
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const text = await response.text();
    for (const url of JSON.parse(env.ORIGINS as string).map((o: { url: string }) => o.url)) {
      expect(text).not.toContain(new URL(url).host);
    }
  });

  test("agrees with the status JSON and the admin API's origin list", async () => {
    const before = await status();
    const listed = (await (await call("/__lb/api/origins", { headers: AUTH })).json()) as Listed;
    const m = await scrape();
    expect(valueOf(m, "lb_epoch")).toBe(before.epoch);
    expect(valueOf(m, "lb_layout_epoch")).toBe(listed.layoutEpoch);
    expect(valueOf(m, "lb_panic")).toBe(before.panic ? 1 : 0);
    expect(valueOf(m, "lb_eligible_origins")).toBe(before.eligible);
    expect(valueOf(m, "lb_durable_object_up")).toBe(1);
    expect(valueOf(m, "lb_isolate_snapshot_source", { source: before.source })).toBe(1);
    expect(valueOf(m, "lb_last_probe_round_timestamp_seconds")).toBe(before.lastProbeRoundAt! / 1000);
    expect(before.origins.map((o) => o.id)).toEqual(["alpha", "bravo", "charlie"]);
    for (const o of before.origins) {
      const origin = { origin: o.id };
      expect(valueOf(m, "lb_origin_state", { ...origin, state: o.state })).toBe(1);
      expect(valueOf(m, "lb_origin_health", { ...origin, health: o.health })).toBe(1);
      expect(m.get("lb_origin_state")!.series.filter((s) => s.labels.origin === o.id && s.value === 1)).toHaveLength(1);
      expect(valueOf(m, "lb_origin_weight", origin)).toBe(o.weight);
      expect(valueOf(m, "lb_origin_ejected", origin)).toBe(o.ejectedUntil === null ? 0 : 1);
      expect(valueOf(m, "lb_origin_traffic_ratio", origin)).toBeCloseTo(o.traffic, 3);
      expect(valueOf(m, "lb_origin_probe_latency_seconds", origin)).toBe(o.probe!.latencyMs! / 1000);
      expect(valueOf(m, "lb_origin_last_probe_timestamp_seconds", origin)).toBe(o.probe!.lastAt! / 1000);
      expect(valueOf(m, "lb_origin_passive_failures", origin)).toBe(o.probe!.passiveFailures);
      expect(valueOf(m, "lb_origin_ejection_streak", origin)).toBe(0);
      // The share of the key space is the admin API's, exactly: the slots over the pool's.
      const share = listed.origins.find((l) => l.id === o.id)!.share;
      expect(valueOf(m, "lb_origin_key_space_ratio", origin)).toBe(share);
      const pool = m.get("lb_origin_slots")!.series.find((s) => s.labels.origin === o.id)!.labels.pool!;
      expect(valueOf(m, "lb_origin_slots", origin) / valueOf(m, "lb_pool_slots", { pool })).toBe(share);
    }
    // With every origin up, each serves its own clients and nobody else's.
    const serving = m.get("lb_origin_serving_ratio")!.series.map((s) => s.value);
    expect(serving.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  test("the Durable Object's call counts lie between its own counts before and after the scrape", async () => {
    const before = await stub().callCounts();
    const m = await scrape();
    const after = await stub().callCounts();
    for (const method of ["getUpdate", "report", "probeRound"] as const) {
      const counted = valueOf(m, "lb_durable_object_calls_total", { method });
      expect(counted, method).toBeGreaterThanOrEqual(before[method]);
      expect(counted, method).toBeLessThanOrEqual(after[method]);
    }
    expect(valueOf(m, "lb_durable_object_calls_total", { method: "probeRound" })).toBeGreaterThanOrEqual(1);
  });

  test("this isolate's request counters grow by the requests it served, labelled with its name", async () => {
    const first = await scrape();
    const isolate = first.get("lb_isolate_requests_total")!.series[0]!.labels.isolate!;
    expect(isolate).toMatch(/^[0-9a-f]{8}$/);
    for (let i = 0; i < 5; i++) expect((await call("/", { ip: `192.0.2.${i + 1}` })).status).toBe(200);
    const second = await scrape();
    const requests = (m: Map<string, ParsedFamily>) => valueOf(m, "lb_isolate_requests_total", { isolate });
    expect(requests(second) - requests(first)).toBe(5);
    expect(valueOf(second, "lb_isolate_errors_total", { isolate })).toBe(valueOf(first, "lb_isolate_errors_total"));
  });

  test("a drained origin shows as draining and taking nothing, in the metrics as in the status JSON", async () => {
    // DRAIN_MS 0: a draining origin loses its clients at once, so both reads see the same weight.
    const noRamp = { SLOW_START_MS: "0", DRAIN_MS: "0" };
    const drain = (state: string) =>
      call("/__lb/api/origins/bravo/state", { method: "PUT", headers: AUTH, json: { state }, env: noRamp });
    expect((await drain("draining")).status).toBe(200);
    try {
      const json = ((await (await call("/__lb/status", { headers: AUTH, env: noRamp })).json()) as Status).origins;
      const bravo = json.find((o) => o.id === "bravo")!;
      const response = await call("/__lb/metrics", { headers: AUTH, env: noRamp });
      const m = parseScrape(await response.text());
      expect(bravo).toMatchObject({ state: "draining", traffic: 0 });
      expect(valueOf(m, "lb_origin_state", { origin: "bravo", state: "draining" })).toBe(1);
      expect(valueOf(m, "lb_origin_state", { origin: "bravo", state: "active" })).toBe(0);
      expect(valueOf(m, "lb_origin_traffic_ratio", { origin: "bravo" })).toBe(0);
      expect(valueOf(m, "lb_origin_serving_ratio", { origin: "bravo" })).toBe(0);
      // Its clients went to the others; its share of the key space did not change.
      expect(valueOf(m, "lb_origin_key_space_ratio", { origin: "bravo" })).toBeGreaterThan(0);
      expect(valueOf(m, "lb_eligible_origins")).toBe(json.filter((o) => o.traffic > 0).length);
    } finally {
      expect((await drain("active")).status).toBe(200);
    }
  });
});
