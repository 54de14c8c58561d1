/** The ten loopback origins, and the victim's three lives: up, refusing (closed), black-holing. */
import net from "node:net";
import { startOrigin, startOrigins, type DemoOrigin } from "../demo-origins.ts";
import { onCleanup } from "../lib/cleanup.ts";
import { sleep } from "../lib/log.ts";
import { IDS, VICTIM } from "./settings.ts";

export interface Origins {
  /** Every origin, the victim at its index in IDS (a new object after each revival). */
  readonly list: DemoOrigin[];
  /** The victim's port: kept across its deaths, so the proxies find it again. */
  readonly victimPort: number;
  /** Closes the victim's listener and connections: connections are refused. */
  kill(): Promise<void>;
  /** Starts the victim again on its port. */
  revive(): Promise<void>;
  /** A listener on the victim's port that accepts connections, counts them and never answers. */
  blackhole(): Promise<{ connections: () => number; close: () => Promise<void> }>;
}

/** Starts the origins, stopped at cleanup (the victim unless it is down). */
export async function startFailoverOrigins(): Promise<Origins> {
  const list: DemoOrigin[] = await startOrigins(IDS);
  const index = IDS.indexOf(VICTIM);
  const victimPort = list[index]!.port;
  let victimDown = false;
  onCleanup(() => Promise.all(list.map((o) => (o.id === VICTIM && victimDown ? undefined : o.stop()))));
  const startVictim = async () => {
    for (let tries = 0; ; tries++) {
      try {
        list[index] = await startOrigin(VICTIM, { port: victimPort });
        return;
      } catch (error) {
        if (tries >= 40) throw error;
        await sleep(50);
      }
    }
  };
  return {
    list,
    victimPort,
    async kill() {
      victimDown = true;
      await list[index]!.stop();
    },
    async revive() {
      await startVictim();
      victimDown = false;
    },
    blackhole: () => startBlackhole(victimPort),
  };
}

async function startBlackhole(port: number): Promise<{ connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const close = onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  );
  return { connections: () => connections, close };
}
