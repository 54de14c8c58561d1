/** The bench parts: each an entry script of its own, run by `npm run bench` one after another. */

/** One measurement: the issue-5 item it answers, its script and what it writes. */
export interface Part {
  readonly id: string;
  readonly title: string;
  readonly script: string;
  readonly json: string;
  readonly about: string;
  /** Options for the script besides --out and --quick. */
  readonly args?: readonly string[];
}
export const PARTS: readonly Part[] = [
  {
    id: "ring-cost",
    title: "1. Ring cost",
    script: "scripts/ring-cost.ts",
    json: "ring-cost.json",
    about:
      "The pure core in plain Node: one lookup (client key parse + xxHash32 + ring walk), ring build time, memory.",
  },
  {
    id: "ring-quality",
    title: "2a. Mapping quality by simulation",
    script: "scripts/ring-quality.ts",
    json: "ring-quality.json",
    about:
      "One seeded client set (IPv4 and IPv6 /64s) mapped by the ring schemes: peak/mean load, moves on removal, " +
      "addition and failure against the ideal, weighted origins, IPv6 /64 cohesion.",
  },
  {
    id: "proxy-quality",
    title: "2b. Mapping quality through the real proxies",
    script: "scripts/proxy-quality.ts",
    json: "proxy-quality.json",
    about:
      "The same clients through the balancer in workerd, HAProxy 2.6 and nginx 1.22 in front of the same 10 origins: " +
      "per-origin counts, peak/mean, moves when one origin is stopped, address cohesion.",
  },
  {
    id: "worker-throughput",
    title: "3a. Proxy overhead in workerd",
    script: "scripts/bench-worker.ts",
    json: "worker-throughput.json",
    about:
      "The balancer against a bare pass-through worker on the same runtime, origins and load generator, both " +
      "loaded at the same time on one pinned core, beside a bare-vs-bare control: req/s, p50, p99, and the " +
      "Durable Object's calls during the load.",
  },
  {
    id: "worker-profile",
    title: "3b. CPU per request in workerd (profile)",
    script: "scripts/profile.ts",
    json: "worker-profile.json",
    about:
      "A CPU profile of the worker's isolate under `wrangler dev` for the balancer, the bare worker and a second " +
      "bare worker (the control), all loaded at the same time on one pinned core: µs of the worker's own " +
      "JavaScript per request (samples × interval ÷ requests), what that costs on Workers Standard pricing at " +
      "1M requests/s, and self time by source file and by function.",
  },
  {
    id: "worker-latency",
    title: "3c. Latency at a fixed rate in workerd",
    script: "scripts/bench-worker.ts",
    args: ["--rate", "150"],
    json: "worker-latency.json",
    about:
      "The same pairs as 3a, each worker sent 150 requests/s on a fixed schedule (an open loop) instead of a " +
      "closed loop that saturates it, so p50 and p99 are what a request takes rather than the queue in front of " +
      "a saturated worker.",
  },
  {
    id: "worker-allocations",
    title: "3d. Bytes allocated per request in workerd",
    script: "scripts/profile-alloc.ts",
    json: "worker-allocations.json",
    about:
      "V8's sampling heap profile of the worker's isolate under `wrangler dev` for the balancer and the bare " +
      "worker: bytes allocated per request (freed ones included), by source file and by function. Every byte " +
      "brings the next scavenge, which stops the isolate, nearer.",
  },
  {
    id: "failover",
    title: "4. Failover cost",
    script: "scripts/failover-cost.ts",
    json: "failover.json",
    about:
      "Added latency when a primary refuses connections or black-holes, time to route around a dead origin and to " +
      "return its clients after recovery; HAProxy and nginx alongside.",
  },
  {
    id: "scale-model",
    title: "5. Scale model",
    script: "scripts/scale-model.ts",
    json: "scale-model.json",
    about:
      "The Durable Object's request rate from the refresh, report and probe logic, for 300 locations, 1,000 origins " +
      "and 1M requests/s.",
  },
  {
    id: "skew",
    title: "6. Skewed traffic: load and stickiness (issue 12)",
    script: "scripts/bench-skew.ts",
    json: "skew.json",
    about:
      "One seeded skewed workload (~4,000 Zipf-weighted users, a quarter on IPv6 privacy addresses, three NAT " +
      "addresses carrying 12 %, 6 % and 4 % of requests, browsers' cookie jars and User-Agents) through the " +
      "balancer in workerd, HAProxy `hash-type consistent` and HAProxy with `hash-balance-factor 125`: peak/mean " +
      "request load, users kept on one origin, requests off their usual origin, users moved, errors, and the " +
      "Durable Object's calls under load and in a quiet window.",
  },
];
