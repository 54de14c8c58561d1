/**
 * RING_LOCATION_HINT: where Cloudflare creates the ring's Durable Object, on its first call
 * (Durable Objects' `locationHint`). The object runs every health probe, so this also says from
 * where the origins are probed.
 */
import type { FieldError } from "../result.ts";
import { isUnset } from "./text-settings.ts";

/** Cloudflare's location hints for Durable Objects. */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;

export type LocationHint = (typeof LOCATION_HINTS)[number];

export function isLocationHint(value: unknown): value is LocationHint {
  return typeof value === "string" && (LOCATION_HINTS as readonly string[]).includes(value);
}

/** An error for a set but unknown hint; null when unset or valid. */
export function checkLocationHint(raw: unknown): FieldError | null {
  if (isUnset(raw) || isLocationHint(raw)) return null;
  return {
    field: "RING_LOCATION_HINT",
    message: `must be one of ${LOCATION_HINTS.join(", ")} (got ${JSON.stringify(raw)})`,
  };
}
