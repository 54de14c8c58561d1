/**
 * The skewed workload of issue 12, seeded: ordinary users with Zipf-like request rates (a share of
 * them on IPv6, each inside its own /64 with a fresh interface id on every request, as privacy
 * addresses do), plus NAT addresses that carry fixed shares of all requests with many users behind
 * each. Every user has a User-Agent of its own, drawn from a small realistic set, so users behind
 * one NAT share some. Requests are streams: the same seed gives the same users and the same
 * request sequence on every run and through every proxy.
 */
import { ipv4Dotted, random32 } from "../lib/random.ts";

export interface WorkloadParams {
  readonly seed: number;
  readonly users: number;
  /** Share of the ordinary users on IPv6 (0–1). */
  readonly ipv6Share: number;
  /** Zipf–Mandelbrot weights 1 / (rank + offset)^exponent, for ordinary users and within each NAT. */
  readonly zipfExponent: number;
  readonly zipfOffset: number;
  /** Each NAT address's share of all requests (0–1). */
  readonly natShares: readonly number[];
  readonly usersPerNat: number;
}

export const DEFAULT_WORKLOAD: Omit<WorkloadParams, "seed"> = {
  users: 4_000,
  ipv6Share: 0.25,
  zipfExponent: 1,
  zipfOffset: 10,
  natShares: [0.12, 0.06, 0.04],
  usersPerNat: 150,
};

/** Desktop and mobile browsers' User-Agent strings with rough shares (weights). */
export const USER_AGENTS: readonly { readonly ua: string; readonly weight: number }[] = [
  {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    weight: 30,
  },
  {
    ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    weight: 20,
  },
  {
    ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    weight: 15,
  },
  {
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    weight: 10,
  },
  {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    weight: 8,
  },
  {
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    weight: 7,
  },
  { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", weight: 6 },
  { ua: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", weight: 4 },
];

/** Page paths a browser asks for (all under one cookie path, `/`). */
const PATHS = ["/", "/products", "/cart", "/api/items?page=2", "/static/app.js", "/account"];

export type UserKind = "ipv4" | "ipv6" | "nat";

export interface User {
  readonly id: number;
  readonly kind: UserKind;
  /** IPv4 users and NAT users: the address; IPv6 users: the /64's first four groups. */
  readonly address: string;
  /** NAT users: which NAT (0-based); others -1. */
  readonly nat: number;
  readonly ua: string;
  /** Share of all requests (sums to 1 over the users). */
  readonly share: number;
}

export interface Workload {
  readonly params: WorkloadParams;
  readonly users: readonly User[];
  readonly natAddresses: readonly string[];
  /** Share of all requests per user kind. */
  readonly kindShare: Readonly<Record<UserKind, number>>;
}

/** One request of a stream: who sends it, from which address, for which path. */
export interface Request {
  readonly user: number;
  readonly ip: string;
  readonly path: string;
}

const zipf = (n: number, exponent: number, offset: number) => {
  const w = Array.from({ length: n }, (_, r) => 1 / (r + 1 + offset) ** exponent);
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
};

/** A public-looking unicast IPv4 address (not 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, 224+). */
function publicIpv4(next: () => number): string {
  for (;;) {
    const a = next();
    const [b0, b1] = [a >>> 24, (a >>> 16) & 255];
    if (b0 === 0 || b0 === 10 || b0 === 127 || b0 >= 224) continue;
    if ((b0 === 100 && b1 >= 64 && b1 < 128) || (b0 === 169 && b1 === 254)) continue;
    if ((b0 === 172 && b1 >= 16 && b1 < 32) || (b0 === 192 && b1 === 168)) continue;
    return ipv4Dotted(a);
  }
}

/** Picks an index by weight (cumulative weights, binary search). */
function picker(weights: readonly number[]): (u: number) => number {
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w));
  return (u) => {
    const x = u * sum;
    let [lo, hi] = [0, cumulative.length - 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

const unit = (next: () => number) => next() / 2 ** 32;

/** The users: ordinary ones by rank (heaviest first), IPv6 ones spread over the ranks, then the NATs' users. */
export function makeWorkload(params: WorkloadParams): Workload {
  const next = random32(params.seed);
  const pickUa = picker(USER_AGENTS.map((u) => u.weight));
  const natTotal = params.natShares.reduce((a, b) => a + b, 0);
  const used = new Set<string>();
  const fresh = (make: () => string) => {
    for (;;) {
      const a = make();
      if (!used.has(a)) return (used.add(a), a);
    }
  };
  const group = () => (next() & 0xffff).toString(16);
  const users: User[] = [];
  const ordinary = zipf(params.users, params.zipfExponent, params.zipfOffset);
  for (const [rank, w] of ordinary.entries()) {
    const v6 = unit(next) < params.ipv6Share;
    const address = v6
      ? fresh(() => [(0x2000 | (next() & 0x1fff)).toString(16), group(), group(), group()].join(":"))
      : fresh(() => publicIpv4(next));
    const ua = USER_AGENTS[pickUa(unit(next))]!.ua;
    users.push({ id: rank, kind: v6 ? "ipv6" : "ipv4", address, nat: -1, ua, share: w * (1 - natTotal) });
  }
  const natAddresses = params.natShares.map(() => fresh(() => publicIpv4(next)));
  const inNat = zipf(params.usersPerNat, params.zipfExponent, params.zipfOffset);
  for (const [nat, share] of params.natShares.entries()) {
    for (const w of inNat) {
      const ua = USER_AGENTS[pickUa(unit(next))]!.ua;
      users.push({ id: users.length, kind: "nat", address: natAddresses[nat]!, nat, ua, share: w * share });
    }
  }
  const kindShare = { ipv4: 0, ipv6: 0, nat: 0 };
  for (const u of users) kindShare[u.kind] += u.share;
  return { params, users, natAddresses, kindShare };
}

/**
 * An endless seeded request stream over `workload`'s users by their shares: `stream` names the
 * stream (learning, measured, ...), so different phases draw different but fixed sequences.
 */
export function requestStream(workload: Workload, stream: number): () => Request {
  const next = random32((workload.params.seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0);
  const pick = picker(workload.users.map((u) => u.share));
  const group = () => (next() & 0xffff).toString(16);
  return () => {
    const user = workload.users[pick(unit(next))]!;
    const path = PATHS[next() % PATHS.length]!;
    const ip = user.kind === "ipv6" ? `${user.address}:${group()}:${group()}:${group()}:${group()}` : user.address;
    return { user: user.id, ip, path };
  };
}
