// The structured log line: one JSON object, stable fields first, no secret and no URL credentials.
import { describe, expect, test } from "vitest";
import { errorText, formatLogEvent, REDACTED, type LogEvent } from "../../../src/core/log/log-event.ts";

const AT = Date.UTC(2026, 11, 3, 14, 0, 0);
const parse = (line: string) => JSON.parse(line) as Record<string, unknown>;

describe("formatLogEvent", () => {
  test("one line of JSON with event, at (ISO) and level first, then the fields", () => {
    const line = formatLogEvent({ event: "origin.down", level: "warn", origin: "alpha", epoch: 7 }, AT);
    expect(line).not.toContain("\n");
    expect(Object.keys(parse(line))).toEqual(["event", "at", "level", "origin", "epoch"]);
    expect(parse(line)).toEqual({
      event: "origin.down",
      at: "2026-12-03T14:00:00.000Z",
      level: "warn",
      origin: "alpha",
      epoch: 7,
    });
  });

  test("fields named event, at or level do NOT override the stable ones", () => {
    const event = { event: "probe.round", level: "info", at: "yesterday" } as unknown as LogEvent;
    expect(parse(formatLogEvent(event, AT))).toMatchObject({ event: "probe.round", at: "2026-12-03T14:00:00.000Z" });
  });

  test.each([
    ["a secret's value anywhere in a string", { error: "bad token abcdef0123456789 here" }, "abcdef0123456789"],
    [
      "a secret inside nested values",
      { errors: [{ field: "X", message: "got abcdef0123456789" }] },
      "abcdef0123456789",
    ],
    ["a URL's user:password", { error: "fetch https://user:hunter22@origin.example/x failed" }, "hunter22"],
    ["a field named like a secret", { adminToken: "visible?", nested: { ORIGIN_AUTH_SECRET: "s3cr3t!!" } }, "s3cr3t!!"],
    ["a webhook field", { webhookUrl: "https://hooks.example/T0/B0/XXXX" }, "hooks.example"],
  ])("never prints %s", (_name, fields, secret) => {
    const line = formatLogEvent({ event: "misconfigured", level: "error", ...fields }, AT, ["abcdef0123456789"]);
    expect(line).not.toContain(secret);
    expect(line).toContain(REDACTED);
  });

  test("keeps the rest of a URL whose credentials it removed", () => {
    const line = formatLogEvent({ event: "report.failed", level: "error", error: "to https://u:p@a.example/x" }, AT);
    expect(parse(line).error).toBe(`to https://${REDACTED}@a.example/x`);
  });

  test("a secret containing a shorter one is removed whole; very short secrets are not searched for", () => {
    const line = formatLogEvent({ event: "misconfigured", level: "error", text: "a longsecret-and-more b" }, AT, [
      "longsecret",
      "longsecret-and-more",
      "ab",
    ]);
    expect(parse(line).text).toBe(`a ${REDACTED} b`);
  });

  test("errors become their message; non-finite numbers null; deep values cut; bigints strings", () => {
    const deep = { a: { b: { c: { d: { e: 1 } } } } };
    const line = formatLogEvent(
      { event: "request.failed", level: "error", error: new Error("boom"), n: Number.NaN, deep, big: 10n },
      AT,
    );
    expect(parse(line)).toMatchObject({ error: "boom", n: null, deep: { a: { b: { c: { d: "[…]" } } } }, big: "10" });
  });

  test("an invalid time gives at: null, never a throw", () => {
    expect(parse(formatLogEvent({ event: "probe.round", level: "info" }, Number.NaN)).at).toBeNull();
  });
});

describe("errorText", () => {
  test.each([
    [new TypeError("bad"), "bad"],
    ["plain", "plain"],
    [42, "42"],
  ])("%s → %s", (error, text) => {
    expect(errorText(error)).toBe(text);
  });
});
