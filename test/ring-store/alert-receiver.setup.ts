// A real webhook receiver on loopback for the alert tests inside workerd (vitest `provide` →
// `inject("alertReceiver")`). Each test uses its own channel (a path segment): POST /hook/<channel>
// records the body, failing with 500 while the channel's failure count lasts; /_control/<channel>
// reads what arrived (GET) and sets the failures to come (POST /_control/<channel>/fail/N). It
// also serves the channel's own origins, GET /origin/<channel>/<id>/healthz, answering the status
// set by POST /_control/<channel>/health/<id>/<status> (200 until then): the tests do not steer
// the origins other test files share.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    alertReceiver: string;
  }
}

interface Channel {
  health: Record<string, number>;
  failuresLeft: number;
  attempts: number;
  received: unknown[];
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const channels = new Map<string, Channel>();
  const channel = (name: string) => {
    let found = channels.get(name);
    if (found === undefined) channels.set(name, (found = { health: {}, failuresLeft: 0, attempts: 0, received: [] }));
    return found;
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const parts = (request.url ?? "/").split("/").filter((p) => p !== "");
      const reply = (status: number, body: unknown = {}) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (parts[0] === "hook" && parts[1] !== undefined && request.method === "POST") {
        const target = channel(parts[1]);
        target.attempts++;
        if (target.failuresLeft > 0) {
          target.failuresLeft--;
          return reply(500, { error: "failing on purpose" });
        }
        target.received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        return reply(200);
      }
      if (parts[0] === "origin" && parts[1] !== undefined && parts[2] !== undefined) {
        return reply(channel(parts[1]).health[parts[2]] ?? 200, { id: parts[2] });
      }
      if (parts[0] === "_control" && parts[1] !== undefined) {
        const target = channel(parts[1]);
        if (request.method === "POST" && parts[2] === "health" && parts[3] !== undefined) {
          target.health[parts[3]] = Number(parts[4]);
          return reply(200);
        }
        if (request.method === "POST" && parts[2] === "fail") {
          target.failuresLeft = Number(parts[3]);
          return reply(200);
        }
        if (request.method === "GET") return reply(200, target);
      }
      reply(404);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("alertReceiver", `http://127.0.0.1:${port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
