/**
 * Every call from an isolate to the ring's Durable Object goes through here: the object's stub by
 * its one name, and a deadline, since an RPC has no timeout of its own and a hung object must
 * never hang a request, a refresh or an admin call (the timer is cleared either way).
 */
import { RING_OBJECT_NAME } from "../ring-store/protocol.ts";
import type { RingStore } from "../ring-store/ring-store.ts";
import { isLocationHint } from "../core/config/location-hint.ts";
import type { Env } from "./env.ts";

/**
 * The deployment's ring object. RING_LOCATION_HINT places it (and so the probes) when it is first
 * created; later calls cannot move it. An invalid hint is reported by the settings and not used.
 */
export function ringStub(env: Env): DurableObjectStub<RingStore> {
  const hint = env.RING_LOCATION_HINT;
  const id = env.RING.idFromName(RING_OBJECT_NAME);
  return isLocationHint(hint) ? env.RING.get(id, { locationHint: hint }) : env.RING.get(id);
}

/** `promise`, or a rejection once `ms` have passed without an answer. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Durable Object did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

/**
 * The answer of `call` (started here, so a call that throws before it returns a promise, as with
 * no stub, counts too), or null when it fails or does not come within `ms`: for views that work
 * without it.
 */
export async function answerOrNull<T>(call: () => Promise<T>, ms: number): Promise<T | null> {
  try {
    return await withTimeout(call(), ms);
  } catch {
    return null;
  }
}
