/** What the ring-cost measurements share: the clients, the origins, the batch layout and the settings. */
import { INTEGER_SETTINGS } from "../../src/core/config/settings.ts";
import { UNKNOWN_HEALTH, type OriginRecord } from "../../src/core/model.ts";

export const SLOTS_PER_ORIGIN = INTEGER_SETTINGS.find((s) => s.name === "RING_SLOTS_PER_ORIGIN")!.fallback;
/** Batches per size in a row. */
export const BLOCK = 5;
/** Unmeasured batches at the start of each block. */
export const WARM_BATCHES = 1;
/** The routing view's settings (the defaults); no origin ramps or drains, so they do not matter. */
export const VIEW_SETTINGS = { slowStartMs: 30_000, drainMs: 60_000, panicPercent: 50 };

// Clients: half IPv4, half IPv6, as header text (the parse is part of the cost). Each is made a
// flat string, as a header value is (the runtime copies it out of the request's bytes into a new
// sequential string); a template literal would leave a V8 cons string, whose characters cost more
// to read, and measure the concatenation's layout rather than the parse (about 15 ns here).
export const clients = Array.from({ length: 4096 }, (_, i) =>
  i % 2 === 0
    ? `${((i * 7919) % 223) + 1}.${(i * 31) % 256}.${(i * 17) % 256}.${i % 256}`
    : `2001:db8:${((i * 7919) % 65536).toString(16)}:${(i % 65536).toString(16)}::${(i % 97).toString(16)}`,
).map((text) => Buffer.from(text, "latin1").toString("latin1"));

/** `n` active origins of weight 1, health unknown. */
export const originsOf = (n: number): OriginRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `origin-${i}`,
    url: `https://o${i}.example`,
    weight: 1,
    region: null,
    state: "active",
    drainStartedAt: null,
    health: UNKNOWN_HEALTH,
  }));
