/** The Durable Object's call counts as the metrics read them. */
import type { CallCounts } from "../ring-store/protocol.ts";
import { answerOrNull, ringStub } from "../worker/do-call.ts";
import type { Env } from "../worker/env.ts";

/** The calls the object served since it started, or null if it fails or does not answer in time (the metrics still work). */
export async function callCounts(env: Env, timeoutMs: number): Promise<CallCounts | null> {
  return answerOrNull(() => ringStub(env).callCounts() as Promise<CallCounts>, timeoutMs);
}
