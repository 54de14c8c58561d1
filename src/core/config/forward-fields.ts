/**
 * FORWARD_HEADERS: which fields the balancer adds to every proxied request (README "What the origin
 * receives"). Every field on the request to the origin costs workerd about 1–2 % of throughput
 * (bench/worker-parts.md, `npm run bench:parts`), so the default is the one field only the balancer
 * can give: the client address (workerd strips CF-Connecting-IP from subrequests). The scheme is
 * there without it: Cloudflare's edge sets X-Forwarded-Proto on every request it passes on, and the
 * balancer forwards it as it came unless this list names it. The rest are opt-in. `Via` is not in
 * the list: it is always sent, since it is how a request that loops back through us is refused.
 */
import type { FieldError, Result } from "../result.ts";

/** The fields FORWARD_HEADERS may name, as the origin receives them. */
export const FORWARD_FIELDS = [
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "forwarded",
  "x-lb-successor",
] as const;

export type ForwardField = (typeof FORWARD_FIELDS)[number];

/** Which of FORWARD_FIELDS the balancer adds. */
export interface ForwardFields {
  readonly forwardedFor: boolean;
  readonly proto: boolean;
  readonly host: boolean;
  readonly realIp: boolean;
  readonly forwarded: boolean;
  readonly successor: boolean;
}

/** FORWARD_HEADERS' default (the README's settings table mirrors it). */
export const DEFAULT_FORWARD_HEADERS = "x-forwarded-for";

/**
 * Parses FORWARD_HEADERS: a comma-separated list (or a TOML array) of FORWARD_FIELDS, any case, or
 * "none"; unset or empty takes the default. Anything else is an error naming what is allowed.
 */
export function parseForwardFields(raw: unknown): Result<ForwardFields> {
  const value = raw === undefined || raw === null || raw === "" ? DEFAULT_FORWARD_HEADERS : raw;
  const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : null;
  const error = (message: string): Result<ForwardFields> => ({
    ok: false,
    errors: [{ field: "FORWARD_HEADERS", message } satisfies FieldError],
  });
  if (items === null) return error(`must be a comma-separated list of fields (got ${JSON.stringify(raw)})`);
  const names = items.map((item) => (typeof item === "string" ? item.trim().toLowerCase() : ""));
  const chosen = new Set<string>();
  for (const name of names) {
    if (name === "none" && names.length === 1) break;
    if (name === "via") return error("must not name via: Via is always sent (it is how loops are refused)");
    if (!(FORWARD_FIELDS as readonly string[]).includes(name)) {
      return error(
        `must name fields from ${FORWARD_FIELDS.join(", ")}, or be "none" alone (got ${JSON.stringify(raw)})`,
      );
    }
    chosen.add(name);
  }
  return {
    ok: true,
    value: {
      forwardedFor: chosen.has("x-forwarded-for"),
      proto: chosen.has("x-forwarded-proto"),
      host: chosen.has("x-forwarded-host"),
      realIp: chosen.has("x-real-ip"),
      forwarded: chosen.has("forwarded"),
      successor: chosen.has("x-lb-successor"),
    },
  };
}
