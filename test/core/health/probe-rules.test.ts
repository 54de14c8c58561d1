import { describe, expect, test } from "vitest";
import {
  formatStatusRanges,
  judgeProbe,
  parseStatusRanges,
  type ProbeExpectation,
  type StatusRange,
} from "../../../src/core/health/probe-rules.ts";

describe("parseStatusRanges accepts", () => {
  test.each<[string, StatusRange[]]>([
    ["200-399", [[200, 399]]],
    ["200", [[200, 200]]],
    [
      "200,204,300-302",
      [
        [200, 200],
        [204, 204],
        [300, 302],
      ],
    ],
    [
      " 200 , 204 ,\t300-302 ",
      [
        [200, 200],
        [204, 204],
        [300, 302],
      ],
    ],
    ["100-599", [[100, 599]]],
    ["100", [[100, 100]]],
    ["599", [[599, 599]]],
    ["204-204", [[204, 204]]],
    // Kept as written: overlaps and repeats are harmless and keep the configured order visible.
    [
      "200-299,250,250",
      [
        [200, 299],
        [250, 250],
        [250, 250],
      ],
    ],
  ])("%j", (text, ranges) => {
    expect(parseStatusRanges(text)).toEqual({ ok: true, value: ranges });
  });
});

describe("parseStatusRanges rejects", () => {
  test.each([
    ["an empty string", ""],
    ["only spaces", "   "],
    ["an empty part", "200,,204"],
    ["a trailing comma", "200,"],
    ["a leading comma", ",200"],
    ["a status below 100", "99"],
    ["a status of 000", "000"],
    ["a status above 599", "600"],
    ["a range above 599", "200-600"],
    ["a leading zero", "0200"],
    ["four digits", "2000"],
    ["a sign", "+200"],
    ["a negative status", "-200"],
    ["a decimal", "200.0"],
    ["a reversed range", "399-200"],
    ["an open range", "200-"],
    ["an open start", "-399"],
    ["a double range", "200-300-400"],
    ["spaces inside a range", "200 - 399"],
    ["a class wildcard", "2xx"],
    ["a word", "ok"],
    ["a semicolon list", "200;204"],
  ])("%s (%j)", (_, text) => {
    const result = parseStatusRanges(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.length).toBeGreaterThan(0);
      for (const error of result.errors) expect(error.field).toBe("HEALTH_EXPECTED_STATUS");
    }
  });

  test("a non-string (a TOML number, say) is an error, not a throw", () => {
    expect(parseStatusRanges(200 as unknown as string)).toEqual({
      ok: false,
      errors: [{ field: "HEALTH_EXPECTED_STATUS", message: "must be statuses like 200-399 or 200,204" }],
    });
  });

  test("every bad part gets its own error, each naming the given field", () => {
    expect(parseStatusRanges("200,,99,399-200", "ORIGINS[2].expectedStatus")).toEqual({
      ok: false,
      errors: [
        { field: "ORIGINS[2].expectedStatus", message: "part 2 is empty (statuses like 200-399 or 200,204)" },
        {
          field: "ORIGINS[2].expectedStatus",
          message: '"99" is not a status from 100 to 599 or a range like 200-399',
        },
        { field: "ORIGINS[2].expectedStatus", message: '"399-200": 399 is above 200' },
      ],
    });
  });
});

describe("formatStatusRanges", () => {
  test.each([
    ["200-399", "200-399"],
    ["200,204,300-302", "200,204,300-302"],
    [" 200 , 204-204 ", "200,204"],
  ])("%j is written back as %j", (text, written) => {
    const parsed = parseStatusRanges(text);
    expect(parsed.ok && formatStatusRanges(parsed.value)).toBe(written);
  });

  test("an empty list is written as (none)", () => {
    expect(formatStatusRanges([])).toBe("(none)");
  });
});

describe("judgeProbe", () => {
  const defaults: ProbeExpectation = { statuses: [[200, 399]], bodyContains: null };
  const withBody: ProbeExpectation = { statuses: [[200, 399]], bodyContains: "ok" };
  const list: ProbeExpectation = {
    statuses: [
      [200, 200],
      [204, 204],
      [300, 302],
    ],
    bodyContains: null,
  };

  test.each<[number, string | null, ProbeExpectation, boolean, string | null]>([
    [200, "", defaults, true, null],
    [399, null, defaults, true, null],
    [301, "moved", defaults, true, null],
    [199, "", defaults, false, "status 199 not in 200-399"],
    [400, "", defaults, false, "status 400 not in 200-399"],
    [503, "ok", defaults, false, "status 503 not in 200-399"],
    [200, "ok", withBody, true, null],
    [200, '{"status":"OK"}', withBody, true, null],
    [200, "All systems: Ok.", withBody, true, null],
    [200, "fine", withBody, false, 'body lacks "ok"'],
    [200, "", withBody, false, 'body lacks "ok"'],
    [200, null, withBody, false, 'body lacks "ok"'],
    // The status is judged first: a wrong status is the more useful reason.
    [500, "fine", withBody, false, "status 500 not in 200-399"],
    [204, null, list, true, null],
    [302, null, list, true, null],
    [201, null, list, false, "status 201 not in 200,204,300-302"],
    [303, null, list, false, "status 303 not in 200,204,300-302"],
    [200, "READY", { statuses: [[200, 200]], bodyContains: "Ready" }, true, null],
    [200, "x", { statuses: [[200, 200]], bodyContains: 'say "hi"' }, false, 'body lacks "say \\"hi\\""'],
    [200, "anything", { statuses: [[200, 200]], bodyContains: "" }, true, null],
    [200, "", { statuses: [], bodyContains: null }, false, "status 200 not in (none)"],
  ])("status %i, body %j, %j → ok %s, error %j", (status, body, expectation, ok, error) => {
    expect(judgeProbe(status, body, expectation)).toEqual({ ok, error });
  });

  test("an error never repeats the body (it may be long or private)", () => {
    const body = "session=abc123 https://internal.example/admin";
    const verdict = judgeProbe(200, body, withBody);
    expect(verdict.error).toBe('body lacks "ok"');
    expect(verdict.error).not.toContain("internal");
  });
});
