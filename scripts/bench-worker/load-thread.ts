/** The load generator's worker thread (see `generate`): reports when measuring starts and stops, then the result. */
import { parentPort, workerData } from "node:worker_threads";
import { generate, type Load, type ThreadMessage } from "./load.ts";

const post = (message: ThreadMessage) => parentPort!.postMessage(message);
const result = await generate(
  workerData as Load,
  () => post({ type: "measuring" }),
  () => post({ type: "stopped" }),
);
post({ type: "result", result });
