import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, test } from "vitest";
import { parseSettings, type Settings } from "../../src/core/config/settings.ts";
import type { Env } from "../../src/worker/env.ts";
import {
  cacheStatus,
  currentTable,
  heldTable,
  resetRoutingCache,
  type SnapshotReader,
} from "../../src/worker/routing-cache.ts";
import { UNKNOWN_HEALTH } from "../../src/core/model.ts";
import { freshLayout } from "../../src/core/ring/slot-layout.ts";
import type { SnapshotUpdate } from "../../src/ring-store/protocol.ts";

const settings: Settings = (() => {
  const parsed = parseSettings({
    SNAPSHOT_TTL_MS: "1000",
    DO_TIMEOUT_MS: "100",
  });
  if (!parsed.ok) throw new Error("test settings invalid");
  return parsed.value;
})();

const origin = (id: string) => ({
  id,
  url: `http://${id}.test`,
  weight: 1,
  region: null,
  state: "active" as const,
  drainStartedAt: null,
  health: UNKNOWN_HEALTH,
});
/** A snapshot whose layout epoch is its epoch (a fresh fill of its origins), unless given. */
const snapshot = (epoch: number, ids: string[], layoutEpoch = epoch): SnapshotUpdate => ({
  epoch,
  origins: ids.map(origin),
  layoutEpoch,
  layouts: { "": freshLayout(ids.map(origin), settings.ringSlotsPerOrigin, layoutEpoch) },
  regions: [],
  defaultRegion: null,
  bootstrapErrors: [],
});
const testEnv = {
  ...env,
  ORIGINS: JSON.stringify([{ id: "boot", url: "http://boot.test" }]),
} as Env;

/** A fake clock and a reader that counts its calls. */
function rig(answer: (knownEpoch: number | null, knownLayoutEpoch: number | null) => Promise<SnapshotUpdate>) {
  let time = 1_000_000;
  let calls = 0;
  const known: (number | null)[] = [];
  const knownLayouts: (number | null)[] = [];
  const read: SnapshotReader = (_env, knownEpoch, knownLayoutEpoch) => {
    calls++;
    known.push(knownEpoch);
    knownLayouts.push(knownLayoutEpoch);
    return answer(knownEpoch, knownLayoutEpoch);
  };
  return {
    now: () => time,
    advance: (ms: number) => (time += ms),
    read,
    calls: () => calls,
    known,
    knownLayouts,
    async get() {
      const ctx = createExecutionContext();
      const table = await currentTable(testEnv, settings, ctx, undefined, () => time, read);
      await waitOnExecutionContext(ctx);
      return table;
    },
  };
}

beforeEach(() => resetRoutingCache());

describe("routing cache", () => {
  test("a cold isolate waits once for the Durable Object and routes with its snapshot", async () => {
    const r = rig(async () => snapshot(7, ["a", "b"]));
    const table = await r.get();
    expect(table).toMatchObject({
      source: "durable-object",
      table: { epoch: 7 },
    });
    expect(r.calls()).toBe(1);
  });

  test("does NOT ask the Durable Object again within the TTL, however many requests", async () => {
    const r = rig(async () => snapshot(7, ["a", "b"]));
    for (let i = 0; i < 500; i++) {
      await r.get();
      r.advance(1);
    }
    expect(r.calls()).toBe(1);
    r.advance(1000);
    await r.get();
    expect(r.calls()).toBe(2);
  });

  test("a refresh after the TTL happens in the background: the request is answered from the old table", async () => {
    let epoch = 1;
    const r = rig(async () => snapshot(epoch, ["a", "b"]));
    await r.get();
    epoch = 2;
    r.advance(1000);
    const ctx = createExecutionContext();
    const served = await currentTable(testEnv, settings, ctx, undefined, r.now, r.read);
    expect(served?.table.epoch).toBe(1);
    await waitOnExecutionContext(ctx);
    expect((await r.get())?.table.epoch).toBe(2);
  });

  test("heldTable gives nothing on a cold isolate and does NOT ask the Durable Object", async () => {
    const r = rig(async () => snapshot(7, ["a", "b"]));
    const ctx = createExecutionContext();
    expect(heldTable(testEnv, settings, ctx, undefined, r.now, r.read)).toBeNull();
    await waitOnExecutionContext(ctx);
    expect(r.calls()).toBe(0);
  });

  test("heldTable gives the held table synchronously, the one currentTable gives", async () => {
    const r = rig(async () => snapshot(7, ["a", "b"]));
    const table = await r.get();
    const ctx = createExecutionContext();
    expect(heldTable(testEnv, settings, ctx, undefined, r.now, r.read)).toBe(table);
    await waitOnExecutionContext(ctx);
    expect(r.calls()).toBe(1);
  });

  test("heldTable on a stale table answers from it and refreshes in the background, once", async () => {
    let epoch = 1;
    const r = rig(async () => snapshot(epoch, ["a", "b"]));
    await r.get();
    epoch = 2;
    r.advance(1000);
    let located = 0;
    const ctx = createExecutionContext();
    const location = () => (located++, null);
    expect(heldTable(testEnv, settings, ctx, location, r.now, r.read)?.table.epoch).toBe(1);
    // A second request while the refresh is in flight starts no other.
    expect(heldTable(testEnv, settings, ctx, location, r.now, r.read)?.table.epoch).toBe(1);
    await waitOnExecutionContext(ctx);
    expect([r.calls(), located]).toEqual([2, 1]);
    expect((await r.get())?.table.epoch).toBe(2);
  });

  test("an unchanged epoch transfers no origin list and does NOT rebuild the ring", async () => {
    const r = rig(async (knownEpoch) =>
      knownEpoch === 3 ? { ...snapshot(3, []), origins: null } : snapshot(3, ["a", "b"]),
    );
    const first = await r.get();
    r.advance(1000);
    await r.get();
    const second = await r.get();
    expect(r.known).toEqual([null, 3]);
    expect(second?.table).toBe(first?.table);
    expect(second?.receivedAt).toBe(first!.receivedAt + 1000);
  });

  test("a new epoch with the same layout ships no layout and reuses the ring", async () => {
    let epoch = 3;
    const r = rig(async (_known, knownLayout) => {
      const update = snapshot(epoch, ["a", "b"], 1);
      return knownLayout === 1 ? { ...update, layouts: null } : update;
    });
    const first = await r.get();
    epoch = 4;
    r.advance(1000);
    await r.get();
    const second = await r.get();
    expect(r.knownLayouts).toEqual([null, 1]);
    expect(second?.table.epoch).toBe(4);
    expect(second?.table.ring).toBe(first?.table.ring);
  });

  test("a refresh that lacks a layout this isolate does not hold keeps the last table", async () => {
    let epoch = 3;
    const r = rig(async () => ({
      ...snapshot(epoch, ["a", "b"], epoch),
      layouts: epoch === 3 ? snapshot(3, ["a", "b"]).layouts : null,
    }));
    const first = await r.get();
    epoch = 4;
    r.advance(1000);
    await r.get();
    const second = await r.get();
    expect(second?.table).toBe(first?.table);
    expect(cacheStatus().lastError).toMatch(/no layouts 4/);
  });

  test("a new epoch rebuilds the ring with the new origins", async () => {
    let epoch = 3;
    const r = rig(async () => snapshot(epoch, epoch === 3 ? ["a", "b"] : ["a", "b", "c"]));
    await r.get();
    epoch = 4;
    r.advance(1000);
    await r.get();
    const table = await r.get();
    expect(table?.table.epoch).toBe(4);
    expect(table?.table.origins.map((o) => o.id)).toEqual(["a", "b", "c"]);
  });

  test("a bootstrap table asks for the full snapshot, never 'since epoch 0'", async () => {
    let fail = true;
    const r = rig(async () => {
      if (fail) throw new Error("unreachable");
      return snapshot(0, ["a"]);
    });
    expect((await r.get())?.source).toBe("bootstrap");
    fail = false;
    r.advance(1000);
    await r.get();
    expect(r.known).toEqual([null, null]);
    expect((await r.get())?.source).toBe("durable-object");
  });

  test("a cold isolate whose Durable Object fails routes with the bootstrap list", async () => {
    const r = rig(async () => {
      throw new Error("overloaded");
    });
    const table = await r.get();
    expect(table).toMatchObject({ source: "bootstrap", table: { epoch: 0 } });
    expect(table?.table.origins.map((o) => o.id)).toEqual(["boot"]);
  });

  test("a cold isolate waits at most DO_TIMEOUT_MS for a hung Durable Object", async () => {
    const r = rig(() => new Promise<SnapshotUpdate>(() => undefined));
    const table = await r.get();
    expect(table?.source).toBe("bootstrap");
    expect(cacheStatus().lastError).toBe("Durable Object did not answer within 100 ms");
  });

  test("a failing Durable Object does NOT take the last snapshot away, and is retried once per TTL", async () => {
    let fail = false;
    const r = rig(async () => {
      if (fail) throw new Error("unreachable");
      return snapshot(4, ["a", "b", "c"]);
    });
    await r.get();
    fail = true;
    r.advance(1000);
    await r.get();
    const after = await r.get();
    expect(after).toMatchObject({
      source: "durable-object",
      table: { epoch: 4 },
    });
    expect(r.calls()).toBe(2);
  });
});
