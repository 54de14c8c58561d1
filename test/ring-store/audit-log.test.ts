// The audit log keeps state toggles apart from configuration changes (issue 16: 1,000 toggles
// flushed the record of who added an origin).
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { appendAudit, readAudit } from "../../src/ring-store/audit-log.ts";
import { AUDIT_KEEP } from "../../src/ring-store/protocol.ts";
import type { RingStore } from "../../src/ring-store/ring-store.ts";

describe("audit log retention", () => {
  test("more than AUDIT_KEEP toggles keep every configuration change; each kind keeps its newest AUDIT_KEEP", async () => {
    const object = env.RING.get(env.RING.idFromName("audit-retention"));
    const kept = await runInDurableObject(object, async (_: RingStore, state) => {
      const sql = state.storage.sql;
      sql.exec("DELETE FROM audit");
      appendAudit(sql, 1, 1, "add", { id: "delta" }, "token:abcd1234 ip:192.0.2.1");
      for (let i = 0; i < AUDIT_KEEP + 200; i++) appendAudit(sql, 2 + i, 2 + i, "set-state", { i }, "cli");
      appendAudit(sql, 5_000, 5_000, "remove", { id: "delta" }, "cli");
      const all = [];
      for (let before: number | null = null; ;) {
        const page = readAudit(sql, AUDIT_KEEP, before);
        all.push(...page);
        if (page.length < AUDIT_KEEP) break;
        before = page.at(-1)!.seq;
      }
      return all.map((e) => e.action);
    });
    expect(kept.filter((a) => a === "set-state")).toHaveLength(AUDIT_KEEP);
    expect(kept.filter((a) => a !== "set-state")).toEqual(["remove", "add"]);
  });

  test("health events and alert deliveries are a kind of their own: a flapping origin flushes neither toggles nor configuration", async () => {
    const object = env.RING.get(env.RING.idFromName("audit-health-kind"));
    const kept = await runInDurableObject(object, async (_: RingStore, state) => {
      const sql = state.storage.sql;
      sql.exec("DELETE FROM audit");
      appendAudit(sql, 1, 1, "add", { id: "delta" }, "cli");
      appendAudit(sql, 2, 2, "set-state", { id: "delta" }, "cli");
      for (let i = 0; i < AUDIT_KEEP + 50; i++) {
        appendAudit(sql, 3 + i, 3, i % 2 === 0 ? "health" : "alert", { i }, "health");
      }
      return sql
        .exec<{ action: string; n: number }>("SELECT action, COUNT(*) AS n FROM audit GROUP BY action")
        .toArray();
    });
    const count = Object.fromEntries(kept.map((row) => [row.action, row.n]));
    expect(count).toEqual({ add: 1, "set-state": 1, health: AUDIT_KEEP / 2, alert: AUDIT_KEEP / 2 });
  });
});
