import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { checkOriginUrl, MAX_ORIGINS, MAX_WEIGHT, MIN_WEIGHT, parseOrigins } from "../../../src/core/config/origins.ts";
import { INTEGER_SETTINGS, parseSettings, type Settings } from "../../../src/core/config/settings.ts";
import { DEFAULT_LB_PREFIX } from "../../../src/core/config/text-settings.ts";
import type { OriginConfig } from "../../../src/core/model.ts";
import type { FieldError, Result } from "../../../src/core/result.ts";

function fields(result: Result<unknown>): string[] {
  return result.ok ? [] : result.errors.map((e: FieldError) => e.field);
}

function settingsOf(vars: Record<string, unknown>): Settings {
  const result = parseSettings(vars);
  if (!result.ok) throw new Error(`expected valid settings, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

function originsOf(raw: unknown): OriginConfig[] {
  const result = parseOrigins(raw);
  if (!result.ok) throw new Error(`expected valid origins, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

const DEFAULTS = {
  lbPrefix: DEFAULT_LB_PREFIX,
  healthPath: "/",
  healthMethod: "GET",
  healthStatuses: [[200, 399]],
  healthBodyContains: null,
  healthHost: null,
  debugHeaders: false,
  viaPseudonym: "edge-affinity-lb",
  viaResponse: false,
  forwardFields: { forwardedFor: true, proto: false, host: false, realIp: false, forwarded: false, successor: false },
  statusPublic: false,
  locationCache: true,
  adminAllowLocalOrigins: false,
  adminAllowedPorts: [443, 8443],
  regions: [],
  defaultRegion: null,
  affinity: { kind: "ip" },
  originAuth: null,
  warnings: [],
  placement: {
    loadBoundFactor: 1.25,
    placementIntervalMs: 10_000,
    trafficWindowMs: 60_000,
    hotKeysMax: 64,
    affinityCookieTtlS: 86_400,
    affinityCookieName: "lb_affinity",
  },
  ...Object.fromEntries(INTEGER_SETTINGS.map((s) => [s.key, s.fallback])),
};

describe("parseSettings: health text settings", () => {
  test.each([
    ["HEALTH_PATH", "/healthz", "healthPath", "/healthz"],
    ["HEALTH_PATH", "/status?full=1", "healthPath", "/status?full=1"],
    ["HEALTH_METHOD", "HEAD", "healthMethod", "HEAD"],
    [
      "HEALTH_EXPECTED_STATUS",
      "200,204,300-302",
      "healthStatuses",
      [
        [200, 200],
        [204, 204],
        [300, 302],
      ],
    ],
    ["HEALTH_EXPECTED_STATUS", 204, "healthStatuses", [[204, 204]]],
    ["HEALTH_BODY_CONTAINS", "OK", "healthBodyContains", "OK"],
    ["HEALTH_BODY_CONTAINS", "", "healthBodyContains", null],
    ["HEALTH_HOST", "app.example.com", "healthHost", "app.example.com"],
    ["HEALTH_HOST", "app.example.com:8443", "healthHost", "app.example.com:8443"],
    ["DEBUG_HEADERS", "true", "debugHeaders", true],
    ["DEBUG_HEADERS", true, "debugHeaders", true],
    ["DEBUG_HEADERS", "0", "debugHeaders", false],
    ["VIA_PSEUDONYM", "lb-eu.example", "viaPseudonym", "lb-eu.example"],
    ["VIA_RESPONSE", "true", "viaResponse", true],
  ] as const)("%s = %j is accepted", (name, raw, key, value) => {
    expect(settingsOf({ [name]: raw })[key]).toEqual(value);
  });

  test.each([
    ["HEALTH_PATH", "healthz"],
    ["HEALTH_PATH", "/a b"],
    ["HEALTH_PATH", "/a#b"],
    ["HEALTH_PATH", 5],
    ["HEALTH_METHOD", "get"],
    ["HEALTH_METHOD", "POST"],
    ["HEALTH_EXPECTED_STATUS", "2xx"],
    ["HEALTH_EXPECTED_STATUS", "399-200"],
    ["HEALTH_EXPECTED_STATUS", true],
    ["HEALTH_BODY_CONTAINS", "x".repeat(257)],
    ["HEALTH_HOST", "http://app.example.com"],
    ["HEALTH_HOST", "app.example.com/x"],
    ["DEBUG_HEADERS", "yes"],
    ["VIA_PSEUDONYM", "two words"],
    ["VIA_PSEUDONYM", "x".repeat(65)],
  ])("%s = %j is refused, naming only that variable", (name, raw) => {
    expect(fields(parseSettings({ [name]: raw }))).toEqual([name]);
  });
});

describe("parseSettings", () => {
  test("with no variables every setting takes its default", () => {
    expect(settingsOf({})).toEqual(DEFAULTS);
  });

  test.each([
    ["an empty string", ""],
    ["null", null],
    ["undefined", undefined],
  ])("a numeric variable set to %s takes its default", (_, raw) => {
    const vars = Object.fromEntries(INTEGER_SETTINGS.map((s) => [s.name, raw]));
    expect(settingsOf(vars)).toEqual(DEFAULTS);
  });

  test("a bad placement variable is an error naming it, like the others", () => {
    expect(parseSettings({ LOAD_BOUND_FACTOR: "0.5" })).toMatchObject({
      ok: false,
      errors: [{ field: "LOAD_BOUND_FACTOR" }],
    });
  });

  test("the defaults lie within their own bounds", () => {
    for (const s of INTEGER_SETTINGS) {
      expect(s.fallback).toBeGreaterThanOrEqual(s.min);
      expect(s.fallback).toBeLessThanOrEqual(s.max);
    }
  });

  test.each(INTEGER_SETTINGS.map((s) => [s.name, s] as const))(
    "%s accepts its bounds as numbers and as numeric strings",
    (_, s) => {
      for (const value of [s.min, s.max, s.fallback]) {
        for (const raw of [value, String(value), ` ${value} `]) {
          const settings = settingsOf({ [s.name]: raw });
          expect(settings).toEqual({ ...DEFAULTS, [s.key]: value });
        }
      }
    },
  );

  const badValues = (s: (typeof INTEGER_SETTINGS)[number]): [string, unknown][] => [
    ["below the minimum", String(s.min - 1)],
    ["below the minimum (number)", s.min - 1],
    ["above the maximum", String(s.max + 1)],
    ["above the maximum (number)", s.max + 1],
    ["not an integer", "1.5"],
    ["not an integer (number)", 1.5],
    ["junk", "ten"],
    ["exponent notation", "1e3"],
    ["hex", "0x10"],
    ["NaN", Number.NaN],
    ["a boolean", true],
    ["beyond the safe integers", "99999999999999999999"],
  ];
  test.each(INTEGER_SETTINGS.flatMap((s) => badValues(s).map(([what, raw]) => [s.name, what, raw] as const)))(
    "%s %s (%j) is an error naming that variable and nothing else",
    (name, _, raw) => {
      const result = parseSettings({ [name]: raw });
      expect(fields(result)).toEqual([name]);
      if (!result.ok) expect(result.errors[0]!.message).toContain(JSON.stringify(raw));
    },
  );

  test("several bad settings are all reported, not just the first", () => {
    const result = parseSettings({
      IPV4_PREFIX: "33",
      MAX_ATTEMPTS: "0",
      RING_SLOTS_PER_ORIGIN: "ten",
      LB_PREFIX: "lb",
    });
    expect(fields(result)).toEqual(["IPV4_PREFIX", "MAX_ATTEMPTS", "RING_SLOTS_PER_ORIGIN", "LB_PREFIX"]);
  });

  test.each(["/__lb", "/ops/lb", "/a", "/a.b~c_d-e/f"])("LB_PREFIX accepts %j", (prefix) => {
    expect(settingsOf({ LB_PREFIX: prefix }).lbPrefix).toBe(prefix);
  });

  test.each(["__lb", "/", "/a/", "/a b", "/a?b", "//x", "/a#b", "/a//b", "/é", "/.", "/..", "/a/..", "/./a", 5])(
    "LB_PREFIX rejects %j and reports only LB_PREFIX",
    (prefix) => {
      expect(fields(parseSettings({ LB_PREFIX: prefix }))).toEqual(["LB_PREFIX"]);
    },
  );

  test("LB_PREFIX missing, null or empty takes the default", () => {
    expect(settingsOf({ LB_PREFIX: "" }).lbPrefix).toBe(DEFAULT_LB_PREFIX);
    expect(settingsOf({ LB_PREFIX: undefined }).lbPrefix).toBe(DEFAULT_LB_PREFIX);
    expect(settingsOf({ LB_PREFIX: null }).lbPrefix).toBe(DEFAULT_LB_PREFIX);
  });
});

const a = { id: "a", url: "https://a.example" };
const b = { id: "b", url: "https://b.example", weight: 2, region: "eu" };
const c = { id: "c", url: "http://127.0.0.1:8080/api", weight: 0.5 };

describe("parseOrigins: shape", () => {
  test("a TOML-style array and the same list as a JSON string give identical results", () => {
    const list = [b, a, c];
    expect(parseOrigins(JSON.stringify(list))).toEqual(parseOrigins(list));
    expect(originsOf(list)).toEqual([
      { id: "a", url: "https://a.example", weight: 1, region: null },
      { id: "b", url: "https://b.example", weight: 2, region: "eu" },
      { id: "c", url: "http://127.0.0.1:8080/api", weight: 0.5, region: null },
    ]);
  });

  test("the result is sorted by id in code unit order whatever the input order", () => {
    const ids = ["b", "B", "a", "10", "9", "a.1", "a-1"];
    const expected = ["10", "9", "B", "a", "a-1", "a.1", "b"];
    for (const order of [ids, [...ids].reverse(), [...ids].sort()]) {
      const result = originsOf(order.map((id) => ({ id, url: `https://${id}.example` })));
      expect(result.map((o) => o.id)).toEqual(expected);
    }
  });

  test("weight defaults to 1 and region to null", () => {
    expect(originsOf([{ id: "x", url: "https://x.example" }])).toEqual([
      { id: "x", url: "https://x.example", weight: 1, region: null },
    ]);
    expect(originsOf([{ id: "x", url: "https://x.example", region: null }])[0]!.region).toBeNull();
  });

  test("an empty list is valid", () => {
    expect(originsOf([])).toEqual([]);
    expect(originsOf("[]")).toEqual([]);
  });

  test.each(["[", "{id:1}", "", "ORIGINS", "[{'id':'a'}]"])("invalid JSON %j is an error on ORIGINS", (raw) => {
    expect(fields(parseOrigins(raw))).toEqual(["ORIGINS"]);
  });

  test.each([
    ["an object", { id: "a", url: "https://a.example" }],
    ["a JSON object", JSON.stringify({ id: "a", url: "https://a.example" })],
    ["a number", 3],
    ["a JSON number", "3"],
    ["null", null],
    ["JSON null", "null"],
    ["undefined", undefined],
  ])("%s instead of an array is an error on ORIGINS", (_, raw) => {
    expect(fields(parseOrigins(raw))).toEqual(["ORIGINS"]);
  });

  test("the field name given by the caller prefixes every error", () => {
    expect(fields(parseOrigins("nope", "BOOT"))).toEqual(["BOOT"]);
    expect(fields(parseOrigins([a, { id: "b", url: "ftp://b" }], "BOOT"))).toEqual(["BOOT[1].url"]);
  });

  test(`accepts ${MAX_ORIGINS} origins and rejects ${MAX_ORIGINS + 1} on ORIGINS`, () => {
    const list = Array.from({ length: MAX_ORIGINS + 1 }, (_, i) => ({
      id: `o-${i}`,
      url: `https://o-${i}.example`,
    }));
    expect(originsOf(list.slice(0, MAX_ORIGINS))).toHaveLength(MAX_ORIGINS);
    expect(fields(parseOrigins(list))).toEqual(["ORIGINS"]);
    expect(fields(parseOrigins(JSON.stringify(list)))).toEqual(["ORIGINS"]);
  });

  test.each([
    ["null", null],
    ["an array", [a]],
    ["a string", "https://a.example"],
    ["a number", 1],
  ])("an entry that is %s is an error on that entry", (_, entry) => {
    expect(fields(parseOrigins([a, entry]))).toEqual(["ORIGINS[1]"]);
  });
});

describe("parseOrigins: errors name the field and its index", () => {
  test.each([
    ["a bad url in the second entry", [a, { id: "b", url: "ftp://b.example" }], ["ORIGINS[1].url"]],
    ["a bad weight in the first entry", [{ ...a, weight: 0 }, b], ["ORIGINS[0].weight"]],
    ["a duplicate id in the third entry", [a, b, { ...c, id: "a" }], ["ORIGINS[2].id"]],
    ["a misspelt key", [{ ...a, wieght: 2 }], ["ORIGINS[0].wieght"]],
    ["an unknown key", [a, { ...b, name: "b" }], ["ORIGINS[1].name"]],
    ["a missing id", [{ url: "https://a.example" }], ["ORIGINS[0].id"]],
    ["a missing url", [{ id: "a" }], ["ORIGINS[0].url"]],
    ["a url that is not a string", [{ id: "a", url: 1 }], ["ORIGINS[0].url"]],
    [
      "every bad field of one entry",
      [{ id: "", url: "https://x.example?q", weight: -1, region: "EU", extra: true }],
      ["ORIGINS[0].extra", "ORIGINS[0].id", "ORIGINS[0].url", "ORIGINS[0].weight", "ORIGINS[0].region"],
    ],
    [
      "bad fields in several entries",
      [{ ...a, weight: "2" }, b, { ...c, url: "c.example" }],
      ["ORIGINS[0].weight", "ORIGINS[2].url"],
    ],
  ])("%s", (_, list, expected) => {
    expect(fields(parseOrigins(list))).toEqual(expected);
    expect(fields(parseOrigins(JSON.stringify(list)))).toEqual(expected);
  });

  test("ids differing only in case are distinct, not duplicates", () => {
    expect(originsOf([{ ...a, id: "A" }, a]).map((o) => o.id)).toEqual(["A", "a"]);
  });
});

describe("parseOrigins: url", () => {
  test.each([
    ["https://Example.com:443/api/", "https://example.com/api"],
    ["https://example.com", "https://example.com"],
    ["https://example.com/", "https://example.com"],
    ["https://example.com///", "https://example.com"],
    ["https://example.com/a/b//", "https://example.com/a/b"],
    ["http://example.com:80/", "http://example.com"],
    ["http://example.com:443/", "http://example.com:443"],
    ["https://example.com:8443", "https://example.com:8443"],
    ["https://EXAMPLE.COM/Api/V1", "https://example.com/Api/V1"],
    ["HTTPS://example.com", "https://example.com"],
    ["https://example.com/a/./b/../c/", "https://example.com/a/c"],
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787"],
    ["http://[::1]:8080/", "http://[::1]:8080"],
    ["https://bücher.example/", "https://xn--bcher-kva.example"],
  ])("%j is stored as %j", (url, expected) => {
    expect(originsOf([{ id: "o", url }])[0]!.url).toBe(expected);
  });

  test.each([
    ["ftp: scheme", "ftp://example.com/", /https/],
    ["file: scheme", "file:///etc/passwd", /https/],
    ["ws: scheme", "ws://example.com/", /https/],
    ["no host", "https://", /absolute|host/],
    ["a user name", "https://user@example.com/", /credentials/],
    ["a user name and password", "https://user:pw@example.com/", /credentials/],
    ["a query", "https://example.com/?a=1", /query/],
    ["a bare trailing ?", "https://example.com/api?", /query/],
    ["a bare ? after the host", "https://example.com?", /query/],
    ["a fragment", "https://example.com/#top", /fragment/],
    ["a bare trailing #", "https://example.com/api#", /fragment/],
    ["a relative path", "/api", /absolute/],
    ["a scheme-relative URL", "//example.com/api", /absolute/],
    ["a bare host", "example.com", /absolute/],
    ["an empty string", "", /absolute/],
  ])("rejects %s (%j)", (_, url, message) => {
    expect(checkOriginUrl(url)).toMatch(message);
    expect(fields(parseOrigins([{ id: "o", url }]))).toEqual(["ORIGINS[0].url"]);
  });

  test.each(["https://example.com", "http://localhost:8080/base", "https://[2001:db8::1]/"])("accepts %j", (url) => {
    expect(checkOriginUrl(url)).toBeNull();
  });
});

describe("parseOrigins: weight, id, region", () => {
  test.each([
    ["zero", 0],
    ["negative zero", -0],
    ["negative", -1],
    ["NaN (TOML nan)", Number.NaN],
    ["Infinity (TOML inf)", Infinity],
    ["-Infinity", -Infinity],
    ["just above MAX_WEIGHT", MAX_WEIGHT + 0.001],
    ["far above MAX_WEIGHT", MAX_WEIGHT * 10],
    ["a numeric string", "2"],
    ["null", null],
    ["a boolean", true],
    // Issue 16: an active origin with no slot at all.
    ["1e-300", 1e-300],
    ["the smallest double", 5e-324],
    ["just below MIN_WEIGHT", MIN_WEIGHT * 0.99],
  ])("rejects a weight that is %s", (_, weight) => {
    expect(fields(parseOrigins([{ ...a, weight }]))).toEqual(["ORIGINS[0].weight"]);
  });

  test.each([MIN_WEIGHT, 0.5, 1, 2.5, MAX_WEIGHT])("accepts weight %d", (weight) => {
    expect(originsOf([{ ...a, weight }])[0]!.weight).toBe(weight);
  });

  test.each([
    ["empty", ""],
    ["starting with -", "-a"],
    ["starting with .", ".a"],
    ["starting with _", "_a"],
    ["with a space", "a b"],
    ["with a slash", "a/b"],
    ["with a colon", "a:b"],
    ["with a non-ASCII letter", "ä"],
    ["with a trailing newline", "a\n"],
    ["65 characters long", "a".repeat(65)],
    ["a number", 5],
    ["null", null],
  ])("rejects an id %s", (_, id) => {
    expect(fields(parseOrigins([{ id, url: "https://a.example" }]))).toEqual(["ORIGINS[0].id"]);
  });

  test.each(["a", "Z", "0", "eu-1", "A.b_c-9", "a".repeat(64)])("accepts id %j", (id) => {
    expect(originsOf([{ id, url: "https://a.example" }])[0]!.id).toBe(id);
  });

  test.each([
    ["upper case", "EU"],
    ["mixed case", "Eu-west"],
    ["empty", ""],
    ["starting with -", "-eu"],
    ["with an underscore", "eu_west"],
    ["33 characters long", "e".repeat(33)],
    ["a number", 1],
  ])("rejects a region in %s", (_, region) => {
    expect(fields(parseOrigins([{ ...a, region }]))).toEqual(["ORIGINS[0].region"]);
  });

  test.each(["eu", "eu-west-1", "0", "e".repeat(32)])("accepts region %j unchanged", (region) => {
    expect(originsOf([{ ...a, region }])[0]!.region).toBe(region);
  });
});

describe("parseOrigins properties", () => {
  const urlArb = fc
    .tuple(
      fc.constantFrom("http", "https", "HTTPS"),
      fc.domain(),
      fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
      fc.array(fc.stringMatching(/^[A-Za-z0-9_~-]{1,8}$/), { maxLength: 3 }),
      fc.constantFrom("", "/", "//"),
    )
    .map(
      ([scheme, host, port, segments, tail]) =>
        `${scheme}://${host}${port === undefined ? "" : `:${port}`}${segments.map((s) => `/${s}`).join("")}${tail}`,
    );
  const originArb = fc.record(
    {
      id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
      url: urlArb,
      weight: fc.oneof(
        fc.integer({ min: 1, max: MAX_WEIGHT }),
        fc.double({ min: MIN_WEIGHT, max: MAX_WEIGHT, noNaN: true }),
      ),
      region: fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/)),
    },
    { requiredKeys: ["id", "url"] },
  );
  const listArb = fc
    .uniqueArray(originArb, { selector: (o) => o.id, maxLength: 10 })
    .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })));

  test("any valid list parses to the same result as its JSON text and as any shuffle of it", () => {
    fc.assert(
      fc.property(listArb, ([list, shuffled]) => {
        const direct = parseOrigins(list);
        expect(direct.ok).toBe(true);
        expect(parseOrigins(JSON.stringify(list))).toEqual(direct);
        expect(parseOrigins(shuffled)).toEqual(direct);
        const value = direct.ok ? direct.value : [];
        const ids = value.map((o) => o.id);
        expect(ids).toEqual([...ids].sort());
        for (const origin of value) {
          expect(checkOriginUrl(origin.url)).toBeNull();
          expect(origin.url.endsWith("/")).toBe(false);
          // Normalising is idempotent: a stored URL parses back to itself.
          expect(originsOf([{ id: "x", url: origin.url }])[0]!.url).toBe(origin.url);
        }
      }),
      { numRuns: 300 },
    );
  });
});
