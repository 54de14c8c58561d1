/** The hono environment every route under the reserved prefix shares (a leaf: types only). */
import type { Settings } from "../core/config/settings.ts";
import type { Env } from "../worker/env.ts";
import type { CachedTable } from "../worker/cached-table.ts";

/** What the status route needs besides the request. */
export interface StatusContext {
  readonly settings: Settings;
  readonly table: () => Promise<CachedTable | null>;
  readonly now: () => number;
}

/** The hono environment of the prefix's routes. */
export type AppEnv = {
  Bindings: { readonly env: Env; readonly status: StatusContext };
  /** Who is asking, for the audit log: "token:<fingerprint> ip:<address>", or null (cookie, public status). */
  Variables: { actor: string | null };
};
