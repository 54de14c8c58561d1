/**
 * A minimal Chrome DevTools Protocol client over the `ws` package: the targets an inspector lists
 * at /json, commands with their replies, and events by name.
 */
import WebSocket from "ws";

/** One debuggable target as an inspector lists it at http://host:port/json. */
export interface InspectorTarget {
  readonly id: string;
  readonly title: string;
  readonly webSocketDebuggerUrl: string;
}

export interface Cdp {
  /** Sends a command and resolves with its result (rejects with the protocol's error). */
  send<T = unknown>(method: string, params?: object): Promise<T>;
  /** Calls `listener` with the params of every event named `method`. */
  on(method: string, listener: (params: any) => void): void;
  close(): Promise<void>;
}

/** The targets the inspector on `port` lists, retried until it answers or `timeoutMs` passes. */
export async function inspectorTargets(port: number, timeoutMs = 30_000): Promise<InspectorTarget[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json`);
      const list = (await response.json()) as InspectorTarget[];
      if (list.length > 0) return list;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`no inspector on 127.0.0.1:${port}: ${(error as Error).message}`);
    }
    if (Date.now() > deadline) throw new Error(`the inspector on 127.0.0.1:${port} lists no target`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Connects to one target's websocket. */
export async function connectCdp(url: string): Promise<Cdp> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; method: string }>();
  const listeners = new Map<string, ((params: any) => void)[]>();
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString()) as {
      id?: number;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { message: string };
    };
    if (message.id !== undefined) {
      const call = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) call?.reject(new Error(`${call.method}: ${message.error.message}`));
      else call?.resolve(message.result);
    } else if (message.method) for (const listener of listeners.get(message.method) ?? []) listener(message.params);
  });
  ws.on("close", () => {
    for (const call of pending.values()) call.reject(new Error(`${call.method}: the inspector closed`));
    pending.clear();
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject, method });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    on: (method, listener) => listeners.set(method, [...(listeners.get(method) ?? []), listener]),
    close: () =>
      new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once("close", () => resolve());
        ws.close();
        // wrangler's inspector proxy may not answer the closing handshake (ws would wait 30 s).
        setTimeout(() => ws.terminate(), 1_000).unref();
      }),
  };
}
