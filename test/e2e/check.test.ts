// `npm run check` on the real wrangler.toml: the Worker's own parsers, before a deploy.
import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";

function check(...args: string[]): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, ["scripts/check.ts", ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: run.status, out: run.stdout };
}

describe("npm run check", () => {
  test("the committed wrangler.toml passes, naming its origins", () => {
    const { status, out } = check("--secret", "ADMIN_TOKEN");
    expect(status).toBe(0);
    expect(out).toMatch(/^ok +ORIGINS: \d+ origin/m);
    expect(out).not.toMatch(/^error/m);
  });

  test("one invalid --var fails with the variable named, as the Worker would refuse it", () => {
    const { status, out } = check(
      "--secret",
      "ADMIN_TOKEN",
      "--var",
      "MAX_ATTEMPTS:0",
      "--var",
      "RING_LOCATION_HINT:mars",
      "--var",
      "ALERT_WEBHOOK_URL:http://hooks.example.com/x",
    );
    expect(status).toBe(1);
    expect(out).toMatch(/^error +ALERT_WEBHOOK_URL: /m);
    expect(out).not.toContain("hooks.example.com");
    expect(out).toMatch(/^error +MAX_ATTEMPTS: must be an integer from 1 to 10/m);
    expect(out).toMatch(/^error +RING_LOCATION_HINT: must be one of wnam/m);
  });

  test("bad ORIGINS fail; a weak origin secret and a missing admin token are warnings", () => {
    const bad = check("--var", 'ORIGINS:[{"id":"a","url":"ftp://x"}]');
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/^error +ORIGINS\[0\]\.url/m);
    const weak = check("--var", "ORIGIN_AUTH_SECRET:short");
    expect(weak.status).toBe(0);
    expect(weak.out).toMatch(/^warning ORIGIN_AUTH_SECRET: is shorter than 16/m);
    expect(weak.out).toMatch(/^warning ADMIN_TOKEN/m);
  });
});
