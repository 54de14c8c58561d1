// End to end: the status page in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core) against the built worker in workerd, with origins on loopback and the Durable
// Object's alarm probing them. `.ci/run` installs the browser (scripts/ensure-chromium.sh); without
// one this file is skipped with a message saying so. `UPDATE_SCREENSHOT=1` writes the README's
// screenshot (docs/status-page.png); otherwise it goes to the temp directory.
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mapLimit, startBalancer, type Balancer } from "./harness.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_BROWSER = existsSync(CHROMIUM);
if (!HAVE_BROWSER) {
  console.warn(
    `SKIPPED test/e2e/page.test.ts: no Chromium at ${CHROMIUM}. Install it with scripts/ensure-chromium.sh ` +
      "(Debian's chromium; .ci/run does this) or point CHROMIUM_PATH at one.",
  );
}

// Long enough for admin/auth.ts (at least 16 characters). The bearer token goes with every request
// the browser makes; with STATUS_PUBLIC=true it would simply be ignored.
const TOKEN = "page-test-token-0123456789abcdef";
const NAT_GATEWAY = "203.0.113.7";
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? path.resolve("docs/status-page.png")
  : path.join(os.tmpdir(), "edge-affinity-lb-status-page.png");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes the screenshot as a palette PNG (about a third of the size) through sharp, which miniflare
 * already installs; as Chromium made it when sharp is not there.
 */
async function savePng(file: string, png: Buffer): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    const specifier = "sharp";
    type Sharp = (input: Buffer) => { png(options: object): { toFile(file: string): Promise<unknown> } };
    const { default: sharp } = (await import(specifier)) as { default: Sharp };
    await sharp(png).png({ palette: true, effort: 10, compressionLevel: 9 }).toFile(file);
  } catch {
    writeFileSync(file, png);
  }
}

interface Status {
  origins: { id: string; health: string }[];
}

describe.skipIf(!HAVE_BROWSER)("status page in a real browser", () => {
  let lb: Balancer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];

  async function status(): Promise<Status> {
    const response = await fetch(new URL("/__lb/status", lb.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await response.json()) as Status;
  }

  beforeAll(async () => {
    lb = await startBalancer(["eu-1", "eu-2", "us-1", "us-2"], {
      ADMIN_TOKEN: TOKEN,
      HEALTH_PATH: "/healthz",
      HEALTH_INTERVAL_MS: "300",
      HEALTH_TIMEOUT_MS: "1000",
      SNAPSHOT_TTL_MS: "200",
      SLOW_START_MS: "0",
    });
    // Regions and one heavier origin, through the ring object (what the admin API calls).
    const ring = (await lb.ring()) as unknown as {
      applyChange(change: unknown): Promise<{ ok: boolean }>;
    };
    for (const [id, fields] of [
      ["eu-1", { region: "eu" }],
      ["eu-2", { region: "eu", weight: 2 }],
      ["us-1", { region: "us" }],
      ["us-2", { region: "us" }],
    ] as const) {
      expect(await ring.applyChange({ op: "update", id, fields })).toMatchObject({ ok: true });
    }
    const deadline = Date.now() + 20_000;
    while (!(await status()).origins.every((o) => o.health === "up")) {
      if (Date.now() > deadline) throw new Error(`origins not up: ${JSON.stringify(await status())}`);
      await sleep(50);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM });
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` },
    });
    page = await context.newPage();
    page.on("console", (message) => {
      if (/content security policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await lb?.close();
  });

  /** Client traffic over a few seconds: a NAT gateway sending far more than anyone else, and three 500s from one origin. */
  async function traffic(): Promise<void> {
    const clients = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
    for (let round = 0; round < 4; round++) {
      await mapLimit([...clients, ...Array<string>(20).fill(NAT_GATEWAY)], 8, (ip) => lb.request("/", ip));
      await sleep(700);
    }
    const onUs1 = (await mapLimit(clients, 8, async (ip) => ({ ip, served: await lb.request("/", ip) }))).find(
      (c) => c.served.origin === "us-1",
    )!;
    const us1 = lb.origins.find((o) => o.id === "us-1")!;
    us1.setStatus(500);
    for (let i = 0; i < 3; i++) expect((await lb.request("/", onUs1.ip)).status).toBe(500);
    us1.setStatus(200);
  }

  test("renders every origin with its health, the ring with arcs in each origin's colour, and the hot prefixes", async () => {
    await traffic();
    const response = await page.goto(new URL("/__lb/", lb.url).href);
    expect(response?.status()).toBe(200);
    const csp = response!.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain("unsafe-inline");

    await expect(page.title()).resolves.toContain("status");
    for (const id of ["eu-1", "eu-2", "us-1", "us-2"]) {
      const row = page.locator(`table.origins tr[data-origin="${id}"]`);
      await expect(row.getAttribute("data-health")).resolves.toBe("up");
      for (const ring of ["layout", "serving"]) {
        const arcs = Number(
          await page.locator(`svg.ring g.${ring} path[data-origin="${id}"]`).getAttribute("data-arcs"),
        );
        expect(arcs, `${ring} arcs of ${id}`).toBeGreaterThan(10);
      }
    }
    expect(await page.locator("table.origins tbody tr").count()).toBe(4);
    // At most 600 cells per ring, merged into arcs: the SVG stays small. With every origin up, no
    // client is away from its owner: the inner ring is empty.
    const arcs = await page
      .locator("svg.ring g")
      .evaluateAll((gs) => gs.map((g) => Number(g.getAttribute("data-arcs"))));
    expect(arcs).toHaveLength(3);
    expect(arcs.slice(0, 2).every((n) => n > 0 && n <= 600)).toBe(true);
    expect(arcs[2]).toBe(0);
    // eu-2 has weight 2 of 5: its share of the key space is 40 %.
    await expect(page.locator('tr[data-origin="eu-2"] td').nth(9).textContent()).resolves.toBe("40.0 %");
    await expect(page.locator("table.origins tr[data-origin='us-1'] td").nth(1).textContent()).resolves.toBe("us");

    // The nonce'd stylesheet applied (CSP let it through): arcs are stroked in their origin's colour.
    const strokes = await page
      .locator("svg.ring g.layout path.arc")
      .evaluateAll((paths) => paths.map((p) => getComputedStyle(p).stroke));
    expect(new Set(strokes).size).toBe(4);
    expect(strokes).toContain("rgb(78, 121, 167)");
    expect(cspViolations).toEqual([]);
    // The whole sheet parsed: a selector with ">" survives (an HTML-escaped sheet would lose it).
    const selectors = await page.evaluate(() =>
      [...document.styleSheets].flatMap((sheet) =>
        [...sheet.cssRules].map((rule) => (rule as CSSStyleRule).selectorText),
      ),
    );
    expect(selectors).toContain(".ring-layout > div");
    await expect(page.locator("script").count()).resolves.toBe(0);

    // The NAT gateway tops the hot prefixes (this isolate counted every request above: Miniflare runs one).
    const hot = await page.locator("table.hot tbody tr td.mono").allTextContents();
    expect(hot[0]).toBe(`${NAT_GATEWAY}/32`);
    expect(hot).toContain("198.51.100.1/32");
    await expect(page.locator("table.hot tbody tr").first().getAttribute("class")).resolves.toBe("heavy");
    const text = await page.locator("main").textContent();
    expect(text).toContain("this isolate");
    expect(text).toMatch(/One pool of 4 origins/);
  });

  test("after an origin's health check fails and a probe round runs, the page shows it down and its arcs served by others", async () => {
    await page.goto(new URL("/__lb/", lb.url).href);
    const victim = lb.origins.find((o) => o.id === "us-2")!;
    victim.setHealthStatus(503);
    // No reload from here: the page refreshes itself (meta refresh every 5 s).
    await page.waitForFunction(
      () =>
        document.querySelector('table.origins tr[data-origin="us-2"]')?.getAttribute("data-health") === "down" &&
        document.querySelector('svg.ring g.serving path[data-origin="us-2"]') === null,
      undefined,
      { timeout: 30_000, polling: 250 },
    );
    await expect(page.locator('tr[data-origin="us-2"] td.health').textContent()).resolves.toContain("down");
    await expect(page.locator('tr[data-origin="us-2"] td.error').textContent()).resolves.toContain("503");
    // Its slots are still its own (outer ring, faded); nobody else lost any.
    await expect(page.locator('svg.ring g.layout path[data-origin="us-2"]').getAttribute("class")).resolves.toContain(
      "out",
    );
    // Its clients, and only they, are away from their owner, spread over all three others.
    for (const id of ["eu-1", "eu-2", "us-1"]) {
      await expect(page.locator(`tr[data-origin="${id}"]`).getAttribute("data-health")).resolves.toBe("up");
      await expect(page.locator(`svg.ring g.moved path[data-origin="${id}"]`).count()).resolves.toBe(1);
    }
    await expect(page.locator('svg.ring g.moved path[data-origin="us-2"]').count()).resolves.toBe(0);
    expect(cspViolations).toEqual([]);

    // Some traffic while it is down, for the picture (its clients get 200 from their successors).
    const served = await mapLimit(
      Array.from({ length: 60 }, (_, i) => `198.51.100.${(i % 40) + 1}`),
      8,
      (ip) => lb.request("/", ip),
    );
    expect(served.every((s) => s.status === 200 && s.origin !== "us-2")).toBe(true);
    await page.reload();
    await savePng(SCREENSHOT, await page.screenshot({ fullPage: true }));
    console.log(`status page screenshot: ${SCREENSHOT} (${Math.round(statSync(SCREENSHOT).size / 1024)} KiB)`);
  });

  test("every value is escaped: markup in a stored field shows as text and does NOT run", async () => {
    const hostile = `<img src=x onerror="document.title='pwned'">`;
    const ring = (await lb.ring()) as unknown as { applyChange(change: unknown): Promise<{ ok: boolean }> };
    // Straight into the ring object: the admin API would refuse this region (core/admin.ts).
    expect(await ring.applyChange({ op: "update", id: "eu-1", fields: { region: hostile } })).toMatchObject({
      ok: true,
    });
    // The isolate picks the change up on its next snapshot refresh, which a page load starts.
    const region = page.locator('tr[data-origin="eu-1"] td').nth(1);
    const deadline = Date.now() + 20_000;
    while ((await region.textContent()) !== hostile && Date.now() < deadline) {
      await sleep(250);
      await page.reload();
    }
    await expect(page.locator('tr[data-origin="eu-1"] td').nth(1).textContent()).resolves.toBe(hostile);
    await expect(page.locator("main img").count()).resolves.toBe(0);
    await expect(page.title()).resolves.not.toBe("pwned");
    await ring.applyChange({ op: "update", id: "eu-1", fields: { region: "eu" } });
  });

  test("signing in with the token through the page's own form shows the page (cookie, no bearer header)", async () => {
    const plain = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const login = await plain.newPage();
      const first = await login.goto(new URL("/__lb/", lb.url).href);
      expect(first?.status()).toBe(401);
      await login.fill('input[name="token"]', TOKEN);
      await Promise.all([login.waitForURL(/\/__lb\/?$/), login.click('button[type="submit"]')]);
      await expect(login.locator("table.origins tbody tr").count()).resolves.toBe(4);
      await expect(login.locator('form[action$="/logout"] button').textContent()).resolves.toBe("Sign out");
    } finally {
      await plain.close();
    }
  });

  test("with regions declared: a row and a ring per pool, each origin drawn in its own pool's ring only", async () => {
    // Through the admin API, as an operator would.
    const putRegions = async (body: unknown) => {
      const response = await fetch(new URL("/__lb/api/regions", lb.url), {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.text()).toBe(200);
    };
    const regions = [
      { id: "eu", latitude: 50.11, longitude: 8.68, countries: ["DE"], continents: ["EU"] },
      { id: "us", latitude: 39.04, longitude: -77.49, continents: ["NA"] },
    ];
    await putRegions({ regions, defaultRegion: "eu" });
    const deadline = Date.now() + 10_000;
    for (;;) {
      await page.goto(new URL("/__lb/", lb.url).href);
      if ((await page.locator("svg.ring").count()) === 2) break;
      if (Date.now() > deadline) throw new Error("the page never showed two pools");
      await sleep(100);
    }
    const cells = async (selector: string) => (await page.locator(selector).allTextContents()).map((t) => t.trim());
    await expect(cells("tr[data-pool] td:first-child")).resolves.toEqual(["eu", "us"]);
    await expect(cells('tr[data-pool="eu"] td')).resolves.toEqual(["eu", "DE, EU", "2", "2", "65,537"]);
    for (const [pool, own, other] of [
      ["eu", ["eu-1", "eu-2"], ["us-1", "us-2"]],
      ["us", ["us-1", "us-2"], ["eu-1", "eu-2"]],
    ] as const) {
      for (const id of own) {
        await expect(
          page.locator(`svg.ring[data-pool="${pool}"] g.layout path[data-origin="${id}"]`).count(),
        ).resolves.toBe(1);
      }
      for (const id of other) {
        await expect(
          page.locator(`svg.ring[data-pool="${pool}"] g.layout path[data-origin="${id}"]`).count(),
        ).resolves.toBe(0);
      }
    }
    // Shares are of each pool's own key space: eu-2 has weight 2 of eu's 3.
    const share = await page
      .locator("table.legend tbody tr", { hasText: "eu-2" })
      .locator("td.num")
      .first()
      .textContent();
    expect(share).toBe("66.7 %");
    await putRegions({ regions: [] });
  });
});
