// End to end, as an attacker would try it (issue 16): one client address sending requests that
// its origins answer with errors must not eject an origin (which would move every other client on
// it) nor spend the retries that other clients' failovers need. A real outage, seen by many
// clients, still ejects.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mapLimit, sleep, startBalancer, statusOf, type Balancer } from "./harness.ts";

const clients = Array.from({ length: 30 }, (_, i) => `198.51.100.${i + 1}`);
const ATTACKER = "203.0.113.66";

interface Status {
  origins: { id: string; ejectedUntil: number | null; health: string }[];
}
const status = (lb: Balancer) => statusOf<Status>(lb);
const mapping = (lb: Balancer) => mapLimit(clients, 8, async (ip) => (await lb.request("/", ip)).origin ?? "none");
const hits = (lb: Balancer, path: string) =>
  lb.origins.reduce((n, o) => n + o.seen.filter((r) => r.url.startsWith(path)).length, 0);

describe("one client cannot evict everyone's sessions", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["a1", "a2", "a3"], {
      STATUS_PUBLIC: "true",
      HEALTH_PATH: "/healthz",
      HEALTH_INTERVAL_MS: "500",
      REPORT_INTERVAL_MS: "100",
      SNAPSHOT_TTL_MS: "200",
    });
  });
  afterAll(() => lb?.close());

  test("503s and 500s on one client's path eject nothing and move nobody; its retries stay within its share", async () => {
    const before = await mapping(lb);
    const sent = 200;
    // Both kinds in one burst: a 500 is never counted as an origin failure, a 503 is, but only from one address.
    const codes = Array.from({ length: sent }, (_, i) => (i % 4 === 0 ? 500 : 503));
    const answers = await mapLimit(
      codes,
      4,
      async (code) => (await lb.request(`/_special/status?code=${code}`, ATTACKER)).status,
    );
    expect(answers.filter((s) => s === 500 || s === 503)).toHaveLength(sent);
    await sleep(600); // reports flushed and merged, the snapshot refreshed
    const s = await status(lb);
    expect(s.origins.map((o) => o.ejectedUntil)).toEqual([null, null, null]);
    const after = await mapping(lb);
    expect(after).toEqual(before);
    // 150 of the requests were 503s, each retryable on GET; the client's share of the budget
    // (20 % of max(10, 50 % of the window's requests)) lets about a fifth of them be retried.
    const reached = hits(lb, "/_special/status");
    console.log(
      `abuse: ${sent} requests from one address → ${reached} origin hits, 0 ejections, 0 of ${clients.length} clients moved`,
    );
    expect(reached).toBeLessThan(sent + 40);
  });

  test("a real outage seen by many clients still ejects the origin", async () => {
    const before = await mapping(lb);
    const victim = lb.origins.find((o) => o.id === before[0])!;
    victim.setStatus(503);
    victim.setHealthStatus(200); // probes pass: only client traffic can take it out
    try {
      const deadline = Date.now() + 15_000;
      let ejected = false;
      while (!ejected && Date.now() < deadline) {
        await mapping(lb);
        await sleep(150);
        ejected = (await status(lb)).origins.find((o) => o.id === victim.id)!.ejectedUntil !== null;
      }
      expect(ejected).toBe(true);
    } finally {
      victim.setStatus(200);
    }
  });
});
