/**
 * bench:parts' variants: the body of a bare worker's fetch handler (after `req`, `u` and `target`,
 * the origin URL, are set), each adding one part of the balancer's per-request work.
 */
export interface Part {
  readonly name: string;
  readonly what: string;
  readonly body: string;
}

const INIT = `{ method: req.method, headers: hs, redirect: "manual" }`;
const SETS = [
  `hs.set("x-forwarded-for", ip); hs.set("x-real-ip", ip);`,
  `hs.set("x-forwarded-proto", "http"); hs.set("x-forwarded-host", u.host);`,
  `hs.set("forwarded", "for=" + ip + ";proto=http;host=" + u.host); hs.set("via", "1.1 lb");`,
  `hs.set("x-lb-successor", "origin-2");`,
].join(" ");

export const PARTS: readonly Part[] = [
  { name: "bare", what: "nothing (the floor)", body: `return fetch(target, req);` },
  {
    name: "init",
    what: "an init object (method, the request's headers, redirect) instead of the request",
    body: `const hs = req.headers; return fetch(target, ${INIT});`,
  },
  {
    name: "copy",
    what: "the request's headers copied into a new Headers, sent in an init object",
    body: `const hs = new Headers(req.headers); return fetch(target, ${INIT});`,
  },
  {
    name: "copy+delete2",
    what: "copy, minus two fields (host, cf-connecting-ip)",
    body: `const hs = new Headers(req.headers); hs.delete("host"); hs.delete("cf-connecting-ip"); return fetch(target, ${INIT});`,
  },
  {
    name: "copy+via",
    what: "copy, plus Via (the loop check's mark)",
    body: `const hs = new Headers(req.headers); hs.set("via", "1.1 lb"); return fetch(target, ${INIT});`,
  },
  {
    name: "copy+7",
    what: "copy, plus the 7 fields the balancer adds (X-Forwarded-For/-Proto/-Host, X-Real-IP, Forwarded, Via, X-LB-Successor)",
    body: `const hs = new Headers(req.headers); ${SETS} return fetch(target, ${INIT});`,
  },
  {
    name: "copy+via+xff",
    what: "copy, plus Via and X-Forwarded-For",
    body: `const hs = new Headers(req.headers); hs.set("via", "1.1 lb"); hs.set("x-forwarded-for", ip); return fetch(target, ${INIT});`,
  },
  {
    name: "copy+via+xff+proto",
    what: "copy, plus Via, X-Forwarded-For and X-Forwarded-Proto",
    body: `const hs = new Headers(req.headers); hs.set("via", "1.1 lb"); hs.set("x-forwarded-for", ip); hs.set("x-forwarded-proto", "http"); return fetch(target, ${INIT});`,
  },
  {
    name: "copy+via+x3",
    what: "copy, plus Via, X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host",
    body: `const hs = new Headers(req.headers); hs.set("via", "1.1 lb"); hs.set("x-forwarded-for", ip); hs.set("x-forwarded-proto", "http"); hs.set("x-forwarded-host", u.host); return fetch(target, ${INIT});`,
  },
  {
    name: "copy+7-deleted",
    what: "copy+7 with the 7 fields deleted again before the fetch: the calls without the fields on the wire",
    body:
      `const hs = new Headers(req.headers); ${SETS}\n` +
      `  for (const n of ["x-forwarded-for", "x-real-ip", "x-forwarded-proto", "x-forwarded-host", "forwarded", "via", "x-lb-successor"]) hs.delete(n);\n` +
      `  return fetch(target, ${INIT});`,
  },
  {
    name: "foreach",
    what: "one Headers.forEach over the request's fields (the request scan's pass)",
    body: `let n = 0; req.headers.forEach((value, name) => { n += name.length + value.length; }); if (n < 0) return null; return fetch(target, req);`,
  },
  {
    name: "timer",
    what: "an AbortController, setTimeout and clearTimeout, and the signal given to fetch (the per-try timeout)",
    body:
      `const c = new AbortController(); const t = setTimeout(() => c.abort(), 10000);\n` +
      `  try { return await fetch(target, { method: req.method, headers: req.headers, redirect: "manual", signal: c.signal }); } finally { clearTimeout(t); }`,
  },
  {
    name: "timer-nosignal",
    what: "setTimeout and clearTimeout around the fetch, no abort signal",
    body: `const t = setTimeout(() => {}, 10000); try { return await fetch(target, req); } finally { clearTimeout(t); }`,
  },
  {
    name: "signal-only",
    what: "an AbortController's signal given to fetch, no timer",
    body: `const c = new AbortController(); return fetch(target, { method: req.method, headers: req.headers, redirect: "manual", signal: c.signal });`,
  },
  {
    name: "signal-timeout",
    what: "AbortSignal.timeout given to fetch",
    body: `return fetch(target, { method: req.method, headers: req.headers, redirect: "manual", signal: AbortSignal.timeout(10000) });`,
  },
  {
    name: "init-follow",
    what: "init, without redirect (the runtime's default, follow)",
    body: `return fetch(target, { method: req.method, headers: req.headers });`,
  },
  {
    name: "request-input",
    what: "a new Request (method, the request's headers, redirect) given to fetch as its input instead of an init object",
    body: `return fetch(new Request(target, { method: req.method, headers: req.headers, redirect: "manual" }));`,
  },
  {
    name: "request-as-init",
    what: "a new Request made from the request (its headers copied, redirect) given to fetch as its init",
    body: `return fetch(target, new Request(req, { headers: new Headers(req.headers), redirect: "manual" }));`,
  },
  {
    name: "request-edit",
    what: "a new Request made from the request (the runtime copies its headers), Via and X-Forwarded-For set on its own headers, given to fetch as its init",
    body: `const r = new Request(req, { redirect: "manual" }); r.headers.set("via", "1.1 lb"); r.headers.set("x-forwarded-for", ip); return fetch(target, r);`,
  },
  {
    name: "await",
    what: "the fetch awaited in an async function before it is returned",
    body: `const r = await fetch(target, req); return r;`,
  },
  {
    name: "response-checks",
    what: "4 lookups in the origin's response headers (3 has, 1 get: the pass-through check)",
    body:
      `const r = await fetch(target, req); const rh = r.headers;\n` +
      `  if (rh.has("proxy-authenticate") || rh.has("proxy-connection") || rh.has("proxy-authorization") || rh.get("x-none") !== null) return new Response("x");\n` +
      `  return r;`,
  },
  {
    name: "response-rebuild",
    what: "the origin's response rebuilt (its body, status, statusText and a copy of its headers)",
    body:
      `const r = await fetch(target, req);\n` +
      `  return new Response(r.body, { status: r.status, statusText: r.statusText, headers: new Headers(r.headers) });`,
  },
];
