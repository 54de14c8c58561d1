/** What each proxy's answers show: clients per origin, moves when one origin stops, cohesion. */
import { random32 } from "../lib/random.ts";
import { quantileAtFloor } from "../lib/stats.ts";
import type { CohesionSet } from "./cohesion.ts";

/** The origin that answered each request of a sweep, or null (failure). */
export interface Sweeps {
  readonly name: string;
  /** Every client, all origins up. */
  readonly before: readonly (string | null)[];
  /** The cohesion sets' addresses, in order. */
  readonly cohesion: readonly (string | null)[];
  /** Every client again, the victim stopped. */
  readonly after: readonly (string | null)[];
}

export interface ProxyFigures {
  readonly name: string;
  readonly counts: number[];
  readonly peakMean: number;
  readonly minMean: number;
  readonly failedBefore: number;
  readonly onVictim: number;
  readonly moved: number;
  readonly hadTo: number;
  readonly collateral: number;
  readonly failedAfter: number;
  readonly cohesion: { key: string; wholePercent: number; chancePercent: number; failedGroups: number }[];
}

export const share = (n: number, of: number) => (n / of) * 100;

export function proxyFigures(
  p: Sweeps,
  ids: readonly string[],
  victim: string,
  sets: readonly CohesionSet[],
): ProxyFigures {
  const clients = p.before.length;
  const counts = ids.map((id) => p.before.filter((o) => o === id).length);
  const mean = counts.reduce((x, y) => x + y, 0) / ids.length;
  let onVictim = 0;
  let hadTo = 0;
  let collateral = 0;
  let failedAfter = 0;
  for (let i = 0; i < clients; i++) {
    const [before, after] = [p.before[i], p.after[i]];
    if (after === null) failedAfter++;
    if (before === victim) onVictim++;
    if (before === null || after === null || before === after) continue;
    if (before === victim) hadTo++;
    else collateral++;
  }
  // Cohesion: a group is whole when every address of it was answered, all by one origin. Chance is
  // what independent placement with this proxy's measured shares would give: Σ shareᵢᵏ.
  const answered = counts.reduce((x, y) => x + y, 0);
  let offset = 0;
  const cohesion = sets.map((set) => {
    let whole = 0;
    let failedGroups = 0;
    for (const group of set.groups) {
      const seen = p.cohesion.slice(offset, offset + group.length);
      offset += group.length;
      if (seen.some((o) => o === null)) failedGroups++;
      else if (seen.every((o) => o === seen[0])) whole++;
    }
    const k = set.groups[0]!.length;
    const chance = counts.reduce((sum, c) => sum + (c / answered) ** k, 0);
    return {
      key: set.key,
      wholePercent: share(whole, set.groups.length),
      chancePercent: chance * 100,
      failedGroups,
    };
  });
  return {
    name: p.name,
    counts,
    peakMean: Math.max(...counts) / mean,
    minMean: Math.min(...counts) / mean,
    failedBefore: p.before.filter((o) => o === null).length,
    onVictim,
    moved: hadTo + collateral,
    hadTo,
    collateral,
    failedAfter,
    cohesion,
  };
}

/**
 * The sampling floor: peak/mean of ideal (uniform, independent) placement of `clients` on
 * `origins`, over many seeded draws. Anything a proxy does better than this is luck.
 */
export function samplingFloor(clients: number, origins: number, seed: number): { median: number; p95: number } {
  const draw = random32(seed ^ 0x27d4eb2d);
  const trials = 500;
  const peaks: number[] = [];
  const bins = new Array<number>(origins);
  for (let t = 0; t < trials; t++) {
    bins.fill(0);
    for (let i = 0; i < clients; i++) bins[draw() % origins]!++;
    peaks.push(Math.max(...bins) / (clients / origins));
  }
  return { median: quantileAtFloor(peaks, 0.5), p95: quantileAtFloor(peaks, 0.95) };
}
