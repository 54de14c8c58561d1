/**
 * The workers `npm run profile` and `npm run profile:alloc` start under `wrangler dev`: the bench's
 * bare pass-through, the balancer built from this tree and, with a baseline revision, the balancer
 * built from that revision, all in front of the same origins.
 */
import fs from "node:fs";
import path from "node:path";
import { balancerOptions, bareOptions, build, checkoutBaseline } from "../bench-worker/targets.ts";

/** One worker to start with `startDevServer` (dev-server.ts). */
export interface ProfiledServer {
  /** "bare", "current" or "baseline". */
  readonly name: string;
  readonly label: string;
  readonly config: string;
  readonly script: string;
  readonly cwd: string;
  readonly vars: Record<string, string>;
}

/**
 * Builds the bundles and writes the bare worker's files into `tmp`. With `control`, a second bare
 * worker ("control") is read against the first, as bench:worker's control pair is: how far apart
 * two identical workers read is what the method cannot resolve.
 */
export async function profiledServers(
  root: string,
  tmp: string,
  origins: readonly string[],
  baseline: string | undefined,
  control = false,
): Promise<ProfiledServer[]> {
  const bundle = build("current", root, tmp);
  const current = await balancerOptions(root, bundle, [...origins]);
  // Each bare worker in a directory of its own, holding nothing else: `wrangler dev` watches its
  // script's directory, and the other servers' state written there would keep reloading it.
  const bareServer = (name: string, label: string): ProfiledServer => {
    const dir = path.join(tmp, `${name}-worker`);
    fs.mkdirSync(dir);
    bareOptions(dir, [...origins], current.compatibilityDate); // writes dir/bare.js
    const config = path.join(dir, "wrangler.toml");
    fs.writeFileSync(
      config,
      `name = "${name}"\nmain = "bare.js"\ncompatibility_date = "${current.compatibilityDate}"\n`,
    );
    return { name, label, config, script: path.join(dir, "bare.js"), cwd: dir, vars: {} };
  };
  const list = JSON.stringify(origins.map((url, i) => ({ id: `origin-${i + 1}`, url })));
  const servers: ProfiledServer[] = [
    bareServer("bare", "bare pass-through"),
    {
      name: "current",
      label: "balancer",
      config: path.join(root, "wrangler.toml"),
      script: bundle,
      cwd: root,
      vars: { ORIGINS: list },
    },
  ];
  if (control) servers.push(bareServer("control", "bare pass-through (control)"));
  if (baseline !== undefined) {
    const { dir, rev } = checkoutBaseline(root, baseline, tmp);
    const script = build("baseline", dir, tmp);
    const config = path.join(dir, "wrangler.toml");
    servers.push({ name: "baseline", label: `balancer at ${rev}`, config, script, cwd: dir, vars: { ORIGINS: list } });
  }
  return servers;
}
