// ALERT_* settings: defaults, bounds, and a webhook URL that must be https (http only to loopback).
import { describe, expect, test } from "vitest";
import { DEFAULT_ALERT_SETTINGS, parseAlertSettings } from "../../../src/core/config/alert-settings.ts";

describe("parseAlertSettings", () => {
  test("nothing set: alerts off, the defaults", () => {
    expect(parseAlertSettings({})).toEqual({ ok: true, value: DEFAULT_ALERT_SETTINGS });
    expect(DEFAULT_ALERT_SETTINGS).toMatchObject({ webhookUrl: null, timeoutMs: 5_000, retries: 3, backoffMs: 1_000 });
  });

  test.each([
    "https://hooks.example.com/services/T0/B0/abc",
    "http://127.0.0.1:8787/hook",
    "http://localhost:9000/",
    "http://[::1]:9000/",
  ])("accepts %s", (url) => {
    expect(parseAlertSettings({ ALERT_WEBHOOK_URL: url })).toMatchObject({ ok: true, value: { webhookUrl: url } });
  });

  test.each([
    ["http://hooks.example.com/x", "must be https://"],
    ["ftp://hooks.example.com/x", "must be https://"],
    ["hooks.example.com/x", "not a valid absolute URL"],
    ["https://user:pw-abcdef@hooks.example.com/x", "must not contain user:password@"],
    [`https://hooks.example.com/${"a".repeat(2100)}`, "at most 2048"],
    [42, "must be a URL string"],
  ])("refuses %s, naming the variable and NOT quoting the URL", (url, message) => {
    const parsed = parseAlertSettings({ ALERT_WEBHOOK_URL: url });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]!.field).toBe("ALERT_WEBHOOK_URL");
    expect(parsed.errors[0]!.message).toContain(message);
    expect(parsed.errors[0]!.message).not.toContain("hooks.example.com");
  });

  test("integers within bounds, strings or numbers", () => {
    const parsed = parseAlertSettings({ ALERT_TIMEOUT_MS: "250", ALERT_RETRIES: 0, ALERT_BACKOFF_MS: "10" });
    expect(parsed).toMatchObject({ ok: true, value: { timeoutMs: 250, retries: 0, backoffMs: 10 } });
  });

  test.each([
    ["ALERT_TIMEOUT_MS", "99"],
    ["ALERT_TIMEOUT_MS", "60001"],
    ["ALERT_RETRIES", "11"],
    ["ALERT_RETRIES", "-1"],
    ["ALERT_BACKOFF_MS", "1.5"],
  ])("refuses %s=%s with the bounds", (name, value) => {
    expect(parseAlertSettings({ [name]: value })).toMatchObject({ ok: false, errors: [{ field: name }] });
  });
});
