/** The calls the object has served since it started, by method, in memory only. */
import type { CallCounts } from "./protocol.ts";

/** A method whose calls are counted. */
export type CountedCall = keyof CallCounts;

/** Counts calls by method: what `npm run bench` counts per 10,000 requests. */
export class CallCounter {
  private readonly counts = { getUpdate: 0, report: 0, probeRound: 0 };

  /** Counts one call of `call`. */
  count(call: CountedCall): void {
    this.counts[call]++;
  }

  /** The counts so far. */
  read(): CallCounts {
    return { ...this.counts };
  }
}
