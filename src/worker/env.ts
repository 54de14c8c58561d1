import type { RingStore } from "../ring-store/ring-store.ts";
import type { Vars } from "./vars.ts";

/** The Worker's bindings and variables: the ring's Durable Object namespace and `Vars`. */
export interface Env extends Vars {
  readonly RING: DurableObjectNamespace<RingStore>;
}
