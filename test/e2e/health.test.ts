// End to end: health in workerd with the Durable Object's own alarm probing real origins.
// Prints the figures the README and the notes quote: how long (and how many probes, or client
// requests) from "an origin fails" to "no client request tries it first", and how many clients
// moved during a slow start beyond those that had to (goal: 0).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mapLimit, sleep, startBalancer, statusOf, untilStatus, type Balancer } from "./harness.ts";

const clients = Array.from({ length: 200 }, (_, i) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`);

interface OriginStatus {
  id: string;
  health: string;
  traffic: number;
  ejectedUntil: number | null;
}
interface Status {
  epoch: number;
  origins: OriginStatus[];
  lastProbeRoundAt: number | null;
}

const status = (lb: Balancer) => statusOf<Status>(lb);
const until = (lb: Balancer, done: (s: Status) => boolean, limitMs?: number) => untilStatus(lb, done, limitMs);

const mapping = (lb: Balancer) => mapLimit(clients, 16, async (ip) => (await lb.request("/", ip)).origin ?? "none");
const originOf = (s: Status, id: string) => s.origins.find((o) => o.id === id)!;

describe("active health: probes from the Durable Object's alarm", () => {
  let lb: Balancer;
  const SLOW_START_MS = 3_000;
  beforeAll(async () => {
    lb = await startBalancer(["h1", "h2", "h3", "h4"], {
      STATUS_PUBLIC: "true", // these tests read GET /__lb/status without the admin token
      HEALTH_PATH: "/healthz",
      HEALTH_INTERVAL_MS: "300",
      HEALTH_TIMEOUT_MS: "1000",
      SNAPSHOT_TTL_MS: "200",
      SLOW_START_MS: String(SLOW_START_MS),
    });
    await until(lb, (s) => s.origins.every((o) => o.health === "up"));
  });
  afterAll(() => lb?.close());

  test("a failing health check moves exactly its clients after HEALTH_FALL probes; recovery brings exactly them back, each once", async () => {
    const before = await mapping(lb);
    const victim = lb.origins.find((o) => o.id === "h2")!;
    const owned = before.filter((o) => o === "h2").length;

    const failedAt = Date.now();
    const checksAtFailure = victim.healthChecks();
    victim.setHealthStatus(503);
    await until(lb, (s) => originOf(s, "h2").traffic === 0);
    const downAfterMs = Date.now() - failedAt;
    const probes = victim.healthChecks() - checksAtFailure;

    victim.seen.length = 0;
    const during = await mapping(lb);
    expect(victim.seen).toHaveLength(0);
    let collateral = 0;
    before.forEach((origin, i) => {
      if (origin === "h2") expect(during[i]).not.toBe("h2");
      else if (during[i] !== origin) collateral++;
    });
    expect(collateral).toBe(0);
    console.log(
      `active path: h2 (${owned}/${clients.length} clients) failed its health check; no client request tried it ` +
        `${downAfterMs} ms later, after ${probes} probes (HEALTH_FALL 3, HEALTH_INTERVAL_MS 300, SNAPSHOT_TTL_MS 200)`,
    );

    victim.setHealthStatus(200);
    await until(lb, (s) => originOf(s, "h2").health === "up");
    const samples: string[][] = [];
    const rampEnds = Date.now() + SLOW_START_MS + 500;
    while (Date.now() < rampEnds) samples.push(await mapping(lb));
    samples.push(await mapping(lb));

    let flapped = 0;
    let movedNeedlessly = 0;
    clients.forEach((_, i) => {
      const path = samples.map((sample) => sample[i]);
      const changes = path.filter((origin, k) => k > 0 && origin !== path[k - 1]).length;
      if (before[i] === "h2") {
        if (changes > 1 || path.indexOf("h2") === -1 || path.slice(path.indexOf("h2")).some((o) => o !== "h2"))
          flapped++;
      } else if (path.some((origin) => origin !== before[i])) movedNeedlessly++;
    });
    const after = samples[samples.length - 1]!;
    console.log(
      `slow start over ${SLOW_START_MS} ms, ${samples.length} samples of ${clients.length} clients: ` +
        `${owned} came back to h2, flapped ${flapped}, other clients moved ${movedNeedlessly}`,
    );
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(flapped).toBe(0);
    expect(movedNeedlessly).toBe(0);
    expect(after).toEqual(before);
  });
});

describe("passive health: ejection from client traffic, before any probe", () => {
  let lb: Balancer;
  beforeAll(async () => {
    lb = await startBalancer(["p1", "p2", "p3", "p4"], {
      STATUS_PUBLIC: "true", // these tests read GET /__lb/status without the admin token
      HEALTH_INTERVAL_MS: "0", // no alarm: only the cron would probe, and nothing fires it here
      REPORT_INTERVAL_MS: "100",
      SNAPSHOT_TTL_MS: "60000",
      SLOW_START_MS: "0",
    });
  });
  afterAll(() => lb?.close());

  test("an origin killed outright is ejected within a few requests; its clients keep getting 200", async () => {
    const before = await mapping(lb);
    const victims = clients.filter((_, i) => before[i] === "p3");
    await lb.origins.find((o) => o.id === "p3")!.stop();
    const killedAt = Date.now();
    let requests = 0;
    let ejected: Status | null = null;
    // Paced at one request per 50 ms: reports go out at most every REPORT_INTERVAL_MS, so how many
    // requests it takes depends on the request rate; at this pace each report carries about two.
    while (ejected === null && requests < 200) {
      await sleep(50);
      const response = await lb.request("/", victims[requests % victims.length]!);
      expect(response.status).toBe(200);
      requests++;
      const s = await status(lb);
      if (originOf(s, "p3").ejectedUntil !== null && originOf(s, "p3").traffic === 0) ejected = s;
    }
    console.log(
      `passive path: p3 killed; ejected and skipped after ${requests} client requests, ${Date.now() - killedAt} ms ` +
        `(one request per 50 ms, EJECT_AFTER_FAILURES 5, REPORT_INTERVAL_MS 100), probe rounds run: ${ejected?.lastProbeRoundAt === null ? 0 : "some"}`,
    );
    expect(ejected).not.toBeNull();
    expect(ejected!.lastProbeRoundAt).toBeNull();
    expect(requests).toBeLessThanOrEqual(15);
    const after = await mapping(lb);
    after.forEach((origin, i) => expect(origin).toBe(before[i] === "p3" ? after[i] : before[i]));
    expect(after.filter((o) => o === "p3" || o === "none")).toHaveLength(0);
  });
});

describe("drain", () => {
  let lb: Balancer;
  const DRAIN_MS = 3_000;
  beforeAll(async () => {
    lb = await startBalancer(["d1", "d2", "d3", "d4"], {
      STATUS_PUBLIC: "true", // these tests read GET /__lb/status without the admin token
      HEALTH_INTERVAL_MS: "0",
      SNAPSHOT_TTL_MS: "100",
      DRAIN_MS: String(DRAIN_MS),
    });
  });
  afterAll(() => lb?.close());

  test("a draining origin's clients move to their successors over DRAIN_MS, each once; nobody else moves", async () => {
    const before = await mapping(lb);
    const owned = before.filter((o) => o === "d3").length;
    const change = await (await lb.ring()).setOriginState("d3", "draining");
    expect(change).toMatchObject({ ok: true });
    const samples: string[][] = [];
    const drainEnds = Date.now() + DRAIN_MS + 500;
    while (Date.now() < drainEnds) samples.push(await mapping(lb));
    samples.push(await mapping(lb));

    let flapped = 0;
    let movedNeedlessly = 0;
    const progress: number[] = [];
    samples.forEach((sample) => progress.push(sample.filter((o) => o === "d3").length));
    clients.forEach((_, i) => {
      const path = samples.map((sample) => sample[i]!);
      if (before[i] === "d3") {
        const left = path.findIndex((o) => o !== "d3");
        if (left === -1 || path.slice(left).some((o) => o === "d3" || o !== path[left])) flapped++;
      } else if (path.some((origin) => origin !== before[i])) movedNeedlessly++;
    });
    console.log(
      `drain over ${DRAIN_MS} ms: d3 held ${owned}/${clients.length} clients; on d3 per sample ${JSON.stringify(progress)}; ` +
        `flapped ${flapped}, other clients moved ${movedNeedlessly}`,
    );
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(flapped).toBe(0);
    expect(movedNeedlessly).toBe(0);
    expect(samples[samples.length - 1]!.filter((o) => o === "d3")).toHaveLength(0);
    const status = await (await fetch(new URL("/__lb/status", lb.url))).json();
    expect(
      (status as { origins: { id: string; drainProgress: number | null }[] }).origins.find((o) => o.id === "d3"),
    ).toMatchObject({ drainProgress: 1 });
  });
});
