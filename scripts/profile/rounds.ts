/**
 * The rounds of `npm run profile` and `npm run profile:alloc`: each in fresh `wrangler dev`s, the
 * workers either all at once (their load generators' warm-ups started together) or one after the
 * other in alternating order (bare, balancer, balancer, bare…). A round whose worker or inspector
 * does not come up runs again once.
 */
import path from "node:path";
import { log } from "../lib/log.ts";
import { startDevServer, type DevServer } from "./dev-server.ts";
import type { ProfiledServer } from "./servers.ts";

export interface RoundsOptions<T> {
  readonly servers: readonly ProfiledServer[];
  readonly rounds: number;
  /** All of a round's workers at once; else one at a time. */
  readonly together: boolean;
  /** Where each server's Durable Object state goes. */
  readonly tmp: string;
  /** Records one worker: `name` for the log, `startAt` (ms since the Unix epoch) when its load must start. */
  readonly record: (name: string, server: DevServer, startAt: number | undefined) => Promise<T>;
}

/** Every server's recordings, in round order. */
export async function profileRounds<T>(o: RoundsOptions<T>): Promise<Map<string, T[]>> {
  const recorded = new Map(o.servers.map((s) => [s.name, [] as T[]]));
  const once = async (round: number, group: readonly ProfiledServer[]): Promise<Map<string, T>> => {
    const started: { s: ProfiledServer; server: DevServer }[] = [];
    try {
      for (const s of group) {
        const persistTo = path.join(o.tmp, `${s.name}-${round}-${Date.now()}-state`);
        const config = { config: s.config, script: s.script, cwd: s.cwd, vars: s.vars, persistTo };
        started.push({ s, server: await startDevServer(config) });
      }
      // Together: every warm-up starts at once, once each recorder has probed its worker and
      // attached to its inspector (a few hundred ms each, more on a loaded core).
      const startAt = group.length > 1 ? Date.now() + 5_000 : undefined;
      const done = await Promise.all(
        started.map(async ({ s, server }) => {
          const name = o.rounds > 1 ? `round ${round}/${o.rounds} ${s.name}` : s.name;
          return [s.name, await o.record(name, server, startAt)] as const;
        }),
      );
      return new Map(done);
    } finally {
      await Promise.all(started.map(({ server }) => server.stop()));
    }
  };
  const run = async (round: number, group: readonly ProfiledServer[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        for (const [name, part] of await once(round, group)) recorded.get(name)!.push(part);
        return;
      } catch (error) {
        if (attempt === 2) throw error;
        log(`round ${round}/${o.rounds}: ${(error as Error).message.split("\n")[0]}; running the round again`);
      }
    }
  };
  for (let round = 1; round <= o.rounds; round++) {
    if (o.together) await run(round, o.servers);
    else for (const s of round % 2 === 1 ? o.servers : [...o.servers].reverse()) await run(round, [s]);
  }
  return recorded;
}
