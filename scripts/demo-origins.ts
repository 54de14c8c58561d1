/**
 * Real HTTP origins on loopback, for `npm start` and for the tests. Each answers with its id
 * (body and `X-Origin-Id`) and records what it received. Its health path (`/healthz` unless
 * set) answers with a status of its own and is counted apart (`healthChecks`), so tests can fail
 * an origin's health check while its client requests still work. Paths under `/_special/` stream,
 * reset mid-body, compress, set several cookies, redirect or answer 204/304 (see `special`), and
 * any path accepts a WebSocket upgrade and echoes "<id>:<message>". Tests steer them in process
 * (`setStatus`, `stop`) or, from inside workerd, over HTTP under `/_control/` when started with
 * `control: true`.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import type { WebSocketServer as WebSocketServerType } from "ws";

// Through Node's own resolver: the Workers vitest project resolves bare imports with the
// "browser"/"worker" conditions, where `ws` is a client-only stub.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as { WebSocketServer: typeof WebSocketServerType };

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
  /** How many requests reached the health path. */
  readonly healthChecks: () => number;
  /** How many requests `requireAuth` refused. */
  readonly refused: () => number;
  /** How many WebSocket handshakes it accepted. */
  readonly upgrades: () => number;
  /** How many requests' connections closed before their answer was sent (a client that gave up). */
  readonly abandoned: () => number;
  /** When `/_special/stream` last sent its final chunk (ms since the Unix epoch), or null. */
  readonly streamEndedAt: () => number | null;
  /** Answer the health path with this status from now on (200 is normal). */
  setHealthStatus(status: number): void;
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
  /** Serve `/_control/seen` (GET, DELETE) and `/_control/status/N`, `/_control/health/N`, `/_control/delay/MS` (POST) for tests in workerd. */
  readonly control?: boolean;
  /** The health path (default "/healthz"). */
  readonly healthPath?: string;
  /**
   * Accept only requests that carry one of `accept` in header `header` (the balancer's
   * ORIGIN_AUTH_SECRET), health checks included; others get 403. `accept` may be changed later
   * (a rotation), through the array it is given.
   */
  readonly requireAuth?: { readonly header: string; readonly accept: string[] };
}

/** Starts one origin on loopback (an ephemeral port unless `port` is given). */
export async function startOrigin(id: string, options: OriginOptions = {}): Promise<DemoOrigin> {
  const host = options.host ?? "127.0.0.1";
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let status = 200;
  let delay = 0;
  let healthStatus = 200;
  let healthChecks = 0;
  const healthPath = options.healthPath ?? "/healthz";
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const server = http.createServer((req, res) => {
    res.on("close", () => void (res.writableFinished || abandoned++));
    let bodyBytes = 0;
    req.on("data", (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on("end", () => {
      const url = req.url ?? "/";
      if (options.control === true && url.startsWith("/_control/")) return control(url, req.method ?? "GET", res);
      const auth = options.requireAuth;
      if (auth !== undefined && !auth.accept.includes(String(req.headers[auth.header] ?? ""))) {
        refused++;
        return void res.writeHead(403, { "content-type": "text/plain" }).end("only through the balancer\n");
      }
      let answer: () => void;
      if (url === healthPath) {
        healthChecks++;
        const verdict = healthStatus;
        answer = () =>
          res.writeHead(verdict, { "content-type": "text/plain" }).end(verdict === 200 ? "ok\n" : "unhealthy\n");
      } else if (url.startsWith("/_special/")) {
        seen.push({ method: req.method ?? "", url, headers: req.headers, bodyBytes });
        answer = () => special(url, res);
      } else {
        seen.push({ method: req.method ?? "", url, headers: req.headers, bodyBytes });
        const body = JSON.stringify({
          origin: id,
          method: req.method,
          url,
          bodyBytes,
          xff: req.headers["x-forwarded-for"] ?? null,
        });
        const answered = status;
        answer = () => {
          res.writeHead(answered, { "content-type": "application/json", "x-origin-id": id });
          res.end(req.method === "HEAD" ? undefined : `${body}\n`);
        };
      }
      if (delay === 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer();
      }, delay);
      timers.add(timer);
    });
  });
  // WebSocket echo on any path: answers "<id>:<message>"; `upgrades` counts handshakes.
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket) => {
    upgrades++;
    socket.on("message", (data) => socket.send(`${id}:${String(data)}`));
  });
  let upgrades = 0;
  let refused = 0;
  let abandoned = 0;

  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  /** Answers the `/_special/...` paths the proxy tests need. */
  function special(url: string, res: http.ServerResponse): void {
    const [path, query = ""] = url.split("?");
    const params = new URLSearchParams(query);
    const headers = { "x-origin-id": id };
    switch (path) {
      case "/_special/stream": {
        // First chunk at once, the rest after `delay` ms: shows whether the proxy streams.
        res.writeHead(200, { ...headers, "content-type": "text/plain" });
        res.write("first\n");
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            streamEndedAt = Date.now();
            res.end("last\n");
          },
          Number(params.get("delay") ?? 500),
        );
        timers.add(timer);
        return;
      }
      case "/_special/big": {
        // `bytes` bytes written in 64 KiB chunks, honouring back-pressure.
        let left = Number(params.get("bytes") ?? 10_485_760);
        res.writeHead(200, { ...headers, "content-type": "application/octet-stream", "content-length": String(left) });
        const chunk = Buffer.alloc(65_536, 97);
        const pump = () => {
          while (left > 0) {
            const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= part.length;
            if (!res.write(part)) return void res.once("drain", pump);
          }
          res.end();
        };
        return pump();
      }
      case "/_special/reset":
        // Headers and part of the body, then the connection is torn down.
        res.writeHead(200, { ...headers, "content-type": "text/plain", "content-length": "1000" });
        res.write("partial");
        setImmediate(() => res.socket?.destroy());
        return;
      case "/_special/gzip": {
        const body = gzipSync(Buffer.from("compressed ".repeat(500)));
        res.writeHead(200, {
          ...headers,
          "content-encoding": "gzip",
          "content-length": String(body.length),
          "content-type": "text/plain",
        });
        return void res.end(body);
      }
      case "/_special/cookies":
        res.writeHead(200, { ...headers, "set-cookie": ["a=1; Path=/", "b=2; Path=/; HttpOnly"] });
        return void res.end("cookies\n");
      case "/_special/redirect":
        res.writeHead(302, { ...headers, location: "https://elsewhere.example/next" });
        return void res.end();
      case "/_special/status": {
        // Any status the query names (100-599 only; 200 otherwise): a path that fails for whoever asks for it.
        const code = Number(params.get("code"));
        res.writeHead(Number.isInteger(code) && code >= 200 && code <= 599 ? code : 200, headers);
        return void res.end("status\n");
      }
      case "/_special/hop":
        // Hop-by-hop fields a proxy must not pass on, and one the Connection header names.
        res.writeHead(200, {
          ...headers,
          connection: "keep-alive, X-Hop",
          "x-hop": "1",
          "proxy-authenticate": "Basic",
          "proxy-connection": "keep-alive",
          "x-end-to-end": "kept",
        });
        return void res.end("hop\n");
      case "/_special/proxy-auth":
        // What a proxy in front of the origin would answer: it asks for credentials to itself.
        res.writeHead(407, { ...headers, "proxy-authenticate": 'Basic realm="origin-side proxy"' });
        return void res.end("proxy auth\n");
      case "/_special/204":
        return void res.writeHead(204, headers).end();
      case "/_special/304":
        return void res.writeHead(304, headers).end();
      default:
        return void res.writeHead(404, headers).end("no such special\n");
    }
  }
  let streamEndedAt: number | null = null;

  function control(url: string, method: string, res: http.ServerResponse): void {
    const delayMatch = /^\/_control\/delay\/(\d{1,6})$/.exec(url);
    const statusMatch = /^\/_control\/(status|health)\/(\d{3})$/.exec(url);
    if (delayMatch !== null && method === "POST") {
      delay = Number(delayMatch[1]);
    } else if (statusMatch !== null && method === "POST") {
      if (statusMatch[1] === "status") status = Number(statusMatch[2]);
      else healthStatus = Number(statusMatch[2]);
    } else if (url === "/_control/seen" && method === "DELETE") {
      seen.length = 0;
    } else if (url !== "/_control/seen") {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ id, status, healthStatus, healthChecks, seen }));
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
    healthChecks: () => healthChecks,
    upgrades: () => upgrades,
    refused: () => refused,
    abandoned: () => abandoned,
    streamEndedAt: () => streamEndedAt,
    setHealthStatus: (next) => (healthStatus = next),
    setStatus: (next) => (status = next),
    setDelay: (ms) => (delay = ms),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Starts one origin per id. */
export function startOrigins(ids: readonly string[], options: OriginOptions = {}): Promise<DemoOrigin[]> {
  return Promise.all(ids.map((id) => startOrigin(id, options)));
}
