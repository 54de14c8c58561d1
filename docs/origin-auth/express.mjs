// Express (or plain node:http) middleware: accept only requests that carry the balancer's
// ORIGIN_AUTH_SECRET. Compared in constant time; during a rotation pass both the old and the new
// secret. Health probes carry the secret too, so mount it before every route, the health path
// included.
//
//   import express from "express";
//   import { requireBalancer } from "./express.mjs";
//   const app = express();
//   app.use(requireBalancer({ secrets: [process.env.LB_SECRET, process.env.LB_SECRET_NEXT] }));
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text) => createHash("sha256").update(text).digest();

/** `(req, res, next)` middleware; `header` defaults to the balancer's ORIGIN_AUTH_HEADER default. */
export function requireBalancer({ secrets, header = "x-lb-origin-auth" }) {
  const accepted = secrets.filter((s) => typeof s === "string" && s.length > 0).map(digest);
  if (accepted.length === 0) throw new Error("requireBalancer: no secret given");
  const name = header.toLowerCase();
  return (req, res, next) => {
    const given = req.headers[name];
    // Hashing first makes every comparison 32 bytes against 32, whatever was sent.
    const ok = typeof given === "string" && accepted.some((secret) => timingSafeEqual(digest(given), secret));
    if (ok) return next();
    res.statusCode = 403;
    res.setHeader("content-type", "text/plain");
    res.end("forbidden\n");
  };
}
