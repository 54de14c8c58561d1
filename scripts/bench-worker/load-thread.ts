/**
 * The load generator's worker thread (`generate`'s closed loop, or `openLoop` when the load has a
 * rate): reports when measuring starts and stops, then the result.
 */
import { parentPort, workerData } from "node:worker_threads";
import { generate, PATH, type Load, type ThreadMessage } from "./load.ts";
import { openLoop } from "./open-loop.ts";

const post = (message: ThreadMessage) => parentPort!.postMessage(message);
const load = workerData as Load;
const [measuring, stopped] = [() => post({ type: "measuring" }), () => post({ type: "stopped" })];
const result =
  load.rate === undefined
    ? await generate(load, measuring, stopped)
    : await openLoop(load, load.rate, new URL(PATH, load.url), measuring, stopped);
post({ type: "result", result });
