// The Durable Object's health: probe rounds against real origins on loopback (their /healthz is
// steered over /_control/health/N), the alarm, idempotent rounds, passive reports and ejection.
import {
  createExecutionContext,
  createScheduledController,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeEach, describe, expect, inject, test } from "vitest";
import worker from "../../src/worker/index.ts";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import type { RingStore } from "../../src/ring-store/ring-store.ts";

const origins = JSON.parse(inject("origins")) as { id: string; url: string }[];
const urlOf = (id: string) => origins.find((o) => o.id === id)!.url;
const setHealth = (id: string, status: number) => fetch(`${urlOf(id)}/_control/health/${status}`, { method: "POST" });
const setDelay = (id: string, ms: number) => fetch(`${urlOf(id)}/_control/delay/${ms}`, { method: "POST" });

const INTERVAL = 10_000; // HEALTH_INTERVAL_MS default: rounds closer than 5 s are skipped
const FAST = 2_000; // HEALTH_FAST_INTERVAL_MS default: probes of unsettled origins

let objects = 0;

/** A fresh object with a clock the test moves. */
async function rig() {
  const stub = env.RING.get(env.RING.idFromName(`health-${++objects}`));
  let time = Date.now();
  await runInDurableObject(stub, (instance: RingStore) => {
    instance.now = () => time;
  });
  return {
    stub,
    advance: (ms = INTERVAL) => (time += ms),
    time: () => time,
    async round() {
      time += INTERVAL;
      return stub.probeRound();
    },
    async health(id: string) {
      const detail = await stub.getHealth();
      return detail.origins.find((o) => o.id === id)!.health;
    },
    async view(id: string) {
      return (await stub.getSnapshot()).origins.find((o) => o.id === id)!.health;
    },
  };
}

beforeEach(async () => {
  await Promise.all(origins.map((o) => setHealth(o.id, 200)));
});

describe("probe rounds", () => {
  test("the first round finds every origin up and bumps the epoch once", async () => {
    const r = await rig();
    const before = (await r.stub.getSnapshot()).epoch;
    expect(await r.round()).toMatchObject({ ran: true, probed: 3, dropped: 0, epoch: before + 1 });
    const snapshot = await r.stub.getSnapshot();
    expect(snapshot.origins.map((o) => o.health.status)).toEqual(["up", "up", "up"]);
    expect((await r.health("alpha")).latencyMs).toBeGreaterThanOrEqual(0);
  });

  test("a failing health path takes an origin down after HEALTH_FALL (3) rounds, not before", async () => {
    const r = await rig();
    await r.round();
    await setHealth("bravo", 503);
    await r.round();
    await r.round();
    expect((await r.view("bravo")).status).toBe("up");
    const epoch = (await r.stub.getSnapshot()).epoch;
    await r.round();
    expect((await r.view("bravo")).status).toBe("down");
    expect((await r.stub.getSnapshot()).epoch).toBe(epoch + 1);
    expect(await r.health("bravo")).toMatchObject({ failures: 3, error: "status 503 not in 200-399" });
  });

  test("a down origin comes back after HEALTH_RISE (2) passing rounds, and its slow start begins then", async () => {
    const r = await rig();
    await setHealth("charlie", 503);
    for (let i = 0; i < 3; i++) await r.round();
    expect((await r.view("charlie")).status).toBe("down");
    await setHealth("charlie", 200);
    await r.round();
    expect((await r.view("charlie")).status).toBe("down");
    await r.round();
    expect(await r.view("charlie")).toMatchObject({ status: "up", recoveredAt: r.time() });
  });

  test("an opposite result resets the streak: fail, fail, pass, fail, fail stays up", async () => {
    const r = await rig();
    await r.round();
    for (const status of [503, 503, 200, 503, 503]) {
      await setHealth("alpha", status);
      await r.round();
    }
    expect((await r.view("alpha")).status).toBe("up");
  });

  test("does NOT count a round twice: one within half an interval of the last is skipped", async () => {
    const r = await rig();
    await r.round();
    r.advance(INTERVAL / 2 - 1);
    expect(await r.stub.probeRound()).toMatchObject({ ran: false, skipped: "too-soon" });
    r.advance(1);
    expect(await r.stub.probeRound()).toMatchObject({ ran: true });
  });

  test("does NOT run two rounds at once (cron and alarm overlapping)", async () => {
    const r = await rig();
    r.advance();
    await setDelay("alpha", 200);
    try {
      const [a, b] = await Promise.all([r.stub.probeRound(), r.stub.probeRound()]);
      expect([a.ran, b.ran].sort()).toEqual([false, true]);
      expect([a, b].find((x) => !x.ran)).toMatchObject({ skipped: "in-flight" });
    } finally {
      await setDelay("alpha", 0);
    }
  });

  test("drops the results of an origin removed while it was being probed", async () => {
    const r = await rig();
    r.advance();
    await setDelay("bravo", 200);
    try {
      const result = await runInDurableObject(r.stub, async (instance: RingStore, state) => {
        const round = instance.probeRound();
        state.storage.sql.exec("DELETE FROM origins WHERE id = 'bravo'");
        return round;
      });
      expect(result).toMatchObject({ ran: true, probed: 2, dropped: 1 });
      expect((await r.stub.getHealth()).origins.map((o) => o.id)).toEqual(["alpha", "charlie"]);
    } finally {
      await setDelay("bravo", 0);
    }
  });

  test("the alarm runs a round and re-arms itself", async () => {
    const stub = env.RING.get(env.RING.idFromName(`alarm-${++objects}`));
    await stub.getSnapshot();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.getHealth()).lastRoundAt).not.toBeNull();
    const next = await runInDurableObject(stub, (_i: RingStore, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
  });

  test("a fast round probes only the unsettled origins: a failing one goes down after 1 full + 2 fast rounds", async () => {
    const r = await rig();
    await r.round();
    r.advance(FAST);
    expect(await r.stub.probeRound("unsettled")).toMatchObject({ ran: false, skipped: "all-settled" });
    await setHealth("bravo", 503);
    await r.round();
    const alphaProbed = (await r.health("alpha")).lastProbeAt;
    // Within half a fast interval of the full round: skipped, so nothing is counted twice.
    r.advance(FAST / 2 - 1);
    expect(await r.stub.probeRound("unsettled")).toMatchObject({ ran: false, skipped: "too-soon" });
    r.advance(1);
    expect(await r.stub.probeRound("unsettled")).toMatchObject({ ran: true, probed: 1 });
    expect((await r.view("bravo")).status).toBe("up");
    r.advance(FAST);
    expect(await r.stub.probeRound("unsettled")).toMatchObject({ ran: true, probed: 1 });
    expect((await r.view("bravo")).status).toBe("down");
    expect((await r.health("alpha")).lastProbeAt).toBe(alphaProbed);
    // Down is unsettled too (HAProxy's downinter): it comes back after 2 fast rounds.
    await setHealth("bravo", 200);
    for (let i = 0; i < 2; i++) {
      r.advance(FAST);
      expect(await r.stub.probeRound("unsettled")).toMatchObject({ ran: true, probed: 1 });
    }
    expect((await r.view("bravo")).status).toBe("up");
  });

  test("the alarm comes after HEALTH_FAST_INTERVAL_MS while an origin is unsettled, after the interval otherwise", async () => {
    const stub = env.RING.get(env.RING.idFromName(`alarm-${++objects}`));
    await stub.getSnapshot();
    // The object's clock runs `offset` ahead of the wall clock (the alarm's own times are wall-clock).
    let offset = 0;
    await runInDurableObject(stub, (instance: RingStore) => {
      instance.now = () => Date.now() + offset;
    });
    const pending = () => runInDurableObject(stub, (_i: RingStore, state) => state.storage.getAlarm());
    await setHealth("bravo", 503);
    let before = Date.now();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // A full round: bravo failed once, so it is unsettled and the next alarm is a fast one.
    expect((await stub.getHealth()).origins.map((o) => o.health.failures)).toEqual([0, 1, 0]);
    expect((await pending())! - before).toBeLessThanOrEqual(FAST + 50);
    const alphaProbed = (await stub.getHealth()).origins[0]!.health.lastProbeAt;
    offset = FAST;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // A fast round: only bravo was probed.
    const health = (await stub.getHealth()).origins;
    expect(health.map((o) => o.health.failures)).toEqual([0, 2, 0]);
    expect(health[0]!.health.lastProbeAt).toBe(alphaProbed);
    await setHealth("bravo", 200);
    offset = INTERVAL; // the next full round is due
    before = Date.now();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.getHealth()).origins.map((o) => o.health.status)).toEqual(["up", "up", "up"]);
    // All settled: the next alarm is one interval away.
    expect((await pending())! - before).toBeGreaterThan(INTERVAL - 100);
  });

  test("the cron (scheduled handler, called directly) asks the ring object for a round", async () => {
    const stub = env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));
    const before = (await stub.getHealth()).lastRoundAt;
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const after = (await stub.getHealth()).lastRoundAt;
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
  });
});

describe("passive reports", () => {
  // From three client addresses, as EJECT_MIN_CLIENTS' default asks.
  const fail = (id: string, failures: number) => ({
    id,
    successes: 0,
    failures,
    trailingFailures: failures,
    clients: [1, 2, 3],
  });

  test("5 consecutive failures merged from several reports eject an origin and bump the epoch", async () => {
    const r = await rig();
    const epoch = (await r.stub.getSnapshot()).epoch;
    await r.stub.report([fail("alpha", 2)]);
    await r.stub.report([fail("alpha", 2)]);
    expect((await r.view("alpha")).ejectedUntil).toBeNull();
    const answer = await r.stub.report([fail("alpha", 1)]);
    expect(answer.epoch).toBe(epoch + 1);
    expect((await r.view("alpha")).ejectedUntil).toBe(r.time() + 30_000);
  });

  test("failures from one client address never eject, however many isolates report them", async () => {
    const r = await rig();
    const epoch = (await r.stub.getSnapshot()).epoch;
    for (let i = 0; i < 20; i++) await r.stub.report([{ ...fail("alpha", 50), clients: [0xbad] }]);
    expect((await r.view("alpha")).ejectedUntil).toBeNull();
    expect((await r.stub.getSnapshot()).epoch).toBe(epoch);
    // Two more addresses failing make it a real outage.
    await r.stub.report([{ ...fail("alpha", 1), clients: [0xbad, 0xc0ffee, 0xf00d] }]);
    expect((await r.view("alpha")).ejectedUntil).toBe(r.time() + 30_000);
  });

  test("the answer to a report that ejected carries the update, so the reporter needs no second call", async () => {
    const r = await rig();
    const before = await r.stub.getUpdate(null);
    const calls = (await r.stub.callCounts()).getUpdate;
    const answer = await r.stub.report([fail("alpha", 5)], before.epoch, before.layoutEpoch);
    expect(answer.epoch).toBe(before.epoch + 1);
    expect(answer.update).toMatchObject({ epoch: before.epoch + 1, layouts: null });
    expect(answer.update!.origins!.find((o) => o.id === "alpha")!.health.ejectedUntil).toBe(r.time() + 30_000);
    expect((await r.stub.callCounts()).getUpdate).toBe(calls);
    // A report that changed nothing answers no update.
    expect((await r.stub.report([fail("bravo", 1)], answer.epoch, before.layoutEpoch)).update).toBeNull();
  });

  test("a success in between resets the count to the failures after it", async () => {
    const r = await rig();
    await r.stub.report([fail("alpha", 4)]);
    await r.stub.report([{ id: "alpha", successes: 1, failures: 3, trailingFailures: 2, clients: [1, 2, 3] }]);
    await r.stub.report([fail("alpha", 2)]);
    expect((await r.view("alpha")).ejectedUntil).toBeNull();
    await r.stub.report([fail("alpha", 1)]);
    expect((await r.view("alpha")).ejectedUntil).not.toBeNull();
  });

  test("reports during an ejection do NOT extend it; a passing probe ends it and starts a slow start", async () => {
    const r = await rig();
    await r.stub.report([fail("bravo", 5)]);
    const until = (await r.view("bravo")).ejectedUntil;
    r.advance(1_000);
    await r.stub.report([fail("bravo", 50)]);
    expect((await r.view("bravo")).ejectedUntil).toBe(until);
    await r.round();
    expect(await r.view("bravo")).toMatchObject({ ejectedUntil: r.time(), recoveredAt: r.time() });
  });

  test("at most EJECT_MAX_PERCENT of origins are ejected at once, but one always may be", async () => {
    const r = await rig();
    await r.stub.report([fail("alpha", 5), fail("bravo", 5), fail("charlie", 5)]);
    const views = await Promise.all(["alpha", "bravo", "charlie"].map((id) => r.view(id)));
    expect(views.filter((v) => v.ejectedUntil !== null)).toHaveLength(1);
  });

  test("malformed entries and unknown ids change nothing", async () => {
    const r = await rig();
    const before = await r.stub.getSnapshot();
    await r.stub.report([
      { id: "alpha", successes: -1, failures: 9, trailingFailures: 9, clients: [] },
      { id: "alpha", successes: 0, failures: 2, trailingFailures: 5, clients: [] },
      { id: "zulu", successes: 0, failures: 9, trailingFailures: 9, clients: [] },
      { id: "bravo", successes: 0, failures: Number.NaN, trailingFailures: 0, clients: [] },
    ] as never);
    expect(await r.stub.getSnapshot()).toEqual(before);
  });
});

describe("drain and re-activation", () => {
  test("draining records when the drain started; active again starts a slow start", async () => {
    const r = await rig();
    await r.stub.setOriginState("charlie", "draining");
    let charlie = (await r.stub.getSnapshot()).origins.find((o) => o.id === "charlie")!;
    expect(charlie).toMatchObject({ state: "draining", drainStartedAt: r.time() });
    r.advance(5_000);
    await r.stub.setOriginState("charlie", "active");
    charlie = (await r.stub.getSnapshot()).origins.find((o) => o.id === "charlie")!;
    expect(charlie).toMatchObject({ state: "active", drainStartedAt: null, health: { recoveredAt: r.time() } });
  });
});

describe("a new origin joins only after its probes pass (issue 14)", () => {
  const slotsOf = async (r: Awaited<ReturnType<typeof rig>>, id: string) => {
    const snapshot = await r.stub.getSnapshot();
    return Object.values(snapshot.layouts).reduce((n, layout) => {
      const index = layout.ids.indexOf(id);
      return n + (index < 0 ? 0 : [...layout.owners].filter((owner) => owner === index).length);
    }, 0);
  };

  test("an origin added on a dead port never takes a slot; nobody moves", async () => {
    const r = await rig();
    await r.round();
    const before = await r.stub.getSnapshot();
    const added = await r.stub.applyChange({
      op: "add",
      origin: { id: "dead", url: "http://127.0.0.1:9", weight: 2, region: null },
      state: "active",
    });
    expect(added.ok).toBe(true);
    for (let i = 0; i < 4; i++) await r.round();
    expect(await slotsOf(r, "dead")).toBe(0);
    expect((await r.view("dead")).status).toBe("down");
    const after = await r.stub.getSnapshot();
    // The other origins' layouts are the ones they had: not one client moved.
    for (const [pool, layout] of Object.entries(after.layouts)) {
      expect([...layout.owners].map((o) => layout.ids[o])).toEqual(
        [...before.layouts[pool]!.owners].map((o) => before.layouts[pool]!.ids[o]),
      );
    }
  });

  test("a live one gets its slots after HEALTH_RISE passing probes, then ramps up by slow start", async () => {
    const r = await rig();
    await r.round();
    const live = origins[0]!;
    await r.stub.applyChange({
      op: "add",
      origin: { id: "late", url: live.url, weight: 1, region: null },
      state: "active",
    });
    expect(await slotsOf(r, "late")).toBe(0);
    await r.round(); // pass 1 of 2
    expect(await slotsOf(r, "late")).toBe(0);
    const joinedAt = r.time() + INTERVAL;
    await r.round(); // pass 2: up, joins
    expect(await slotsOf(r, "late")).toBeGreaterThan(0);
    expect(await r.view("late")).toMatchObject({ status: "up", recoveredAt: joinedAt });
  });
});
