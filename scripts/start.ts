/**
 * `npm start`: three demo origins on loopback and the balancer in workerd (`wrangler dev`) in
 * front of them. Prints a few curl lines to try, and stops everything on Ctrl-C.
 *
 * Environment: LB_PORT (default 8787) for the balancer; the origins take free ports.
 * LB_ADMIN_TOKEN: the admin token to use (default: a random one, printed at start).
 *
 * Local settings: ADMIN_ALLOW_LOCAL_ORIGINS (so origins on loopback can be added through the
 * admin API) and STATUS_PUBLIC (the status page and JSON without the token: nothing but this
 * machine can reach them); changes still need the token.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { startOrigins } from "./demo-origins.ts";
import { killGroup } from "./lib/cleanup.ts";
import { quietEnv, WRANGLER_JS } from "./lib/wrangler.ts";

const port = Number(process.env.LB_PORT ?? 8787);
const token = process.env.LB_ADMIN_TOKEN || randomBytes(16).toString("hex");
const origins = await startOrigins(["demo-a", "demo-b", "demo-c"]);
const list = JSON.stringify(origins.map((o) => ({ id: o.id, url: o.url })));
for (const o of origins) console.log(`origin ${o.id} on ${o.url}`);

const wrangler = spawn(
  process.execPath,
  [
    WRANGLER_JS,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--test-scheduled",
    "--var",
    `ORIGINS:${list}`,
    "--var",
    "HEALTH_PATH:/healthz",
    // A local demo: show which origin answered (X-LB-Origin), which production leaves off.
    "--var",
    "DEBUG_HEADERS:true",
    "--var",
    "ADMIN_ALLOW_LOCAL_ORIGINS:true",
    "--var",
    "STATUS_PUBLIC:true",
    "--var",
    `ADMIN_TOKEN:${token}`,
  ],
  {
    stdio: ["ignore", "inherit", "inherit"],
    env: quietEnv(),
    detached: true,
  },
);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    // wrangler dev starts workerd as a child: signal the whole process group.
    if (wrangler.exitCode === null) killGroup(wrangler.pid, "SIGTERM");
    await Promise.all(origins.map((o) => o.stop()));
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code}); stopping the demo origins`);
    void stop(code ?? 1);
  }
});

const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  const ok = await fetch(`${base}/__lb/status`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
if (Date.now() >= deadline) {
  console.error("the balancer did not answer within 60 s");
  await stop(1);
}

console.log(`
The balancer is on ${base}. Try the same client twice, another client, then two addresses of one
IPv6 /64 (the origin answers with its id):

  curl -s -H 'CF-Connecting-IP: 203.0.113.7' ${base}/hello
  curl -s -H 'CF-Connecting-IP: 203.0.113.7' ${base}/hello
  curl -s -H 'CF-Connecting-IP: 198.51.100.23' ${base}/hello
  curl -s -H 'CF-Connecting-IP: 2001:db8:1:2::1' ${base}/hello
  curl -s -H 'CF-Connecting-IP: 2001:db8:1:2:ffff:ffff:ffff:9' ${base}/hello

Status: curl -s ${base}/__lb/status    Cron: curl -s '${base}/__scheduled?cron=*+*+*+*+*'

Admin API (README "Admin API"); the token for this run is ${token}:

  export LB_URL=${base} LB_ADMIN_TOKEN=${token}
  npm run lb -- origins
  npm run lb -- preview drain ${origins[1]!.id}
  npm run lb -- drain ${origins[1]!.id}
  npm run lb -- audit

Ctrl-C stops the balancer and the origins.
`);
