/**
 * The Worker's variables and secrets, without bindings. Their names and TOML types come from
 * `wrangler types` (worker-configuration.d.ts at the project root, generated from wrangler.toml
 * and checked by `npm test`, so they cannot drift); added here are only what wrangler.toml cannot
 * declare: the optional secrets, and any other name, since `--var` and the dashboard can set one.
 * Every value is parsed and checked by core/config before use, so none is trusted as typed.
 */
export type Vars = Omit<Cloudflare.Env, "RING"> & OptionalSecrets & { readonly [setting: string]: unknown };

/** Secrets that are not in wrangler.toml's `[secrets] required` (`wrangler secret put NAME`). */
export interface OptionalSecrets {
  /** Sent to every origin (README "Origin authentication"); unset, nothing is sent. */
  readonly ORIGIN_AUTH_SECRET?: string;
  /** Where the Durable Object posts alerts (README "Logs and alerts"); unset, none are sent. */
  readonly ALERT_WEBHOOK_URL?: string;
}
