/**
 * What an active probe checks: the status ranges a healthy origin answers with and, optionally, a
 * substring of its body. Verdicts carry a short reason that is safe for the public status page.
 */
import type { FieldError, Result } from "../result.ts";

/** An inclusive range of HTTP status codes. */
export type StatusRange = readonly [number, number];

/** What a passing probe must show. */
export interface ProbeExpectation {
  readonly statuses: readonly StatusRange[];
  readonly bodyContains: string | null;
}

/** A probe verdict; `error` says why it failed (no URL, so it may be shown publicly). */
export interface ProbeVerdict {
  readonly ok: boolean;
  readonly error: string | null;
}

// Three digits, 1xx to 5xx: the status classes RFC 9110 §15 defines. A leading zero or a sign is
// rejected rather than read as a number, so what is written is what is matched.
const STATUS = "([1-5][0-9]{2})";
const PART_PATTERN = new RegExp(`^${STATUS}(?:-${STATUS})?$`);

/** Inclusive status ranges, e.g. "200-399" → [[200, 399]], "200,204,300-302" → [[200,200],[204,204],[300,302]]. */
export function parseStatusRanges(text: string, field = "HEALTH_EXPECTED_STATUS"): Result<readonly StatusRange[]> {
  if (typeof text !== "string") {
    return { ok: false, errors: [{ field, message: "must be statuses like 200-399 or 200,204" }] };
  }
  const errors: FieldError[] = [];
  const ranges: StatusRange[] = [];
  text.split(",").forEach((raw, index) => {
    const part = raw.trim();
    if (part === "") {
      errors.push({ field, message: `part ${index + 1} is empty (statuses like 200-399 or 200,204)` });
      return;
    }
    const match = PART_PATTERN.exec(part);
    if (match === null) {
      errors.push({
        field,
        message: `${JSON.stringify(part)} is not a status from 100 to 599 or a range like 200-399`,
      });
      return;
    }
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low > high) {
      errors.push({ field, message: `${JSON.stringify(part)}: ${low} is above ${high}` });
      return;
    }
    ranges.push([low, high]);
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: ranges };
}

/** Judges a probe response: status in one of the ranges and (when set) the body containing the substring, case-insensitively. */
export function judgeProbe(status: number, body: string | null, expectation: ProbeExpectation): ProbeVerdict {
  if (!expectation.statuses.some(([low, high]) => status >= low && status <= high)) {
    return { ok: false, error: `status ${status} not in ${formatStatusRanges(expectation.statuses)}` };
  }
  const needle = expectation.bodyContains;
  // A body the prober did not get (null) cannot show the text, so it fails like a body without it.
  if (needle !== null && (body === null || !body.toLowerCase().includes(needle.toLowerCase()))) {
    return { ok: false, error: `body lacks ${JSON.stringify(needle)}` };
  }
  return { ok: true, error: null };
}

/** Writes ranges the way they are configured: "200-399", "200,204,300-302". */
export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  if (ranges.length === 0) return "(none)";
  return ranges.map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`)).join(",");
}
