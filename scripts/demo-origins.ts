/**
 * Real HTTP origins on loopback, for `npm start` and for the tests. Each answers with its id
 * (body and `X-Origin-Id`) and records what it received. Tests steer them in process
 * (`setStatus`, `stop`) or, from inside workerd, over HTTP under `/_control/` when started with
 * `control: true`.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What an origin saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly bodyBytes: number;
}

/** A running origin and its controls. */
export interface DemoOrigin {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Answer every request with this status from now on (200 is normal). */
  setStatus(status: number): void;
  /** Hold every response's headers back this long from now on (0 is normal). */
  setDelay(ms: number): void;
  /** Close the listener and every open connection: further connects are refused. */
  stop(): Promise<void>;
}

/** Options for `startOrigin`. */
export interface OriginOptions {
  readonly host?: string;
  readonly port?: number;
  /** Serve `/_control/seen` (GET, DELETE) and `/_control/status/N` (POST) for tests in workerd. */
  readonly control?: boolean;
}

/** Starts one origin on loopback (an ephemeral port unless `port` is given). */
export async function startOrigin(id: string, options: OriginOptions = {}): Promise<DemoOrigin> {
  const host = options.host ?? "127.0.0.1";
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let status = 200;
  let delay = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on("data", (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on("end", () => {
      const url = req.url ?? "/";
      if (options.control === true && url.startsWith("/_control/")) return control(url, req.method ?? "GET", res);
      seen.push({
        method: req.method ?? "",
        url,
        headers: req.headers,
        bodyBytes,
      });
      const body = JSON.stringify({
        origin: id,
        method: req.method,
        url,
        bodyBytes,
        xff: req.headers["x-forwarded-for"] ?? null,
      });
      const answer = () => {
        res.writeHead(status, {
          "content-type": "application/json",
          "x-origin-id": id,
        });
        res.end(req.method === "HEAD" ? undefined : `${body}\n`);
      };
      if (delay === 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer();
      }, delay);
      timers.add(timer);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  function control(url: string, method: string, res: http.ServerResponse): void {
    const statusMatch = /^\/_control\/status\/(\d{3})$/.exec(url);
    if (statusMatch !== null && method === "POST") {
      status = Number(statusMatch[1]);
    } else if (url === "/_control/seen" && method === "DELETE") {
      seen.length = 0;
    } else if (url !== "/_control/seen") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, status, seen }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    id,
    host,
    port,
    url: `http://${host}:${port}`,
    seen,
    setStatus: (next) => (status = next),
    setDelay: (ms) => (delay = ms),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Starts one origin per id. */
export function startOrigins(ids: readonly string[], options: OriginOptions = {}): Promise<DemoOrigin[]> {
  return Promise.all(ids.map((id) => startOrigin(id, options)));
}
