/** c and d: a steady open-loop load on one proxy, and what the proxy says about the victim meanwhile. */
import http from "node:http";
import { haproxyServerStatus } from "../lib/haproxy.ts";
import { get, servedBy, type Reply } from "../lib/http-load.ts";
import { now, sleep } from "../lib/log.ts";
import { LOAD_RATE, VICTIM } from "./settings.ts";
import type { Target } from "./targets.ts";

export interface Sample extends Reply {
  readonly victimClient: boolean;
  readonly tried: boolean;
  readonly origin: string | null;
}

/** A change in the victim's state as the proxy reports it. */
export interface Event {
  readonly at: number;
  readonly state: string;
}

/** Runs an open-loop load on `t` until `stop()`; one request in three from a victim client. */
export function startLoad(t: Target): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  const agent = new http.Agent({ keepAlive: true });
  let running = true;
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    const start = now();
    for (let i = 0; running; i++) {
      const wait = start + (i * 1000) / LOAD_RATE - now();
      if (wait > 0) await sleep(wait);
      const victimClient = i % 3 === 0;
      const pool = victimClient ? t.victims : t.others;
      const ip = pool[Math.floor(i / 3) % pool.length]!;
      const request: Promise<void> = get(t.url, ip, agent).then((reply) => {
        samples.push({ ...reply, victimClient, tried: t.triedVictim(reply), origin: servedBy(reply) });
        inflight.delete(request);
      });
      inflight.add(request);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
      await Promise.all(inflight);
      agent.destroy();
    },
  };
}

/** Polls the victim's state as the proxy reports it (ours: /__lb/status; HAProxy: show stat). */
export function startWatch(t: Target): { events: Event[]; stop: () => Promise<void> } | null {
  if (t.kind === "nginx") return null;
  const events: Event[] = [];
  let running = true;
  const read = async (): Promise<string> => {
    if (t.kind === "haproxy") return (await haproxyServerStatus(t.statsSocket!)).get(VICTIM) ?? "?";
    const status = (await (await fetch(new URL("/__lb/status", t.url))).json()) as {
      origins: {
        id: string;
        health: string;
        ejectedUntil: number | null;
        traffic: number;
        probe: { lastAt: number | null; error: string | null } | null;
      }[];
    };
    const o = status.origins.find((x) => x.id === VICTIM)!;
    // ejectedUntil stays set (in the past) once an ejection ended: ejected means "until later".
    const ejected = o.ejectedUntil !== null && o.ejectedUntil > Date.now();
    const probe = o.probe?.lastAt == null ? "not probed yet" : o.probe.error === null ? "passed" : "failed";
    return `last probe ${probe} (object); health ${o.health}${ejected ? ", ejected" : ""}, traffic ${o.traffic} (isolate)`;
  };
  const loop = (async () => {
    while (running) {
      const at = now();
      const state = await read().catch((error: Error) => `unreadable (${error.message})`);
      if (events.length === 0 || events[events.length - 1]!.state !== state) events.push({ at, state });
      await sleep(100);
    }
  })();
  return {
    events,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
