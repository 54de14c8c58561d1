import { describe, expect, test } from "vitest";
import {
  isFailure,
  isIdempotent,
  shouldRetry,
  wasNotSent,
  type AttemptOutcome,
} from "../../../src/core/proxy/retry.ts";

// The rule, stated independently of the implementation:
// - a body that cannot be sent twice is never retried;
// - Cloudflare's "could not connect" statuses (521 refused, 522 connect timeout, 523 unreachable,
//   525 TLS handshake failed, 526 invalid certificate) prove the request never reached the origin,
//   so any method may go to the next origin;
// - other origin failures (502, 503, 504, 520, 524, a rejected fetch, a per-try timeout) may come
//   after the request was received, so only the RFC 9110 §9.2.2 idempotent methods are retried;
// - every other answer (2xx, 3xx, 4xx, 500, 501, ...) is passed back, never retried.
const IDEMPOTENT_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"];
const NEVER_SENT_STATUSES = [521, 522, 523, 525, 526];
const MAYBE_SENT_FAILURES: (number | "network-error" | "timeout")[] = [
  502,
  503,
  504,
  520,
  524,
  "network-error",
  "timeout",
];

type OutcomeName = number | "network-error" | "timeout";

function outcome(name: OutcomeName): AttemptOutcome {
  return typeof name === "number" ? { kind: "response", status: name } : { kind: name };
}

function expected(method: string, name: OutcomeName, replayable: boolean): boolean {
  if (!replayable) return false;
  if (typeof name === "number" && NEVER_SENT_STATUSES.includes(name)) return true;
  return MAYBE_SENT_FAILURES.includes(name) && IDEMPOTENT_METHODS.includes(method);
}

const METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "POST", "PATCH", "CONNECT", "get"];
const OUTCOMES: OutcomeName[] = [
  200,
  204,
  301,
  304,
  400,
  404,
  429,
  500,
  501,
  502,
  503,
  504,
  520,
  521,
  522,
  523,
  524,
  525,
  526,
  527,
  530,
  "network-error",
  "timeout",
];

const retried = (method: string, replayable = true): OutcomeName[] =>
  OUTCOMES.filter((name) => shouldRetry(method, outcome(name), replayable));

describe("shouldRetry decision table", () => {
  const rows = METHODS.flatMap((method) =>
    OUTCOMES.flatMap((name) =>
      [true, false].map((replayable) => {
        const retry = expected(method, name, replayable);
        return [
          method,
          name,
          replayable ? "replayable" : "streamed",
          retry ? "retried" : "NOT retried",
          retry,
        ] as const;
      }),
    ),
  );

  test.each(rows)("%s after %s (%s body): %s", (method, name, body, _, retry) => {
    expect(shouldRetry(method, outcome(name), body === "replayable")).toBe(retry);
  });
});

describe("shouldRetry summaries", () => {
  test.each(["POST", "PATCH", "CONNECT"])(
    "%s is retried only on 521/522/523/525/526, never after a network error, timeout or 502",
    (method) => {
      expect(retried(method)).toEqual([521, 522, 523, 525, 526]);
    },
  );

  test.each(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"])(
    "%s is retried on every origin failure and on nothing else",
    (method) => {
      expect(retried(method)).toEqual([502, 503, 504, 520, 521, 522, 523, 524, 525, 526, "network-error", "timeout"]);
    },
  );

  test.each(METHODS)("%s with a body that cannot be replayed is NOT retried after any outcome", (method) => {
    expect(retried(method, false)).toEqual([]);
  });

  test.each(METHODS)("%s is NOT retried after a 2xx, 3xx, 4xx or 500", (method) => {
    for (const status of [200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 409, 429, 500]) {
      expect(shouldRetry(method, { kind: "response", status }, true)).toBe(false);
    }
  });
});

describe("isIdempotent", () => {
  test.each([
    ["GET", true],
    ["HEAD", true],
    ["OPTIONS", true],
    ["PUT", true],
    ["DELETE", true],
    ["TRACE", true],
    // Method names are case-sensitive (RFC 9110 §9.1): "get" is not GET, so it is not retried.
    ["get", false],
    ["Delete", false],
    ["POST", false],
    ["PATCH", false],
    ["CONNECT", false],
    ["post", false],
    ["PROPFIND", false],
    ["", false],
    [" GET", false],
    ["GETS", false],
  ])("%j → %s", (method, idempotent) => {
    expect(isIdempotent(method)).toBe(idempotent);
  });
});

describe("wasNotSent and isFailure", () => {
  test.each(OUTCOMES)("outcome %s", (name) => {
    const neverSent = typeof name === "number" && NEVER_SENT_STATUSES.includes(name);
    expect(wasNotSent(outcome(name))).toBe(neverSent);
    expect(isFailure(outcome(name))).toBe(neverSent || MAYBE_SENT_FAILURES.includes(name));
  });

  test("a rejected fetch and a timeout are failures that may have been sent", () => {
    for (const kind of ["network-error", "timeout"] as const) {
      expect(isFailure({ kind })).toBe(true);
      expect(wasNotSent({ kind })).toBe(false);
    }
  });

  test("520 and 524 come after the request was sent: failures, but NOT proof it was never sent", () => {
    for (const status of [520, 524]) {
      expect(isFailure({ kind: "response", status })).toBe(true);
      expect(wasNotSent({ kind: "response", status })).toBe(false);
    }
  });
});
