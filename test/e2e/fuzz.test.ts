// End to end, fuzzed: random and hostile HTTP/1.1 requests, written as raw bytes, through the
// built worker in workerd in front of three loopback origins, with a bystander server outside
// the pool. Whatever arrives, the balancer must not answer 500, must not reach outside its pool,
// must not leak origin addresses or stack traces, and must not send a non-idempotent request to
// two origins. Cases come from a fixed fast-check seed (FUZZ_SEED overrides it), so a failure
// can be replayed; FUZZ_PHASES (× 40 cases, default 150) makes a longer run. The figures printed
// at the end are quoted in the notes.
//
// The runtime answers some requests before any worker code runs (workerd: 501 to a method it
// does not know; Miniflare's entry worker: 500, at times with its own stack trace, to a Host or
// target it cannot make a URL of). A bare worker in the same runtime is the control: an answer it
// gives, byte for byte, to the same request is the runtime's, not the balancer's.
import fc from "fast-check";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { startOrigin, type DemoOrigin } from "../../scripts/demo-origins.ts";
import { mapLimit, startBalancer, type Balancer } from "./harness.ts";
import { headerOf, sendRaw, type RawOutcome } from "./raw-http.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const PHASES = Number(process.env.FUZZ_PHASES ?? 150);
const CASES_PER_PHASE = 40;
const CONCURRENCY = 8;
const POOL = ["f1", "f2", "f3"];
const VIA_SELF = "edge-affinity-lb";

/** The 5xx statuses the balancer may answer with itself (508: a Via loop). */
const BALANCER_5XX = new Set([502, 503, 504, 508]);
/** RFC 9110 §9.2.2 (the balancer's own list, src/core/retry.ts). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
const STACK_TRACE = [/\bat \S*[/\\]/, /Error:/, /\.ts:/, /\.js:/];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field names the request framing and the per-case id depend on: the generators never make them up.
const RESERVED_NAMES = new Set(["x-fuzz-id", "host", "content-length", "transfer-encoding", "connection"]);

/** Text as raw bytes: every char is one byte (latin1); unicode goes in as its UTF-8 bytes. */
const utf8 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

/** `arb` in `percent` of the cases, otherwise undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(undefined) }, { weight: percent, arbitrary: arb });

type BodySpec =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly size: number }
  | {
      readonly kind: "chunked";
      readonly sizes: readonly number[];
      readonly extensions: boolean;
      readonly alsoLength: boolean;
    };

/** One generated request, before its id is added. */
interface FuzzCase {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  /** Field lines (name, separator, value) as bytes, in order; framing fields come from `body`. */
  readonly fields: readonly (readonly [string, string, string])[];
  readonly body: BodySpec;
}

interface Phase {
  /** What each pool origin answers during the phase: 200, or a failure that may cause retries. */
  readonly faults: readonly number[];
  readonly cases: readonly FuzzCase[];
}

/** A sent case and what came back. */
interface Sent {
  readonly id: number;
  readonly fuzz: FuzzCase;
  readonly faults: readonly number[];
  readonly request: Buffer;
  readonly outcome: RawOutcome;
}

/** The addresses the generators aim at. */
interface Where {
  readonly lb: string;
  readonly bystanderPort: number;
  readonly originPorts: readonly number[];
}

/** Every way of pointing a request target at the bystander (127.0.0.2, outside the pool). */
function bystanderTarget(port: number): fc.Arbitrary<string> {
  const authority = fc.constantFrom(
    `127.0.0.2:${port}`,
    `127.0.0.2`,
    `2130706434:${port}`,
    `0x7f000002:${port}`,
    `0177.0.0.2:${port}`,
    `127.2:${port}`,
    `127.0.2:${port}`,
    `[::ffff:127.0.0.2]:${port}`,
    `[::ffff:7f00:2]:${port}`,
    `%31%32%37%2e%30%2e%30%2e%32:${port}`,
    `127.0.0.2%3A${port}`,
    `127%2E0%2E0%2E2:${port}`,
    `user:pw@127.0.0.2:${port}`,
    `127.0.0.1@127.0.0.2:${port}`,
    `127.0.0.2:${port}#@127.0.0.1`,
    `127.0.0.2:${port}\\@127.0.0.1`,
    utf8(`127。0。0。2:${port}`),
    utf8(`１２７.０.０.２:${port}`),
  );
  const prefix = fc.constantFrom(
    "//",
    "///",
    "////",
    "/\\",
    "/\\\\",
    "\\\\",
    "/%2F%2F",
    "/%2f%2f",
    "/%2F/",
    "/%5C%5C",
    "/%5c",
    "/%5C/",
    "/..//",
    "/../..//",
    "/.%2e//",
    "/%2e%2e/%2F",
    "/%2E%2E%2F%2F",
    "/./../",
    "/@",
    "/;@",
    "http://",
    "https://",
    "HTTP://",
    "http:/",
    "http:",
    "http:\\\\",
    "ws://",
    "ftp://",
    "//user@",
    "/http://",
    "/http:/",
    "/https%3A%2F%2F",
    "/?url=http://",
    "/redirect?to=//",
  );
  const suffix = fc.constantFrom("/x", "", "/", "?a=b", "#f", "/%2e%2e/", "/x/../../y", ":80/x", "@127.0.0.1/x");
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(prefix, authority, suffix).map(([p, a, s]) => p + a + s) },
    // Authority-form (RFC 9112 §3.2.3), meant for CONNECT.
    { weight: 1, arbitrary: authority },
  );
}

/** Path segments: dot segments, encoded separators, `@`, `:`, unicode, stray percent signs. */
const segment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    ".",
    "..",
    "%2e",
    "%2E%2E",
    ".%2e",
    "%2e.",
    "%2F",
    "%2f",
    "%5C",
    "%5c",
    "\\",
    "@",
    ":",
    "a:b",
    "user@host",
    "%00",
    "%",
    "%zz",
    "%25",
    "%2525",
    "~",
    "*",
    "__lb",
    "_special",
    ";x=1",
    "%20",
    "+",
    "%C0%AF",
    "%E2%80%AE",
  ),
  fc.webSegment(),
  fc.string({ unit: "grapheme", maxLength: 6 }).map(utf8),
);

const plainPath = fc
  .tuple(
    fc.constantFrom("/", "/", "/", "//", "\\", "/./"),
    fc.array(segment, { maxLength: 8 }),
    sometimes(fc.oneof(fc.webQueryParameters(), fc.string({ maxLength: 20 }).map(utf8)), 30),
  )
  .map(([lead, segs, query]) => lead + segs.join("/") + (query === undefined ? "" : `?${query}`));

const longPath = fc
  .tuple(fc.integer({ min: 1_000, max: 20_000 }), fc.constantFrom("a", "ab/", "%2F", "../", "./", utf8("é"), "%41"))
  .map(([length, unit]) => `/${unit.repeat(Math.ceil(length / unit.length)).slice(0, length)}`);

const lbPath = fc.constantFrom(
  "/__lb",
  "/__lb/",
  "/__lb/status",
  "/__lb/status/",
  "/__lb/status?x=1",
  "/__lb/nope",
  "/__lb//status",
  "/__lb/../x",
  "/__lb%2Fstatus",
  "/__LB/status",
  "/x/../__lb/status",
  "/%5F%5Flb/status",
  "/__lbx",
  "/__lb/admin/origins",
);

const specialPath = fc.constantFrom(
  "/_special/204",
  "/_special/304",
  "/_special/redirect",
  "/_special/cookies",
  "/_special/gzip",
  "/_special/reset",
  "/_special/stream?delay=5",
  "/_special/big?bytes=5000",
  "/_special/nope",
);

const method = fc.oneof(
  { weight: 85, arbitrary: fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS") },
  // Methods workerd knows besides those (all non-idempotent for the balancer), and odd tokens.
  {
    weight: 10,
    arbitrary: fc.constantFrom("TRACE", "PURGE", "MOVE", "LOCK", "PROPFIND", "REPORT", "SEARCH", "QUERY", "MKCOL"),
  },
  { weight: 4, arbitrary: fc.constantFrom("FOO", "get", "post", "Patch", "M-SEARCH", "CONNECT", "TRACK", "X") },
  { weight: 1, arbitrary: fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$/) },
);

const clientIp: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.ipV4() },
  { weight: 2, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: fc.ipV6().map((ip) => ip.toUpperCase()) },
  { weight: 1, arbitrary: fc.ipV4Extended() },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "::ffff:1.2.3.4",
      "::FFFF:1.2.3.4",
      "::ffff:127.0.0.2",
      "127.0.0.2",
      "fe80::1%eth0",
      "[::1]",
      "[2001:db8::1]:443",
      "1.2.3.4:80",
      "01.2.3.4",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "1.2.3.4, 5.6.7.8",
      " 1.2.3.4 ",
      "\t::1\t",
      "",
      "unknown",
      "::",
      "0.0.0.0",
      "255.255.255.255",
      "1:2:3:4:5:6:7:8:9",
      "::ffff:999.1.1.1",
      "2001:db8::1/64",
      "2001:db8:::1",
      "0x7f.1",
      utf8("１.２.３.４"),
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 12_000 }).map((n) => "1".repeat(n)) },
);

const connectionTokens = fc.subarray(
  [
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "content-length",
    "proxy-authorization",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "forwarded",
    "via",
    "cf-connecting-ip",
    "host",
    "content-type",
    "cookie",
    "authorization",
    "x-lb-successor",
    "x-origin-id",
    "x-a!b",
    "X_Y",
    "",
    " ",
    ",,",
  ],
  { maxLength: 5 },
);

const fieldName: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      "x-a!b",
      "X_Y",
      "x~z",
      "x|y",
      "x'q",
      "x`b",
      "x^",
      "x#1",
      "x$",
      "x%",
      "x&",
      "x*",
      "x+",
      "x.",
      "X-CAPS",
      "content-type",
      "accept",
      "accept-encoding",
      "cookie",
      "authorization",
      "x-lb-successor",
      "x-origin-id",
      "x-real-ip",
      "x-forwarded-host",
      "x-forwarded-proto",
      "proxy-authorization",
      "proxy-connection",
      "te",
      "trailer",
      "keep-alive",
      "max-forwards",
      "range",
      "if-none-match",
      "cf-ray",
      "cf-worker",
      "cdn-loop",
    ),
    fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,24}$/),
  )
  .filter((name) => !RESERVED_NAMES.has(name.toLowerCase()));

/** Field values: visible text, tabs, obs-text (high bytes), unicode as UTF-8, empty, padded. */
const fieldValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom("\t", "a\tb", "\tx\t", " padded ", "", "\x80\xff\xfe", "caf\xe9", "trailers"),
  },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 10 }).map(utf8) },
);

/** Values that try to end the field line early: CR/LF injection, obs-fold, NUL, smuggling. */
function injection(bystander: string): fc.Arbitrary<string> {
  return fc.constantFrom(
    "a\r\nX-Injected: 1",
    "a\nX-Injected: 1",
    "a\rX-Injected: 1",
    "a\r\n folded",
    "a\x00b",
    "a\x7fb",
    `a\r\nHost: ${bystander}`,
    "a\r\nCF-Connecting-IP: 127.0.0.2",
    `a\r\nVia: 1.1 ${VIA_SELF}`,
    "a\r\nContent-Length: 0",
    "a\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
  );
}

const bodySpec: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: "none" } as const) },
  {
    weight: 4,
    arbitrary: fc
      .oneof(
        { weight: 2, arbitrary: fc.constant(0) },
        { weight: 5, arbitrary: fc.integer({ min: 1, max: 2_048 }) },
        { weight: 2, arbitrary: fc.constantFrom(65_535, 65_536, 65_537) },
        { weight: 2, arbitrary: fc.integer({ min: 2_048, max: 400_000 }) },
      )
      .map((size) => ({ kind: "length", size }) as const),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        sizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 4_096 }), fc.integer({ min: 4_096, max: 70_000 })), {
          maxLength: 6,
        }),
        extensions: fc.boolean(),
        alsoLength: fc.constantFrom(false, false, false, true),
      })
      .map((chunked) => ({ kind: "chunked", ...chunked }) as const),
  },
);

function caseArbitrary(where: Where): fc.Arbitrary<FuzzCase> {
  const bystander = `127.0.0.2:${where.bystanderPort}`;
  const originAuthority = fc.constantFrom(...where.originPorts.map((p) => `127.0.0.1:${p}`));
  const target = fc.oneof(
    { weight: 45, arbitrary: plainPath },
    { weight: 30, arbitrary: bystanderTarget(where.bystanderPort) },
    { weight: 7, arbitrary: longPath },
    { weight: 6, arbitrary: lbPath },
    { weight: 6, arbitrary: specialPath },
    {
      weight: 6,
      arbitrary: fc.oneof(
        fc.constantFrom("*", `http://${where.lb}/x`, "http://localhost/x", "", "/ /", "http://", "//", "/?", "/#"),
        originAuthority.map((a) => `http://${a}/x`),
      ),
    },
  );
  const host = fc.oneof(
    { weight: 85, arbitrary: fc.constant([where.lb]) },
    { weight: 4, arbitrary: fc.constant([bystander]) },
    { weight: 3, arbitrary: originAuthority.map((a) => [a]) },
    {
      weight: 4,
      arbitrary: fc
        .constantFrom("", "localhost", "example.com", "a b", "[::1", "x@y", "127.0.0.1:99999", "%00", utf8("bücher.de"))
        .map((h) => [h]),
    },
    { weight: 2, arbitrary: fc.constant([]) },
    { weight: 2, arbitrary: fc.constant([where.lb, bystander]) },
  );
  return fc
    .record({
      method,
      target,
      version: fc.constantFrom(...Array<string>(9).fill("HTTP/1.1"), "HTTP/1.0"),
      host,
      connection: fc.tuple(connectionTokens, fc.nat(), fc.constantFrom(false, false, false, true)),
      ip: sometimes(fc.tuple(clientIp, fc.constantFrom(false, false, false, false, true)), 85),
      xff: sometimes(
        fc.oneof(
          fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 5 }).map((ips) => ips.join(", ")),
          fc.constantFrom("127.0.0.2", "unknown, , ,", "1.2.3.4,,5.6.7.8", "\t", "x".repeat(5_000)),
          fc.string({ maxLength: 30 }),
        ),
        30,
      ),
      via: sometimes(
        fc.constantFrom(
          `1.1 ${VIA_SELF}`,
          `1.0 proxy, 1.1 ${VIA_SELF}`,
          `1.1 ${VIA_SELF.toUpperCase()}`,
          `1.1 ${VIA_SELF} (comment)`,
          `HTTP/1.1 ${VIA_SELF}`,
          `1.1 ${VIA_SELF}, 1.1 ${VIA_SELF}`,
          `1.1 ${VIA_SELF}x`,
          "1.1 other",
          "garbage",
          "",
        ),
        12,
      ),
      forwarded: sometimes(
        fc.constantFrom(`for=127.0.0.2;host=${bystander}`, 'for="[::1]"', "by=x;for=y;proto=ftp", "junk;;;=", ""),
        10,
      ),
      upgrade: sometimes(fc.constantFrom("websocket", "websocket-no-key", "h2c", "WebSocket"), 8),
      expect: sometimes(fc.constantFrom("100-continue", "garbage"), 5),
      extra: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 6 }),
      separator: fc.constantFrom(...Array<string>(12).fill(": "), ":", ":\t", ":  ", " : "),
      many: sometimes(fc.integer({ min: 50, max: 400 }), 5),
      oversized: sometimes(fc.integer({ min: 33_000, max: 45_000 }), 4),
      injected: sometimes(injection(bystander), 6),
      body: bodySpec,
    })
    .map((g): FuzzCase => {
      const fields: [string, string, string][] = [];
      const add = (name: string, value: string, sep = ": ") => fields.push([name, sep, value]);
      for (const h of g.host) add("Host", h);
      // Always `close` (at a random place among the names), so every exchange is one request.
      const [tokens, at, twice] = g.connection;
      const connection = [...tokens];
      connection.splice(at % (connection.length + 1), 0, "close");
      if (g.upgrade !== undefined) connection.push("Upgrade");
      add("Connection", connection.join(", "));
      if (twice) add("Connection", "close");
      if (g.ip !== undefined) {
        add("CF-Connecting-IP", g.ip[0]);
        if (g.ip[1]) add("cf-connecting-ip", "198.51.100.7");
      }
      if (g.xff !== undefined) add("X-Forwarded-For", g.xff);
      if (g.via !== undefined) add("Via", g.via);
      if (g.forwarded !== undefined) add("Forwarded", g.forwarded);
      if (g.upgrade !== undefined) {
        add("Upgrade", g.upgrade === "websocket-no-key" ? "websocket" : g.upgrade);
        if (g.upgrade !== "websocket-no-key") {
          add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
          add("Sec-WebSocket-Version", "13");
        }
      }
      if (g.expect !== undefined) add("Expect", g.expect);
      for (const [name, value] of g.extra) add(name, value, g.separator);
      if (g.many !== undefined) for (let i = 0; i < g.many; i++) add(`x-many-${i}`, `value-${i}`);
      if (g.oversized !== undefined) add("x-big", "b".repeat(g.oversized));
      if (g.injected !== undefined) add("x-inject", g.injected);
      return { method: g.method, target: g.target, version: g.version, fields, body: g.body };
    });
}

const phaseArbitrary = (where: Where): fc.Arbitrary<Phase> =>
  fc.record({
    faults: fc.array(fc.constantFrom(200, 200, 200, 500, 502, 503), {
      minLength: POOL.length,
      maxLength: POOL.length,
    }),
    cases: fc.array(caseArbitrary(where), { minLength: CASES_PER_PHASE, maxLength: CASES_PER_PHASE }),
  });

const bodyBytes = (size: number) => Buffer.alloc(size, "fuzz-body;");

/** The request bytes: request line, the id first, the generated fields, framing, body. */
function encode(fuzz: FuzzCase, id: number): Buffer {
  const lines = [`${fuzz.method} ${fuzz.target} ${fuzz.version}`, `x-fuzz-id: ${id}`];
  for (const [name, sep, value] of fuzz.fields) lines.push(`${name}${sep}${value}`);
  let body = Buffer.alloc(0);
  const spec = fuzz.body;
  if (spec.kind === "length") {
    lines.push(`Content-Length: ${spec.size}`);
    body = bodyBytes(spec.size);
  } else if (spec.kind === "chunked") {
    const parts = spec.sizes.flatMap((size) => [
      Buffer.from(`${size.toString(16)}${spec.extensions ? ";ext=1" : ""}\r\n`, "latin1"),
      bodyBytes(size),
      Buffer.from("\r\n", "latin1"),
    ]);
    body = Buffer.concat([...parts, Buffer.from("0\r\n\r\n", "latin1")]);
    lines.push("Transfer-Encoding: chunked");
    // Both framings at once (RFC 9112 §6.3: chunked wins, or reject): the length covers the same
    // bytes, so either reading ends at the same place and nothing waits for more.
    if (spec.alsoLength) lines.push(`Content-Length: ${body.length}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

/** True when the request is valid HTTP/1.1 syntax (RFC 9112 §3, §5), so it must get an answer. */
function wellFormed(fuzz: FuzzCase): boolean {
  if (!/^[\x21-\x7e]+$/.test(fuzz.target) || !TOKEN.test(fuzz.method)) return false;
  return fuzz.fields.every(
    ([name, sep, value]) => TOKEN.test(name) && sep.startsWith(":") && !/[\x00-\x08\x0a-\x1f\x7f]/.test(value),
  );
}

function preview(bytes: Buffer, limit = 700): string {
  const text = JSON.stringify(bytes.subarray(0, limit).toString("latin1"));
  return bytes.length > limit ? `${text} … (${bytes.length} bytes)` : text;
}

function describeOutcome(outcome: RawOutcome): string {
  switch (outcome.kind) {
    case "response": {
      const headers = outcome.headers.map(([n, v]) => `${n}: ${v.slice(0, 80)}`).join("; ");
      return `${outcome.status}${outcome.truncated ? " (truncated)" : ""} [${headers}] ${preview(outcome.body, 300)}`;
    }
    case "closed":
      return `connection closed before a response${outcome.partial === "" ? "" : `: ${JSON.stringify(outcome.partial)}`}`;
    case "reset":
      return `connection failed: ${outcome.error}`;
    case "timeout":
      return `no complete response within 10 s (status ${outcome.status})`;
  }
}

/** A worker that answers every request it is given: whatever it does not get, the runtime refused. */
async function startBareRuntime(): Promise<{ url: URL; dispose: () => Promise<void> }> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      compatibilityDate: workerOptions.compatibilityDate,
      compatibilityFlags: workerOptions.compatibilityFlags,
      modules: true,
      script: `export default { fetch: (request) => new Response("bare " + request.method + "\\n") };`,
      host: "127.0.0.1",
      port: 0,
    } as never),
  );
  return { url: await mf.ready, dispose: () => mf.dispose() };
}

const increment = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

describe("fuzzed raw requests through workerd", () => {
  let lb: Balancer;
  let bystander: DemoOrigin;
  let bare: Awaited<ReturnType<typeof startBareRuntime>>;
  beforeAll(async () => {
    bystander = await startOrigin("bystander", { host: "127.0.0.2" });
    // Probes go to /healthz, which origins count apart: `seen` holds client traffic only.
    lb = await startBalancer(POOL, { HEALTH_PATH: "/healthz" });
    bare = await startBareRuntime();
  });
  afterAll(async () => {
    await lb?.close();
    await bystander?.stop();
    await bare?.dispose();
  });

  test("no 500 of its own, no server outside the pool, no leaked origin or stack, no non-idempotent request on two origins", async () => {
    const where: Where = {
      lb: lb.url.host,
      bystanderPort: bystander.port,
      originPorts: lb.origins.map((o) => o.port),
    };
    const phases = fc.sample(phaseArbitrary(where), { seed: SEED, numRuns: PHASES });
    const leaks = ["127.0.0.2", ...lb.origins.map((o) => `127.0.0.1:${o.port}`)];
    const send = (base: URL, request: Buffer, fuzz: FuzzCase) =>
      sendRaw(base.hostname, Number(base.port), request, { method: fuzz.method, timeoutMs: 10_000 });

    const started = Date.now();
    const sent: Sent[] = [];
    let nextId = 0;
    for (const phase of phases) {
      lb.origins.forEach((o, i) => o.setStatus(phase.faults[i]!));
      const batch = phase.cases.map((fuzz) => ({ fuzz, id: nextId++ }));
      sent.push(
        ...(await mapLimit(batch, CONCURRENCY, async ({ fuzz, id }): Promise<Sent> => {
          const request = encode(fuzz, id);
          return { id, fuzz, faults: phase.faults, request, outcome: await send(lb.url, request, fuzz) };
        })),
      );
    }
    for (const o of lb.origins) o.setStatus(200);
    const seconds = (Date.now() - started) / 1000;

    // Each violation under its kind, so the message can show a few of every kind.
    const violations = new Map<string, string[]>();
    const report = (s: Sent, kind: string, detail = "") => {
      const list = violations.get(kind) ?? [];
      list.push(
        `#${s.id} ${kind}${detail}\n  origins answering ${JSON.stringify(s.faults)}\n  request ${preview(s.request)}\n  response ${describeOutcome(s.outcome)}`,
      );
      violations.set(kind, list);
    };

    // What each origin received, by case id (late arrivals included: this runs after the last case).
    const deliveries = new Map<string, { origins: Set<string>; methods: Set<string>; count: number }>();
    let untagged = 0;
    for (const o of lb.origins) {
      for (const r of o.seen) {
        const tag = r.headers["x-fuzz-id"];
        if (typeof tag !== "string") {
          untagged++;
          continue;
        }
        const d = deliveries.get(tag) ?? { origins: new Set(), methods: new Set(), count: 0 };
        d.origins.add(o.id);
        d.methods.add(r.method);
        d.count++;
        deliveries.set(tag, d);
      }
    }

    // Invariants 1 and 3, per response.
    const runtimeAnswers: Record<string, number> = {};
    for (const s of sent) {
      const { outcome } = s;
      if (outcome.kind === "timeout" && wellFormed(s.fuzz)) report(s, "a well-formed request got no answer");
      if (outcome.kind !== "response") continue;
      const origin = headerOf(outcome, "x-origin-id");
      if (origin !== null) {
        if (!POOL.includes(origin)) report(s, "answered by a server outside the pool", `: ${origin}`);
        continue;
      }
      const text = outcome.body.toString("latin1");
      const problems: [string, string][] = [];
      if (outcome.status >= 500 && !BALANCER_5XX.has(outcome.status))
        problems.push([`the balancer answered ${outcome.status}`, ""]);
      for (const leak of leaks)
        if (text.includes(leak)) problems.push(["the balancer's body names an origin", `: ${leak}`]);
      if (outcome.status >= 400 && STACK_TRACE.some((re) => re.test(text)))
        problems.push(["the balancer's error body looks like a stack trace", ""]);
      if (problems.length === 0) continue;
      // Ours unless a bare worker in the same runtime gets the very same answer to the same bytes
      // (and no origin saw the request): then the runtime answered before the balancer ran.
      const control = await send(bare.url, s.request, s.fuzz);
      const sameAnswer =
        control.kind === "response" && control.status === outcome.status && control.body.equals(outcome.body);
      if (sameAnswer && !deliveries.has(String(s.id))) {
        increment(runtimeAnswers, `${outcome.status} ${text.trim().split("\n")[0]!.slice(0, 40) || "(no body)"}`);
        continue;
      }
      for (const [kind, detail] of problems)
        report(s, kind, `${detail}; a bare worker in the same runtime got ${describeOutcome(control)}`);
    }

    // Invariant 4: a request an origin received with a non-idempotent method went to one origin,
    // once. (The runtime turns any `Upgrade: websocket` request into a GET before the worker
    // sees it, so the method the origins saw is the one that decides.)
    let onSeveral = 0;
    const rewritten: Record<string, number> = {};
    for (const s of sent) {
      const d = deliveries.get(String(s.id));
      if (d === undefined) continue;
      if (d.origins.size > 1) onSeveral++;
      for (const m of d.methods) if (m !== s.fuzz.method) increment(rewritten, `${s.fuzz.method}→${m}`);
      const unsafe = [...d.methods].filter((m) => !IDEMPOTENT.has(m));
      const limit = unsafe.length > 0 ? 1 : POOL.length;
      if (d.origins.size > limit || d.count > limit)
        report(
          s,
          `a ${limit === 1 ? "non-idempotent" : "idempotent"} request reached more than ${limit} origin(s)`,
          `: ${[...d.methods].join("/")} on ${[...d.origins].join(", ")}, ${d.count} times`,
        );
    }

    const statuses: Record<string, number> = {};
    const bySource: Record<"origin" | "balancer" | "none", Record<string, number>> = {
      origin: {},
      balancer: {},
      none: {},
    };
    for (const { outcome } of sent) {
      const key = outcome.kind === "response" ? String(outcome.status) : outcome.kind;
      increment(statuses, key);
      const source =
        outcome.kind !== "response" ? "none" : headerOf(outcome, "x-origin-id") !== null ? "origin" : "balancer";
      increment(bySource[source], key);
    }
    const bystanderHits = bystander.seen.length;
    const hostile = sent.filter((s) => !wellFormed(s.fuzz)).length;
    console.log(
      `fuzz: seed ${SEED}; ${sent.length} cases (${hostile} not well-formed HTTP) in ${seconds.toFixed(1)} s, ` +
        `${PHASES} phases of ${CASES_PER_PHASE}, concurrency ${CONCURRENCY}\n` +
        `  statuses ${JSON.stringify(statuses)}\n` +
        `  from origins ${JSON.stringify(bySource.origin)}\n` +
        `  from the balancer or runtime ${JSON.stringify(bySource.balancer)}; no response ${JSON.stringify(bySource.none)}\n` +
        `  answered by the runtime (the same bytes from a bare worker) ${JSON.stringify(runtimeAnswers)}\n` +
        `  methods changed before reaching an origin ${JSON.stringify(rewritten)}\n` +
        `  requests on more than one origin: ${onSeveral}; origin requests without an id: ${untagged}; ` +
        `bystander contacted ${bystanderHits} times; violations ${JSON.stringify(Object.fromEntries([...violations].map(([k, v]) => [k, v.length])))}`,
    );

    // Invariant 2, over the whole run.
    const bystanderSaw = bystander.seen.slice(0, 5).map((r) => `${r.method} ${r.url} (#${r.headers["x-fuzz-id"]})`);
    expect.soft(bystanderHits, `the bystander, outside the pool, was contacted: ${bystanderSaw.join("; ")}`).toBe(0);
    const total = [...violations.values()].reduce((n, list) => n + list.length, 0);
    const firstOfEach = [...violations.values()].flatMap((list) => list.slice(0, 2));
    expect
      .soft(total, `${total} violations (seed ${SEED}); the first of each kind:\n${firstOfEach.join("\n")}`)
      .toBe(0);
    // The run was not vacuous: origins answered a good share, and failures caused retries.
    const answeredByOrigins = Object.values(bySource.origin).reduce((a, b) => a + b, 0);
    expect.soft(answeredByOrigins).toBeGreaterThan(sent.length / 4);
    expect.soft(onSeveral).toBeGreaterThan(0);
  }, 300_000);
});
