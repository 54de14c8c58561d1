import { env, runInDurableObject } from "cloudflare:test";
import { freshLayout } from "../../src/core/ring/slot-layout.ts";
import { updateLayout } from "../../src/core/ring/layout-update.ts";
import { beforeEach, describe, expect, inject, test } from "vitest";
import { RING_OBJECT_NAME } from "../../src/ring-store/protocol.ts";
import { RingStore } from "../../src/ring-store/ring-store.ts";

const stub = () => env.RING.get(env.RING.idFromName(RING_OBJECT_NAME));
const bootstrap = JSON.parse(inject("origins")) as {
  id: string;
  url: string;
}[];

describe("RingStore", () => {
  test("seeds itself from ORIGINS on first use, at epoch 1, sorted by id", async () => {
    const snapshot = await stub().getSnapshot();
    expect(snapshot.epoch).toBe(1);
    expect(snapshot.origins.map((o) => o.id)).toEqual(["alpha", "bravo", "charlie"]);
    expect(snapshot.origins.every((o) => o.state === "active" && o.weight === 1)).toBe(true);
    expect(snapshot.origins[0]!.url).toBe(bootstrap.find((o) => o.id === "alpha")!.url);
    expect(snapshot.bootstrapErrors).toEqual([]);
  });

  test("getUpdate omits the origin list (and the regions) only when the caller already holds the epoch", async () => {
    const whole = await stub().getSnapshot();
    expect(await stub().getUpdate(whole.epoch)).toEqual({ ...whole, origins: null, regions: null, placements: null });
    expect(await stub().getUpdate(whole.epoch - 1)).toEqual(whole);
    expect(await stub().getUpdate(null)).toEqual(whole);
    // The layouts (~2 bytes per slot) travel only to a caller that lacks their epoch.
    const { layoutEpoch } = whole;
    expect(await stub().getUpdate(whole.epoch, layoutEpoch)).toEqual({
      ...whole,
      origins: null,
      regions: null,
      placements: null,
      layouts: null,
    });
    expect(await stub().getUpdate(null, layoutEpoch)).toEqual({ ...whole, layouts: null });
  });

  test("the first layout is the fresh Maglev fill a cold isolate builds from ORIGINS", async () => {
    const { layouts, layoutEpoch, origins } = await stub().getSnapshot();
    // No REGIONS: one pool, the catch-all.
    expect(Object.keys(layouts)).toEqual([""]);
    const layout = layouts[""]!;
    expect([layout.epoch, layoutEpoch]).toEqual([1, 1]);
    expect(Array.from(layout.owners)).toEqual(Array.from(freshLayout(origins, layout.slotsPerMember).owners));
  });

  test("a state change bumps the epoch and is in the next snapshot", async () => {
    const before = await stub().getSnapshot();
    const change = await stub().setOriginState("bravo", "disabled");
    expect(change).toEqual({ ok: true, epoch: before.epoch + 1 });
    const after = await stub().getSnapshot();
    expect(after.origins.find((o) => o.id === "bravo")!.state).toBe("disabled");
  });

  test("setting the same state again does NOT bump the epoch", async () => {
    await stub().setOriginState("charlie", "draining");
    const epoch = (await stub().getSnapshot()).epoch;
    expect(await stub().setOriginState("charlie", "draining")).toEqual({
      ok: true,
      epoch,
    });
  });

  test("a bad state or an unknown id is refused and changes nothing", async () => {
    const before = await stub().getSnapshot();
    expect(await stub().setOriginState("alpha", "sleeping")).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(await stub().setOriginState("zulu", "disabled")).toMatchObject({
      ok: false,
      status: 404,
    });
    expect(await stub().getSnapshot()).toEqual(before);
  });

  test("keeps its state in SQLite: origins and epoch survive in the tables", async () => {
    await stub().getSnapshot();
    const rows = await runInDurableObject(stub(), (_instance: RingStore, state) =>
      state.storage.sql.exec<{ id: string }>("SELECT id FROM origins ORDER BY id").toArray(),
    );
    expect(rows.map((r) => r.id)).toEqual(["alpha", "bravo", "charlie"]);
  });
});

describe("RingStore and a changed ORIGINS (a redeploy)", () => {
  // A redeploy restarts the object with new variables; constructing the class over the same
  // storage with another env is exactly that.
  // Each test gets an object of its own: two instances over one storage cannot happen in
  // production, and the live instance would keep its cached snapshot.
  let object = stub();
  let objects = 0;
  beforeEach(() => {
    object = env.RING.get(env.RING.idFromName(`redeploy-${++objects}`));
  });

  async function restartWith(origins: unknown) {
    return runInDurableObject(object, async (_instance: RingStore, state) => {
      const restarted = new RingStore(state, {
        ...env,
        ORIGINS: origins,
      } as never);
      return restarted.getSnapshot();
    });
  }

  test("applies an edited list: removes, adds, updates, keeps administrative state, bumps the epoch once", async () => {
    await object.setOriginState("bravo", "draining");
    const before = await object.getSnapshot();
    const edited = [
      { id: "alpha", url: bootstrap[0]!.url, weight: 2 },
      { id: "bravo", url: bootstrap[1]!.url },
      { id: "delta", url: "http://127.0.0.1:9", region: "eu" },
    ];
    const after = await restartWith(JSON.stringify(edited));
    expect(after.epoch).toBe(before.epoch + 1);
    expect(after.origins.map((o) => [o.id, o.weight, o.state])).toEqual([
      ["alpha", 2, "active"],
      ["bravo", 1, "draining"],
      ["delta", 1, "active"],
    ]);
    // The same list again (another restart without a change) changes nothing.
    expect(await restartWith(JSON.stringify(edited))).toEqual(after);
  });

  test("an edited list changes the stored layout by the minimum, and the layout survives a restart", async () => {
    const before = await object.getSnapshot();
    const removed = before.origins[0]!.id;
    const edited = [...bootstrap.filter((origin) => origin.id !== removed), { id: "zulu", url: "http://127.0.0.1:9" }];
    const after = await restartWith(JSON.stringify(edited));
    expect(after.layouts[""]!.epoch).toBe(before.layouts[""]!.epoch + 1);
    expect(after.layouts[""]!.owners.length).toBe(before.layouts[""]!.owners.length);
    // zulu is new to a running object: it waits for its probes, out of the layout (issue 14).
    expect(after.layouts[""]!.ids).not.toContain("zulu");
    const { layout: expected } = updateLayout(
      before.layouts[""]!,
      after.origins.filter((origin) => origin.id !== "zulu"),
      before.layouts[""]!.slotsPerMember,
      after.layouts[""]!.epoch,
    );
    expect(Array.from(after.layouts[""]!.owners)).toEqual(Array.from(expected.owners));
    let moved = 0;
    let lost = 0;
    for (let slot = 0; slot < before.layouts[""]!.owners.length; slot++) {
      const from = before.layouts[""]!.ids[before.layouts[""]!.owners[slot]!];
      const to = after.layouts[""]!.ids[after.layouts[""]!.owners[slot]!];
      if (from !== to) moved++;
      if (from === removed) lost++;
      // Only the removed origin's clients move (to the others); nobody else does.
      else expect(to === from).toBe(true);
    }
    expect(moved).toBe(lost);
    // Nothing else happened: another restart with the same list keeps layout and epoch.
    expect(await restartWith(JSON.stringify(edited))).toEqual(after);
  });

  test("a changed RING_SLOTS_PER_ORIGIN refills the layout once", async () => {
    const before = await object.getSnapshot();
    const after = await runInDurableObject(object, async (_instance: RingStore, state) =>
      new RingStore(state, { ...env, RING_SLOTS_PER_ORIGIN: "50" } as never).getSnapshot(),
    );
    expect(after.layouts[""]!.slotsPerMember).toBe(50);
    expect(after.layouts[""]!.epoch).toBe(before.layouts[""]!.epoch + 1);
    expect(after.epoch).toBe(before.epoch + 1);
  });

  test("an invalid ORIGINS changes nothing and is reported with the field", async () => {
    const before = await object.getSnapshot();
    const after = await restartWith(JSON.stringify([{ id: "x", url: "ftp://nope" }]));
    expect(after.epoch).toBe(before.epoch);
    expect(after.origins).toEqual(before.origins);
    expect(after.bootstrapErrors).toEqual([
      {
        field: "ORIGINS[0].url",
        message: "must use https (or http for local origins)",
      },
    ]);
  });

  test("changes made after seeding stand while ORIGINS itself is unchanged", async () => {
    await object.setOriginState("alpha", "disabled");
    const after = await restartWith(inject("origins"));
    expect(after.origins.find((o) => o.id === "alpha")!.state).toBe("disabled");
  });
  test("an edit or a rollback of ORIGINS keeps origins added through the admin API, and says so (issue 14)", async () => {
    const added = await object.applyChange(
      { op: "add", origin: { id: "admin-1", url: "http://127.0.0.1:9", weight: 1, region: null }, state: "active" },
      { actor: "token:test" },
    );
    expect(added.ok).toBe(true);
    const edited = [...bootstrap, { id: "yankee", url: "http://127.0.0.1:9" }];
    const after = await restartWith(JSON.stringify(edited));
    expect(after.origins.map((o) => o.id).sort()).toEqual(["admin-1", ...bootstrap.map((o) => o.id), "yankee"].sort());
    // A rollback to the list before: yankee (the newer list's) goes, admin-1 stays.
    const rolled = await restartWith(JSON.stringify(bootstrap));
    expect(rolled.origins.map((o) => o.id).sort()).toEqual(["admin-1", ...bootstrap.map((o) => o.id)].sort());
    const [entry] = (await object.getAudit(1)) as unknown as { action: string; detail: Record<string, unknown> }[];
    expect(entry).toMatchObject({ action: "bootstrap", detail: { removed: ["yankee"], keptFromAdmin: ["admin-1"] } });
  });
});

describe("RingStore and REGIONS (a redeploy)", () => {
  let object = stub();
  let objects = 0;
  beforeEach(() => {
    object = env.RING.get(env.RING.idFromName(`regions-${++objects}`));
  });
  const EU = { id: "eu", latitude: 50.11, longitude: 8.68, countries: ["DE"], continents: [] };
  const US = { id: "us", latitude: 39.04, longitude: -77.49, countries: [], continents: ["NA"] };
  const bootstrap = JSON.parse(env.ORIGINS as string) as { id: string; url: string }[];
  const regional = JSON.stringify(bootstrap.map((o, i) => ({ ...o, region: i === 0 ? "eu" : "us" })));

  async function restartWith(vars: Record<string, string>) {
    return runInDurableObject(object, async (_instance: RingStore, state) =>
      new RingStore(state, { ...env, ORIGINS: regional, ...vars } as never).getSnapshot(),
    );
  }

  test("REGIONS seeds the regions and one layout per pool; the same REGIONS again changes nothing", async () => {
    const seeded = await restartWith({ REGIONS: JSON.stringify([US, EU]), DEFAULT_REGION: "us" });
    expect(seeded.regions).toEqual([EU, US]);
    expect(seeded.defaultRegion).toBe("us");
    expect(Object.fromEntries(Object.entries(seeded.layouts).map(([pool, layout]) => [pool, layout.ids]))).toEqual({
      eu: ["alpha"],
      us: ["bravo", "charlie"],
    });
    expect(await restartWith({ REGIONS: JSON.stringify([US, EU]), DEFAULT_REGION: "us" })).toEqual(seeded);
  });

  test("a change through the admin path stands until REGIONS itself changes; an invalid REGIONS changes nothing", async () => {
    const vars = { REGIONS: JSON.stringify([EU, US]) };
    await restartWith(vars);
    const changed = await runInDurableObject(object, async (_instance: RingStore, state) => {
      const store = new RingStore(state, { ...env, ORIGINS: regional, ...vars } as never);
      await store.applyChange({ op: "set-regions", regions: [EU], defaultRegion: null });
      return store.getSnapshot();
    });
    expect(changed.regions).toEqual([EU]);
    // The us origins are in the catch-all pool now.
    expect(changed.layouts[""]!.ids).toEqual(["bravo", "charlie"]);
    // A restart with the same REGIONS keeps the admin change.
    expect((await restartWith(vars)).regions).toEqual([EU]);
    const invalid = await restartWith({ REGIONS: "[{" });
    expect(invalid.regions).toEqual([EU]);
    expect(invalid.epoch).toBe((await restartWith(vars)).epoch);
    // An edited REGIONS is applied.
    const edited = await restartWith({ REGIONS: JSON.stringify([US]) });
    expect(edited.regions).toEqual([US]);
    expect(Object.keys(edited.layouts).sort()).toEqual(["", "us"]);
  });
});

describe("RingStore schema upgrade", () => {
  test("a schema-3 single layout becomes the catch-all pool's, its epoch carried on", async () => {
    const object = env.RING.get(env.RING.idFromName("schema-3"));
    const before = await object.getSnapshot();
    const layout = before.layouts[""]!;
    const after = await runInDurableObject(object, async (_instance: RingStore, state) => {
      const sql = state.storage.sql;
      // What schema 3 stored: one layout row, no pool_layouts, no layout_epoch.
      sql.exec(`CREATE TABLE layout (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL,
        slots_per_member INTEGER NOT NULL, ids TEXT NOT NULL, weights TEXT NOT NULL, owners BLOB NOT NULL)`);
      sql.exec(
        "INSERT INTO layout VALUES (1, 7, ?, ?, ?, ?)",
        layout.slotsPerMember,
        JSON.stringify(layout.ids),
        JSON.stringify(layout.weights),
        new Uint16Array(layout.owners).buffer,
      );
      sql.exec("DROP TABLE pool_layouts");
      sql.exec("DELETE FROM meta WHERE key = 'layout_epoch'");
      const restarted = new RingStore(state, env as never);
      const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray();
      return { snapshot: await restarted.getSnapshot(), tables: tables.map((t) => t.name) };
    });
    expect(after.tables).not.toContain("layout");
    expect(after.snapshot.layoutEpoch).toBe(7);
    expect(after.snapshot.epoch).toBe(before.epoch);
    expect(Array.from(after.snapshot.layouts[""]!.owners)).toEqual(Array.from(layout.owners));
  });

  test("an object created before the steps were numbered (tables, no migration id) comes up unchanged and gets the id", async () => {
    const object = env.RING.get(env.RING.idFromName("unnumbered"));
    await object.setOriginState("bravo", "draining");
    const before = await object.getSnapshot();
    const after = await runInDurableObject(object, async (_instance: RingStore, state) => {
      const sql = state.storage.sql;
      const meta = () => sql.exec<{ key: string; value: string }>("SELECT key, value FROM meta ORDER BY key").toArray();
      const stored = meta().filter((row) => row.key !== "migration");
      sql.exec("DELETE FROM meta WHERE key = 'migration'");
      const snapshot = await new RingStore(state, env as never).getSnapshot();
      return { snapshot, stored, meta: meta() };
    });
    expect(after.snapshot).toEqual(before);
    expect(after.meta).toEqual(
      [...after.stored, { key: "migration", value: "9" }].sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
  });

  test("a current object runs no step again: the migration id stays the last step's", async () => {
    const object = env.RING.get(env.RING.idFromName("numbered"));
    const before = await object.getSnapshot();
    const after = await runInDurableObject(object, async (_instance: RingStore, state) => {
      const restarted = new RingStore(state, env as never);
      const id = state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'migration'").one();
      return { snapshot: await restarted.getSnapshot(), id: id.value };
    });
    expect(after.id).toBe("9");
    expect(after.snapshot).toEqual(before);
  });
});
