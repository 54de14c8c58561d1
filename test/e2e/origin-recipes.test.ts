// The README's origin-side recipes (docs/origin-auth/) run for real: Express-style middleware on
// node:http, nginx and HAProxy from Debian's packages (installed when missing, as the bench does;
// skipped with a note when that fails). Each must refuse a request without the secret or with a
// wrong one, and accept both the old and the new secret during a rotation.
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { requireBalancer } from "../../docs/origin-auth/express.mjs";
import { tempDir } from "../../scripts/lib/cleanup.ts";
import { ensureInstalled, freePort, spawnProxy } from "../../scripts/lib/proxy-process.ts";

const OLD = "old-origin-secret-0123456789abcdef";
const NEW = "new-origin-secret-fedcba9876543210";
const HEADER = "x-lb-origin-auth";
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
});

/** What the origin answers to no header, a wrong one, the old and the new secret. */
async function answers(port: number): Promise<number[]> {
  const url = `http://127.0.0.1:${port}/healthz`;
  const statuses: number[] = [];
  for (const value of [undefined, "wrong", OLD, NEW, `${OLD} `]) {
    const headers: Record<string, string> = value === undefined ? {} : { [HEADER]: value };
    statuses.push((await fetch(url, { headers })).status);
  }
  return statuses;
}
// no header, wrong, old, new, old with a trailing space (fetch trims it: the old secret).
const EXPECTED = [403, 403, 200, 200, 200];

/** A recipe file with its placeholders filled, written where the server can read it. */
function recipe(name: string, port: number, dir: string): string {
  const text = readFileSync(path.join("docs/origin-auth", name), "utf8")
    .replaceAll("__PORT__", String(port))
    .replaceAll("__DIR__", dir)
    .replaceAll("__SECRET_OLD__", OLD)
    .replaceAll("__SECRET_NEW__", NEW);
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("origin-side recipes", () => {
  test("Express / node:http middleware (docs/origin-auth/express.mjs)", async () => {
    const check = requireBalancer({ secrets: [OLD, NEW] });
    const server = http.createServer((req, res) => check(req, res, () => res.end("ok\n")));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    expect(await answers((server.address() as { port: number }).port)).toEqual(EXPECTED);
    expect(() => requireBalancer({ secrets: [] })).toThrow(/no secret/);
  });

  test("nginx (docs/origin-auth/nginx.conf)", async (context) => {
    if (!ensureInstalled("nginx", "nginx")) return context.skip("nginx is not installed and could not be installed");
    const dir = tempDir("nginx-recipe");
    const port = await freePort();
    const file = recipe("nginx.conf", port, dir);
    stops.push(await spawnProxy("nginx", "nginx", ["-c", file, "-p", dir, "-g", "daemon off;"], port));
    expect(await answers(port)).toEqual(EXPECTED);
  });

  test("HAProxy (docs/origin-auth/haproxy.cfg)", async (context) => {
    if (!ensureInstalled("haproxy", "haproxy"))
      return context.skip("haproxy is not installed and could not be installed");
    const dir = tempDir("haproxy-recipe");
    const port = await freePort();
    const file = recipe("haproxy.cfg", port, dir);
    stops.push(await spawnProxy("haproxy", "haproxy", ["-f", file, "-db"], port));
    expect(await answers(port)).toEqual(EXPECTED);
  });
});
