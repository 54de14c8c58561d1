/**
 * Steering (issue 7): the same 100 origins as 10 regional pools of 10, requests from 256 places
 * (a Cloudflare location sees a few hundred cities), half of them mapped by country. Per request:
 * the pool order (cached per place in the isolate, src/worker/steering-cache.ts) + the lookup
 * walking the home pool; and, for the record, one uncached orderPools (a place's first request).
 */
import { clientKey } from "../../src/core/key/client-key.ts";
import { xxh32 } from "../../src/core/hash.ts";
import type { Region } from "../../src/core/model.ts";
import { buildRoutingTable, type RoutingTable } from "../../src/core/routing/routing-table.ts";
import { pickOrigins } from "../../src/core/routing/pick-origins.ts";
import { routingView } from "../../src/core/routing/routing-view.ts";
import { orderPools, type ClientLocation } from "../../src/core/routing/steering.ts";
import { poolOrder } from "../../src/worker/steering-cache.ts";
import { upperMedian } from "../lib/stats.ts";
import { BLOCK, clients, originsOf, SLOTS_PER_ORIGIN, VIEW_SETTINGS, WARM_BATCHES } from "./fixtures.ts";

/** Steering's cost per lookup against `flat` (the same 100 origins as one pool), in `rounds` batches. */
export function measureSteering(flat: RoutingTable, flatView: ReturnType<typeof routingView>, rounds: number) {
  const out = new Uint32Array(3);
  let sink = 0;
  const REGION_COUNT = 10;
  const regions: Region[] = Array.from({ length: REGION_COUNT }, (_, r) => ({
    id: `r${r}`,
    latitude: -60 + r * 13,
    longitude: -170 + r * 35,
    countries: [String.fromCharCode(65 + r) + "A"],
    continents: [],
  }));
  const regional = buildRoutingTable(
    {
      epoch: 1,
      origins: originsOf(100).map((o, i) => ({ ...o, region: `r${i % REGION_COUNT}` })),
      regions,
      defaultRegion: null,
    },
    SLOTS_PER_ORIGIN,
  );
  const places: ClientLocation[] = Array.from({ length: 256 }, (_, i) => ({
    country: i % 2 === 0 ? String.fromCharCode(65 + (i % REGION_COUNT)) + "A" : "ZZ",
    continent: "EU",
    latitude: String(((i * 37) % 170) - 85),
    longitude: String(((i * 71) % 358) - 179),
  }));
  const regionalView = routingView(regional, VIEW_SETTINGS, 0);
  const steerBatches: number[] = [];
  const flatBatches: number[] = [];
  const orderBatches: number[] = [];
  for (let block = 0; block < rounds / BLOCK; block++) {
    for (let b = -WARM_BATCHES; b < BLOCK; b++) {
      let start = process.hrtime.bigint();
      for (let i = 0; i < clients.length; i++) {
        const order = poolOrder(regional, places[i & 255]);
        sink += pickOrigins(regional, regionalView, xxh32(clientKey(clients[i]!).bytes), out, order) + out[0]!;
      }
      if (b >= 0) steerBatches.push(Number(process.hrtime.bigint() - start) / clients.length);
      start = process.hrtime.bigint();
      for (let i = 0; i < clients.length; i++) {
        sink += pickOrigins(flat, flatView, xxh32(clientKey(clients[i]!).bytes), out) + out[0]!;
      }
      if (b >= 0) flatBatches.push(Number(process.hrtime.bigint() - start) / clients.length);
    }
    const start = process.hrtime.bigint();
    for (const place of places) sink += orderPools(regions, place, null).order.length;
    orderBatches.push(Number(process.hrtime.bigint() - start) / places.length);
  }
  const steering = {
    regions: REGION_COUNT,
    originsPerRegion: 100 / REGION_COUNT,
    places: places.length,
    lookupNs: upperMedian(steerBatches),
    onePoolNs: upperMedian(flatBatches),
    uncachedOrderNs: upperMedian(orderBatches),
  };
  console.log(
    `steering: ${steering.lookupNs.toFixed(0)} ns per lookup with ${REGION_COUNT} regional pools of 10 ` +
      `(one pool of 100 in the same batches: ${steering.onePoolNs.toFixed(0)} ns); an uncached pool order ` +
      `${steering.uncachedOrderNs.toFixed(0)} ns`,
  );
  return { steering, sink };
}
