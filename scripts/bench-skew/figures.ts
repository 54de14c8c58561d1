/**
 * What one proxy's answers show, measured phase only unless said: requests per origin and
 * peak/mean; per user (a NAT user by its own id, i.e. its cookie jar, not its address) whether
 * every request landed on one origin, the requests that left the user's usual (modal) origin, and
 * the users moved at least once from the origin of their last learning-phase request on.
 */
import type { Phase } from "./drive.ts";
import type { UserKind, Workload } from "./workload.ts";

export interface StickyFigures {
  /** Users with at least two answered requests in the measured phase (the ones that can fail). */
  readonly users: number;
  /** Of those, users whose every answered request came from one origin. */
  readonly sticky: number;
}

export interface SkewFigures {
  readonly name: string;
  readonly learningRequests: number;
  readonly learningMs: number;
  readonly measuredRequests: number;
  readonly measuredMs: number;
  readonly counts: number[];
  readonly peakMean: number;
  readonly sticky: StickyFigures;
  readonly stickyByKind: Readonly<Record<UserKind, StickyFigures>>;
  /** Answered measured requests not served by their user's modal origin. */
  readonly offModal: number;
  readonly answered: number;
  /** Users with an answered learning request and an answered measured request, or two measured ones. */
  readonly movable: number;
  /** Of those, users whose origin changed at least once from their last learning request on. */
  readonly moved: number;
  readonly errorsLearning: number;
  readonly errorsMeasured: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  /** Per NAT address: how many origins its users' measured requests landed on. */
  readonly natOrigins: number[];
  /** Measured requests that carried a Cookie header (the balancer's cookies, once it sets them). */
  readonly withCookie: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const errorsOf = (p: Phase) => sum(Object.values(p.errors));

export function skewFigures(
  name: string,
  workload: Workload,
  ids: readonly string[],
  learning: Phase,
  measured: Phase,
): SkewFigures {
  const n = workload.users.length;
  const last = new Int32Array(n).fill(-1);
  for (let k = 0; k < learning.users.length; k++) {
    if (learning.origins[k]! >= 0) last[learning.users[k]!] = learning.origins[k]!;
  }
  const perUser: number[][] = Array.from({ length: n }, () => []);
  const natSeen = workload.natAddresses.map(() => new Set<number>());
  const counts = ids.map(() => 0);
  for (let k = 0; k < measured.users.length; k++) {
    const o = measured.origins[k]!;
    if (o < 0) continue;
    perUser[measured.users[k]!]!.push(o);
    const nat = workload.users[measured.users[k]!]!.nat;
    if (nat >= 0) natSeen[nat]!.add(o);
    counts[o]!++;
  }
  const blank = (): { users: number; sticky: number } => ({ users: 0, sticky: 0 });
  const sticky = blank();
  const byKind = { ipv4: blank(), ipv6: blank(), nat: blank() };
  let offModal = 0;
  let movable = 0;
  let moved = 0;
  for (const [u, seen] of perUser.entries()) {
    if (seen.length === 0) continue;
    const tally = ids.map(() => 0);
    for (const o of seen) tally[o]!++;
    offModal += seen.length - Math.max(...tally);
    if (seen.length >= 2) {
      const one = seen.every((o) => o === seen[0]);
      for (const s of [sticky, byKind[workload.users[u]!.kind]]) {
        s.users++;
        if (one) s.sticky++;
      }
    }
    const chain = last[u]! >= 0 ? [last[u]!, ...seen] : seen;
    if (chain.length >= 2) {
      movable++;
      if (chain.some((o) => o !== chain[0])) moved++;
    }
  }
  const answered = sum(counts);
  const errorKinds: Record<string, number> = {};
  for (const p of [learning, measured])
    for (const [k, v] of Object.entries(p.errors)) errorKinds[k] = (errorKinds[k] ?? 0) + v;
  return {
    name,
    learningRequests: learning.users.length,
    learningMs: learning.ms,
    measuredRequests: measured.users.length,
    measuredMs: measured.ms,
    counts,
    peakMean: answered === 0 ? Number.NaN : Math.max(...counts) / (answered / ids.length),
    sticky,
    stickyByKind: byKind,
    offModal,
    answered,
    movable,
    moved,
    errorsLearning: errorsOf(learning),
    errorsMeasured: errorsOf(measured),
    errorKinds,
    natOrigins: natSeen.map((seen) => seen.size),
    withCookie: measured.withCookie,
  };
}

/** The Durable Object's calls over one window of the balancer's run. */
export interface CallWindow {
  readonly window: string;
  readonly seconds: number;
  readonly requests: number;
  readonly getUpdate: number;
  readonly report: number;
  readonly probeRound: number;
}

export const pct = (n: number, of: number): number => (of === 0 ? Number.NaN : (n / of) * 100);
export const callsPerSecond = (w: CallWindow): number => (w.getUpdate + w.report) / w.seconds;
