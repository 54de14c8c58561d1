/** The three proxies in front of the failover origins, and which of the clients each sends to the victim. */
import { startBalancer } from "../../test/e2e/harness.ts";
import { onCleanup } from "../lib/cleanup.ts";
import { startHaproxy } from "../lib/haproxy.ts";
import { servedBy, sweep, type Reply } from "../lib/http-load.ts";
import { log } from "../lib/log.ts";
import { startNginx } from "../lib/nginx.ts";
import type { Origins } from "./origins.ts";
import { HAPROXY_CHECK, HAPROXY_HEADERS, IDS, VICTIM, type Settings } from "./settings.ts";

export type Kind = "ours" | "haproxy" | "nginx";

export interface Target {
  readonly name: string;
  readonly kind: Kind;
  readonly url: URL;
  readonly stop: () => Promise<void>;
  readonly statsSocket: string | null;
  /** Whether a reply shows that the proxy tried the victim for this request (failed or served). */
  readonly triedVictim: (reply: Reply) => boolean;
  victims: string[];
  others: string[];
}

/** The peers' configuration files as written, learning off (a/b) and on (c/d). */
export interface Configs {
  readonly haproxy: { noLearning: string; health: string };
  readonly nginx: { noLearning: string; health: string };
}

/** None written yet. */
export const noConfigs = (): Configs => ({
  haproxy: { noLearning: "", health: "" },
  nginx: { noLearning: "", health: "" },
});

/** Starts each proxy in front of `origins`, keeping the peers' configuration files in `configs`. */
export function targetStarters(origins: Origins, settings: Settings, configs: Configs) {
  const triedVictim = (kind: Kind) => (reply: Reply) => {
    if (servedBy(reply) === null) return true; // an error: counted apart, and never "avoided"
    if (servedBy(reply) === VICTIM) return true;
    const h = reply.headers;
    if (kind === "ours") return Number(h["x-lb-attempts"] ?? "1") > 1;
    if (kind === "haproxy") return String(h["x-retries"] ?? "0") !== "0";
    return String(h["x-upstream"] ?? "").includes(`127.0.0.1:${origins.victimPort}`);
  };
  const target = (
    name: string,
    kind: Kind,
    url: URL,
    stop: () => Promise<void>,
    statsSocket: string | null = null,
  ) => ({
    name,
    kind,
    url,
    stop,
    statsSocket,
    triedVictim: triedVictim(kind),
    victims: [],
    others: [],
  });
  const originAddresses = () => IDS.map((id, i) => ({ id, port: origins.list[i]!.port }));

  async function startOurs(vars: Record<string, string>): Promise<Target> {
    const balancer = await startBalancer([], {
      STATUS_PUBLIC: "true", // the watch reads /__lb/status without the admin token
      ...vars,
      ORIGINS: JSON.stringify(origins.list.map((o) => ({ id: o.id, url: `http://127.0.0.1:${o.port}` }))),
    });
    const stop = onCleanup(() => balancer.close());
    return target("ours (workerd)", "ours", balancer.url, stop);
  }
  async function startHaproxyTarget(checks: boolean): Promise<Target> {
    const p = await startHaproxy({
      origins: originAddresses(),
      defaults: settings.haproxyDefaults,
      backend: checks ? ["option httpchk GET /healthz", ...HAPROXY_HEADERS] : HAPROXY_HEADERS,
      serverOptions: checks ? HAPROXY_CHECK : undefined,
      stats: checks,
    });
    configs.haproxy[checks ? "health" : "noLearning"] = p.config;
    return target("HAProxy", "haproxy", p.url, p.stop, p.statsSocket);
  }
  async function startNginxTarget(marks: boolean): Promise<Target> {
    const p = await startNginx({
      origins: originAddresses(),
      serverParams: marks ? undefined : "max_fails=0",
      location: settings.nginxLocation,
    });
    configs.nginx[marks ? "health" : "noLearning"] = p.config;
    return target("nginx", "nginx", p.url, p.stop);
  }
  return { startOurs, startHaproxyTarget, startNginxTarget };
}

/** Maps the candidates through `t` (all origins up): its victim's clients and the others. */
export async function findVictims(t: Target, candidates: readonly string[]): Promise<void> {
  const served = await sweep(t.url, candidates, 16);
  t.victims = candidates.filter((_, i) => served[i] === VICTIM);
  t.others = candidates.filter((_, i) => served[i] !== VICTIM && served[i] !== null);
  const failed = served.filter((o) => o === null).length;
  log(`${t.name}: ${t.victims.length} of ${candidates.length} candidates have ${VICTIM} first (${failed} failed)`);
}
