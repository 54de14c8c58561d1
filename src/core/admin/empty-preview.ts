/** The preview of a change that changes nothing. Pure. */
import type { Preview } from "./admin.ts";

/** A preview in which no client moves (a no-op change answers with it). */
export function emptyPreview(): Preview {
  return { share: 0, ipv4Addresses: 0, ipv6Prefixes: 0, flows: [] };
}
