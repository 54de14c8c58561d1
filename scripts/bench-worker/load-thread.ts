/** The load generator's worker thread (see `generate`): reports when measuring starts, then the result. */
import { parentPort, workerData } from "node:worker_threads";
import { generate, type Load, type ThreadMessage } from "./load.ts";

const result = await generate(workerData as Load, () =>
  parentPort!.postMessage({ type: "measuring" } satisfies ThreadMessage),
);
parentPort!.postMessage({ type: "result", result } satisfies ThreadMessage);
