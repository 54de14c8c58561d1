import type { IncomingMessage, ServerResponse } from "node:http";

/** See express.mjs. */
export function requireBalancer(options: {
  secrets: readonly (string | undefined)[];
  header?: string;
}): (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
