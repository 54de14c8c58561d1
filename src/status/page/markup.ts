/** The type every part of the status page returns. */
import type { html } from "hono/html";

/** A piece of the page: what hono's `html` template returns (every interpolated value escaped). */
export type Markup = ReturnType<typeof html>;
