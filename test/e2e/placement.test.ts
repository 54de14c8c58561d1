// End to end: a small skewed workload through the built worker in workerd (Miniflare) in front of
// five loopback origins: ordinary clients on their own addresses plus one NAT address carrying
// about a quarter of all requests for 450 users, each with a cookie jar like a browser. After a
// learning phase the edge-wide view has split the NAT address: every origin is within the bound,
// and every user, the NAT's counted by cookie jar, stays on one origin.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mapLimit, startBalancer, type Balancer } from "./harness.ts";
import { randomUnit } from "../../scripts/lib/random.ts";

const ORIGINS = ["o1", "o2", "o3", "o4", "o5"];
const NAT = "100.64.0.1";
const NAT_USERS = 450;
const NAT_REQUESTS_PER_USER = 1;
const ORDINARY = Array.from({ length: 1_500 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${1 + (i % 7)}`);

interface RingTraffic {
  getTraffic(): Promise<{ placements: unknown[] } | null>;
}

interface Request {
  readonly user: string;
  readonly ip: string;
  readonly ua: string;
}

// One round: every ordinary client once, every NAT user once, shuffled (as real traffic
// interleaves: a round sent in blocks would show the sliding window a different mix per bucket).
const round: Request[] = [
  ...ORDINARY.map((ip) => ({ user: ip, ip, ua: `client ${ip}` })),
  ...Array.from({ length: NAT_USERS * NAT_REQUESTS_PER_USER }, (_, i) => {
    const user = `nat-${i % NAT_USERS}`;
    return { user, ip: NAT, ua: `Mozilla/5.0 (${user})` };
  }),
];
const rand = randomUnit(20261203);
for (let i = round.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [round[i], round[j]] = [round[j]!, round[i]!];
}

describe("load-aware placement through workerd", () => {
  let lb: Balancer;
  const jars = new Map<string, string>();

  beforeAll(async () => {
    lb = await startBalancer(ORIGINS, {
      // Short intervals so the test learns in seconds; the rules are the defaults' (bound 1.25).
      SNAPSHOT_TTL_MS: "500",
      PLACEMENT_INTERVAL_MS: "1000",
      TRAFFIC_WINDOW_MS: "6000",
      AFFINITY_COOKIE_SECRET: "e2e-affinity-cookie-secret-0123456789",
    });
  });
  afterAll(() => lb?.close());

  /** One round; returns per user the origins that served it, and per origin its requests. */
  async function drive(): Promise<{ users: Map<string, Set<string>>; load: Map<string, number>; errors: number }> {
    const users = new Map<string, Set<string>>();
    const load = new Map<string, number>();
    let errors = 0;
    await mapLimit(round, 32, async (r) => {
      const cookie = jars.get(r.user);
      const served = await lb.request("/", r.ip, {
        headers: { "user-agent": r.ua, ...(cookie === undefined ? {} : { cookie }) },
      });
      const set = served.headers.get("set-cookie");
      if (set !== null) jars.set(r.user, set.split(";")[0]!);
      if (served.status !== 200 || served.origin === null) errors++;
      else {
        load.set(served.origin, (load.get(served.origin) ?? 0) + 1);
        if (!users.has(r.user)) users.set(r.user, new Set());
        users.get(r.user)!.add(served.origin);
      }
    });
    return { users, load, errors };
  }

  test("the NAT address is split by cookie: the bound is met and every user keeps one origin", async () => {
    const peakOverMean = (load: Map<string, number>) => {
      const values = ORIGINS.map((id) => load.get(id) ?? 0);
      return Math.max(...values) / (values.reduce((a, b) => a + b, 0) / values.length);
    };
    const before = await drive();
    // Learning: rounds until the plan made from the edge-wide view has split the address (its
    // users then hold cookies) and the placements stopped changing (the view has seen the split).
    const placements = async () =>
      JSON.stringify(
        ((await ((await lb.ring()) as unknown as RingTraffic).getTraffic()) ?? { placements: [] }).placements,
      );
    let last = "";
    for (let i = 0; i < 20; i++) {
      await drive();
      const now = await placements();
      if (jars.size === NAT_USERS && now === last) break;
      last = now;
    }
    expect(jars.size).toBe(NAT_USERS);

    // Measured: two more rounds with the cookie jars.
    const first = await drive();
    const second = await drive();
    const load = new Map(ORIGINS.map((id) => [id, (first.load.get(id) ?? 0) + (second.load.get(id) ?? 0)]));
    const users = new Map<string, Set<string>>();
    for (const phase of [first, second]) {
      for (const [user, origins] of phase.users) {
        users.set(user, new Set([...(users.get(user) ?? []), ...origins]));
      }
    }
    const sticky = [...users.values()].filter((origins) => origins.size === 1).length;
    const natOrigins = new Set([...users].filter(([u]) => u.startsWith("nat-")).flatMap(([, o]) => [...o]));
    console.log(
      `placement e2e: peak/mean before ${peakOverMean(before.load).toFixed(2)}, after ${peakOverMean(load).toFixed(2)}; ` +
        `${sticky}/${users.size} users on one origin; the NAT's users on ${natOrigins.size} origins`,
    );
    expect(before.errors + first.errors + second.errors).toBe(0);
    expect(peakOverMean(before.load)).toBeGreaterThan(1.25);
    expect(peakOverMean(load)).toBeLessThanOrEqual(1.25);
    expect(natOrigins.size).toBeGreaterThan(1);
    expect(sticky).toBe(users.size);
  });
});
