/**
 * One attempt's fetch, bounded by its timeout (TRY_TIMEOUT_MS: the wait for the response headers;
 * a body still streaming is not cut). fetch has no connect timeout of its own, and Cloudflare waits
 * 19 s for a connect and 100 s for an answer (DESIGN.md), so every attempt needs one.
 *
 * Two ways, chosen by the caller:
 * - raced (the first attempt, every request): the fetch against a timer. No abort signal is given
 *   to fetch: in workerd the signal costs more than anything else the attempt does (AbortSignal.timeout
 *   4.6 µs of 57 per request in `npm run profile`, the balancer's JS CPU ×1.21 → ×1.15 of the bare
 *   worker's without it). A fetch that loses the race is abandoned, not cancelled: its connection
 *   stays open until the origin answers (its body is then cancelled) or the client's request ends,
 *   when the runtime cancels what the request left running (test/e2e/balancer.test.ts checks that
 *   the origin sees the connection close). So one attempt per request may leave one connection open.
 * - aborted (every later attempt): AbortSignal.timeout, which closes the connection when it fires,
 *   so retries never hold more than one abandoned connection of the six a request may have open.
 */

/** The origin's response, or null when `ms` passed first; rejects when fetch does (a lost connection). */
export async function fetchWithin(
  fetcher: typeof fetch,
  url: string,
  init: RequestInit,
  ms: number,
  abort: boolean,
): Promise<Response | null> {
  if (abort) {
    const signal = AbortSignal.timeout(ms);
    try {
      return await fetcher(url, { ...init, signal });
    } catch (error) {
      if (signal.aborted) return null;
      throw error;
    }
  }
  const pending = fetcher(url, init);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const response = await Promise.race([
      pending,
      new Promise<null>((resolve) => {
        timer = setTimeout(resolve, ms, null);
      }),
    ]);
    if (response === null) pending.then(cancelBody, ignore);
    return response;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** A late answer's body is not read by anyone: cancelling it frees the connection. */
function cancelBody(late: Response): void {
  late.body?.cancel().catch(ignore);
}

function ignore(): void {}
