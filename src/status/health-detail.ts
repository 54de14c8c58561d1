/** The Durable Object's health records as the status views read them (the page and the JSON). */
import type { OriginHealthDetail } from "../ring-store/protocol.ts";
import { answerOrNull, ringStub } from "../worker/do-call.ts";
import type { Env } from "../worker/env.ts";

/** The last probe round and each origin's health record, as the Durable Object keeps them. */
export interface HealthDetail {
  readonly lastRoundAt: number | null;
  readonly origins: readonly OriginHealthDetail[];
}

/** The Durable Object's health records, or null if it fails or does not answer in time (the status views still work). */
export async function healthDetail(env: Env, timeoutMs: number): Promise<HealthDetail | null> {
  return answerOrNull(() => ringStub(env).getHealth() as Promise<HealthDetail>, timeoutMs);
}
