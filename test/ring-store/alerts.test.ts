// Health events end to end in the Durable Object: each origin state change (and panic mode) gives
// one JSON log line, one audit entry and one alert, delivered to a real receiver on loopback
// (test/ring-store/alert-receiver.setup.ts) despite its first failures; repeated probes give none.
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, inject, test, vi } from "vitest";
import { parseAlertSettings } from "../../src/core/config/alert-settings.ts";
import { INITIAL_HEALTH } from "../../src/core/health/health.ts";
import { enqueueAlert } from "../../src/ring-store/alert-outbox.ts";
import type { AuditEntry } from "../../src/ring-store/protocol.ts";
import { RingStore } from "../../src/ring-store/ring-store.ts";

const receiver = inject("alertReceiver");
const INTERVAL = 10_000;
const IDS = ["a", "b", "c"];

interface Received {
  attempts: number;
  received: Record<string, unknown>[];
}

let channels = 0;
let lines: Record<string, unknown>[] = [];

beforeEach(() => {
  lines = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      const text = String(args[0]);
      // Every line the balancer prints is one JSON object with its event name.
      if (text.startsWith("{")) lines.push(JSON.parse(text) as Record<string, unknown>);
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A fresh object whose origins are the channel's own, alerting to the channel's hook. */
async function rig(options: { failFirst?: number; retries?: number } = {}) {
  const channel = `ch${++channels}-${Date.now()}`;
  const control = `${receiver}/_control/${channel}`;
  await fetch(`${control}/fail/${options.failFirst ?? 0}`, { method: "POST" });
  const stub = env.RING.get(env.RING.idFromName(`alerts-${channel}`));
  let time = Date.now();
  const alerting = parseAlertSettings({
    ALERT_WEBHOOK_URL: `${receiver}/hook/${channel}`,
    ALERT_BACKOFF_MS: "10",
    ALERT_TIMEOUT_MS: "2000",
    ALERT_RETRIES: String(options.retries ?? 3),
  });
  if (!alerting.ok) throw new Error("test alert settings invalid");
  await runInDurableObject(stub, (instance: RingStore, state) => {
    instance.now = () => time;
    instance.alerts.settings = alerting.value;
    const sql = state.storage.sql;
    sql.exec("DELETE FROM origins");
    for (const id of IDS) {
      sql.exec(
        "INSERT INTO origins (id, url, weight, region, state, health) VALUES (?, ?, 1, NULL, 'active', NULL)",
        id,
        `${receiver}/origin/${channel}/${id}`,
      );
      // Where announcements start from, as for an origin the object seeded itself.
      sql.exec("INSERT OR REPLACE INTO health_announced (id, status, ejected) VALUES (?, 'unknown', 0)", id);
    }
  });
  return {
    stub,
    channel,
    advance: (ms: number) => (time += ms),
    now: () => time,
    setHealth: (id: string, status: number) => fetch(`${control}/health/${id}/${status}`, { method: "POST" }),
    async rounds(n: number) {
      for (let i = 0; i < n; i++) {
        time += INTERVAL;
        await stub.probeRound();
      }
    },
    received: async () => (await (await fetch(control)).json()) as Received,
    pending: () =>
      runInDurableObject(
        stub,
        (_i: RingStore, state) =>
          state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM alert_outbox").one().n,
      ),
    health: async () => (await stub.getAudit(1_000)).filter((e) => e.action === "health" || e.action === "alert"),
  };
}

type Rig = Awaited<ReturnType<typeof rig>>;

/** Waits until the outbox is empty (every alert delivered or abandoned). */
async function drained(r: Rig): Promise<void> {
  await vi.waitFor(async () => expect(await r.pending()).toBe(0), { timeout: 5_000, interval: 20 });
}

const events = (name: string) => lines.filter((line) => line.event === name);

describe("alerts", () => {
  test("a receiver failing its first 2 tries gets exactly one alert per state change, none per repeated probe", async () => {
    const r = await rig({ failFirst: 2 });
    await r.rounds(1); // first verdicts: unknown → up, logged but no alert
    await r.setHealth("b", 503);
    await r.rounds(3); // HEALTH_FALL 3: down at the third
    await r.rounds(4); // still down: nothing new
    await drained(r);
    let got = await r.received();
    expect(got.received).toHaveLength(1);
    expect(got.attempts).toBe(3);
    expect(got.received[0]).toMatchObject({ event: "origin.down", origin: "b", pool: null, from: "up", to: "down" });
    expect(got.received[0]!.detail).toMatchObject({ error: "status 503 not in 200-399" });
    expect(typeof got.received[0]!.epoch).toBe("number");
    expect(new Date(got.received[0]!.at as string).getTime()).not.toBeNaN();

    await r.setHealth("b", 200);
    await r.rounds(5); // up after HEALTH_RISE 2; then settled
    await drained(r);
    got = await r.received();
    expect(got.received.map((b) => [b.event, b.origin])).toEqual([
      ["origin.down", "b"],
      ["origin.up", "b"],
    ]);
    expect(new Set(got.received.map((b) => b.id)).size).toBe(2);
    expect(got.attempts).toBe(4);
  });

  test("the audit log has one health entry per change and one alert entry per delivery", async () => {
    const r = await rig({ failFirst: 1 });
    await r.rounds(1);
    await r.setHealth("a", 503);
    await r.rounds(6);
    await drained(r);
    const audit = (await r.health()).reverse();
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ["health", "health"],
      ["alert", "health"],
    ]);
    expect(audit[0]!.detail).toMatchObject({ event: "origin.down", origin: "a", from: "up", to: "down" });
    expect(audit[1]!.detail).toMatchObject({ result: "delivered", change: "origin.down", origin: "a", attempts: 2 });
    expect(audit[1]!.epoch).toBe(audit[0]!.epoch);
  });

  test("log lines are JSON with their event: origin.up (first verdict), origin.down, probe.round, alert.retry, alert.sent", async () => {
    const r = await rig({ failFirst: 1 });
    await r.rounds(1);
    expect(events("origin.up").map((l) => l.origin)).toEqual(IDS);
    expect(events("probe.round")).toMatchObject([{ level: "info", probed: 3, passed: 3, failed: 0, scope: "all" }]);
    await r.setHealth("c", 503);
    await r.rounds(3);
    await drained(r);
    expect(events("origin.down")).toMatchObject([{ level: "warn", origin: "c", from: "up", to: "down" }]);
    expect(events("probe.round").at(-1)).toMatchObject({ probed: 3, passed: 2, failed: 1 });
    expect(events("alert.retry")).toMatchObject([
      { level: "warn", change: "origin.down", attempts: 1, error: "status 500" },
    ]);
    expect(events("alert.sent")).toMatchObject([{ level: "info", change: "origin.down", attempts: 2 }]);
    for (const line of lines) expect(new Date(line.at as string).toISOString()).toBe(line.at);
    // The webhook URL is a secret: it appears in no line.
    expect(JSON.stringify(lines)).not.toContain(r.channel);
  });

  test("panic mode starts when fewer than half the origins are eligible and ends when they come back: one alert each", async () => {
    const r = await rig();
    await r.rounds(1);
    await r.setHealth("a", 503);
    await r.setHealth("b", 503);
    await r.rounds(3);
    await r.setHealth("a", 200);
    await r.setHealth("b", 200);
    await r.rounds(3);
    await drained(r);
    const got = (await r.received()).received.map((b) => `${b.event}:${b.origin ?? ""}`);
    expect(got.filter((e) => e.startsWith("panic"))).toEqual(["panic.start:", "panic.end:"]);
    expect(got.filter((e) => e.startsWith("origin.down")).sort()).toEqual(["origin.down:a", "origin.down:b"]);
    const start = (await r.received()).received.find((b) => b.event === "panic.start")!;
    expect(start.detail).toEqual({ eligible: 1, active: 3, thresholdPercent: 50 });
  });

  test("an ejection by passive reports and its expiry give origin.ejected and origin.restored, once each", async () => {
    const r = await rig();
    await r.rounds(1);
    const fail = { id: "a", successes: 0, failures: 5, trailingFailures: 5, clients: [1, 2, 3] };
    await r.stub.report([fail]);
    await r.stub.report([fail]); // during the ejection: ignored, nothing new
    r.advance(30_000); // EJECT_BASE_MS: over; the next round notices
    await r.rounds(2);
    await drained(r);
    const got = (await r.received()).received;
    expect(got.map((b) => [b.event, b.origin, b.from, b.to])).toEqual([
      ["origin.ejected", "a", "in", "ejected"],
      ["origin.restored", "a", "ejected", "in"],
    ]);
  });

  test("an origin the object sees for the first time (down, awaiting probes) is no event; its first up is one alert", async () => {
    const r = await rig();
    await r.rounds(1);
    await runInDurableObject(r.stub, (_i: RingStore, state) => {
      const health = JSON.stringify({ ...INITIAL_HEALTH, status: "down", error: "awaiting its first probes" });
      state.storage.sql.exec(
        "INSERT INTO origins (id, url, weight, region, state, health) VALUES ('d', ?, 1, NULL, 'active', ?)",
        `${receiver}/origin/${r.channel}/d`,
        health,
      );
    });
    await r.rounds(1); // first seen, still down (HEALTH_RISE 2): where its announcements start
    expect(events("origin.down")).toEqual([]);
    await r.rounds(3);
    await drained(r);
    expect((await r.received()).received.map((b) => [b.event, b.origin, b.from])).toEqual([["origin.up", "d", "down"]]);
  });

  test("an alert the receiver keeps refusing is abandoned after ALERT_RETRIES, with an audit entry and alert.failed", async () => {
    const r = await rig({ failFirst: 100, retries: 2 });
    await r.rounds(1);
    await r.setHealth("a", 503);
    await r.rounds(3);
    await drained(r);
    expect((await r.received()).attempts).toBe(3);
    const [alert] = (await r.health()).filter((e: AuditEntry) => e.action === "alert");
    expect(alert!.detail).toMatchObject({ result: "abandoned", attempts: 3, error: "status 500" });
    expect(events("alert.failed")).toMatchObject([{ level: "error", change: "origin.down", attempts: 3 }]);
  });

  test("a restart loses nothing: an alert still in the outbox is sent by the next object", async () => {
    const r = await rig();
    await runInDurableObject(r.stub, async (_instance: RingStore, state) => {
      const body = {
        event: "origin.down",
        origin: "a",
        pool: null,
        from: "up",
        to: "down",
        at: "",
        epoch: 1,
        detail: {},
      };
      enqueueAlert(state.storage.sql, body, Date.now());
      // The object restarts with a webhook configured (as a new deployment would start it).
      new RingStore(state, { ...env, ALERT_WEBHOOK_URL: `${receiver}/hook/${r.channel}` } as never);
    });
    await drained(r);
    expect((await r.received()).received).toMatchObject([{ event: "origin.down", origin: "a" }]);
  });

  test("an invalid webhook URL logs one misconfigured line, queues nothing and never stops probing", async () => {
    const r = await rig();
    await r.setHealth("a", 503); // a change that would alert: origin.down
    const result = await runInDurableObject(r.stub, async (_instance: RingStore, state) => {
      const store = new RingStore(state, { ...env, ALERT_WEBHOOK_URL: "http://hooks.example/secret-path" } as never);
      let time = r.now();
      store.now = () => time;
      const rounds = [];
      for (let i = 0; i < 4; i++) {
        time += INTERVAL;
        rounds.push(await store.probeRound());
      }
      return { enabled: store.alerts.enabled(), round: rounds[0] };
    });
    expect(result).toMatchObject({ enabled: false, round: { ran: true, probed: 3 } });
    // The change was seen and logged, yet nothing was queued or sent.
    expect(events("origin.down")).toMatchObject([{ origin: "a" }]);
    expect((await r.received()).attempts).toBe(0);
    const misconfigured = events("misconfigured");
    expect(misconfigured).toMatchObject([
      { level: "error", scope: "alerts", errors: [{ field: "ALERT_WEBHOOK_URL" }] },
    ]);
    expect(JSON.stringify(misconfigured)).not.toContain("secret-path");
    expect(await r.pending()).toBe(0);
  });
});
