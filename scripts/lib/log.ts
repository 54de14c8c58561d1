/** Progress lines and pauses for the scripts, on one clock that starts with the script. */

const started = performance.now();

/** Milliseconds since the script started (this module's load): one clock for every timing. */
export const now = (): number => performance.now() - started;

/** Milliseconds as seconds with one decimal, e.g. "12.3 s". */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A progress line, prefixed with the elapsed time. */
export function log(line: string): void {
  console.log(`[${seconds(now())}] ${line}`);
}

export const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));
