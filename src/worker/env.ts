import type { Vars } from "./vars.ts";

/** The Worker's bindings (the ring's Durable Object namespace, as `wrangler types` declares it) and `Vars`. */
export type Env = Vars & Pick<Cloudflare.Env, "RING">;
