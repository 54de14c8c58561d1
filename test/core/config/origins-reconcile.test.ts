import { describe, expect, test } from "vitest";
import { reconcileOrigins } from "../../../src/core/config/origins-reconcile.ts";
import type { OriginConfig } from "../../../src/core/model.ts";

const o = (id: string, weight = 1): OriginConfig => ({ id, url: `https://${id}.example.com`, weight, region: null });

describe("an edited ORIGINS is applied as a diff of the two lists", () => {
  test("the first seed inserts everything", () => {
    expect(reconcileOrigins(null, [o("a"), o("b")], new Set())).toEqual({
      insert: [o("a"), o("b")],
      update: [],
      remove: [],
      kept: [],
    });
  });

  test("an origin added through the admin API survives an edit that does not name it", () => {
    const plan = reconcileOrigins([o("a"), o("b")], [o("a"), o("c")], new Set(["a", "b", "admin-1"]));
    expect(plan).toEqual({ insert: [o("c")], update: [], remove: ["b"], kept: ["admin-1"] });
  });

  test("an admin change to an origin the edit did not touch stands; one the edit changed takes the new entry", () => {
    const plan = reconcileOrigins([o("a"), o("b")], [o("a"), o("b", 3)], new Set(["a", "b"]));
    expect(plan.update).toEqual([o("b", 3)]);
  });

  test("a rollback to the older list undoes the newer list's additions and keeps admin-made origins", () => {
    const older = [o("a"), o("b")];
    const newer = [o("a"), o("b"), o("c")];
    const plan = reconcileOrigins(newer, older, new Set(["a", "b", "c", "admin-1"]));
    expect(plan).toEqual({ insert: [], update: [], remove: ["c"], kept: ["admin-1"] });
  });

  test("an id the edit adds that the admin API already made is updated, not duplicated", () => {
    const plan = reconcileOrigins([o("a")], [o("a"), o("x", 2)], new Set(["a", "x"]));
    expect(plan).toEqual({ insert: [], update: [o("x", 2)], remove: [], kept: [] });
  });

  test("with no recorded list (an object from before), the stored set is made equal to the list, as before", () => {
    const plan = reconcileOrigins(null, [o("a")], new Set(["a", "z"]));
    expect(plan).toEqual({ insert: [], update: [o("a")], remove: ["z"], kept: [] });
  });
});
