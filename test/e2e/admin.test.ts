// End to end: the admin API of the built worker in workerd, driven by the command-line client
// (`npm run lb`, scripts/lb.ts) as an operator would, with real clients before and after a change.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mapLimit, startBalancer, type Balancer } from "./harness.ts";

const TOKEN = "e2e-admin-token-0123456789abcdef";
const clients = Array.from({ length: 400 }, (_, i) => `198.19.${i >> 8}.${i & 255}`);

/** Runs `npm run lb -- ...args` (scripts/lb.ts under this Node) against the balancer. */
function lb(balancer: Balancer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["scripts/lb.ts", ...args],
      { env: { ...process.env, LB_URL: balancer.url.origin, LB_ADMIN_TOKEN: TOKEN } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

describe("the admin API through the command-line client", () => {
  let balancer: Balancer;
  beforeAll(async () => {
    balancer = await startBalancer(["a1", "a2", "a3", "a4"], {
      ADMIN_TOKEN: TOKEN,
      ADMIN_ALLOW_LOCAL_ORIGINS: "true",
      SNAPSHOT_TTL_MS: "60000",
    });
  });
  afterAll(() => balancer?.close());

  const mapping = () => mapLimit(clients, 16, async (ip) => (await balancer.request("/", ip)).origin ?? "none");

  test("origins lists every origin with its share; preview and remove move exactly the removed origin's clients", async () => {
    const listed = await lb(balancer, "origins");
    expect(listed.code, listed.stderr).toBe(0);
    for (const id of ["a1", "a2", "a3", "a4"])
      expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+active.*25\\.00 %`, "m"));

    const before = await mapping();
    const preview = await lb(balancer, "preview", "remove", "a2", "--json");
    expect(preview.code, preview.stderr).toBe(0);
    const { preview: expected, epoch } = JSON.parse(preview.stdout) as { epoch: number; preview: { share: number } };
    expect(await mapping()).toEqual(before);

    const removed = await lb(balancer, "remove", "a2", "--if-match", String(epoch));
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/^done: epoch \d+\nmoves 2\d\.\d\d % of clients/);
    // The isolate that served the change routes on it at once (SNAPSHOT_TTL_MS is a minute here).
    const after = await mapping();
    let moved = 0;
    clients.forEach((_, i) => {
      if (before[i] === "a2") expect(after[i]).not.toBe("a2");
      else expect(after[i], clients[i]).toBe(before[i]);
      if (before[i] !== after[i]) moved++;
    });
    const sigma = Math.sqrt(clients.length * expected.share * (1 - expected.share));
    console.log(
      `admin remove: preview ${(expected.share * 100).toFixed(2)} %, moved ${moved}/${clients.length} clients`,
    );
    expect(Math.abs(moved - clients.length * expected.share)).toBeLessThanOrEqual(4 * sigma);
  });

  test("refusals exit non-zero with the server's message; the audit log shows the change", async () => {
    const missing = await lb(balancer, "drain", "nope");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404 id: no origin "nope"');
    const stale = await lb(balancer, "drain", "a1", "--if-match", "1");
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/409 If-Match: epoch is \d+, not 1/);
    const refused = await lb(balancer, "origins", "--token", "x".repeat(TOKEN.length));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("401");

    const added = await lb(balancer, "add", "a5", balancer.origins[0]!.url, "--weight", "2");
    expect(added.code, added.stderr).toBe(0);
    const audit = await lb(balancer, "audit");
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/^\s*\d+\s+\S+Z\s+\d+\s+add\s+/m);
    expect(audit.stdout).toMatch(/^\s*\d+\s+\S+Z\s+\d+\s+remove\s+\{"id":"a2"\}/m);
    expect(audit.stdout).not.toContain(TOKEN);
  });

  test("regions: set-regions from a file (previewed first), then an origin's region moves it into that pool", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lb-regions-"));
    try {
      const file = join(dir, "regions.json");
      const regions = [{ id: "eu", latitude: 50.11, longitude: 8.68, countries: ["DE"] }];
      await writeFile(file, JSON.stringify({ regions, defaultRegion: "eu" }));
      const preview = await lb(balancer, "preview", "set-regions", file);
      expect(preview.code, preview.stderr).toBe(0);
      expect(preview.stdout).toMatch(/^preview at epoch \d+ \(nothing changed\):\nmoves nobody/);
      expect((await lb(balancer, "regions")).stdout).toMatch(/no regions, one pool of 4 origins/);

      const set = await lb(balancer, "set-regions", file);
      expect(set.code, set.stderr).toBe(0);
      const moved = await lb(balancer, "update", "a1", "--region", "eu");
      expect(moved.code, moved.stderr).toBe(0);
      const listed = await lb(balancer, "regions");
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/^eu \(default\)\s+50\.11, 8\.68\s+DE\s+a1$/m);
      expect(listed.stdout).toMatch(/^\(catch-all\)\s+-\s+after every region\s+a3 a4 a5$/m);

      await writeFile(file, JSON.stringify({ regions: [{ ...regions[0], latitude: 120 }] }));
      const refused = await lb(balancer, "set-regions", file);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("400 regions[0].latitude must be a number from -90 to 90");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
