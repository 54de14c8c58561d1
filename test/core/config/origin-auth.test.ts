import { describe, expect, test } from "vitest";
import { DEFAULT_ORIGIN_AUTH_HEADER, parseOriginAuth } from "../../../src/core/config/origin-auth.ts";
import { parseSettings } from "../../../src/core/config/settings.ts";

const SECRET = "0123456789abcdef0123456789abcdef";

describe("ORIGIN_AUTH_SECRET and ORIGIN_AUTH_HEADER", () => {
  test("unset: nothing is sent, nothing is said", () => {
    expect(parseOriginAuth({})).toEqual({ value: null, errors: [], warnings: [] });
  });

  test("set: sent under the default header, lower-cased names, surrounding whitespace trimmed", () => {
    expect(parseOriginAuth({ ORIGIN_AUTH_SECRET: `${SECRET}\n` }).value).toEqual({
      header: DEFAULT_ORIGIN_AUTH_HEADER,
      secret: SECRET,
    });
    expect(parseOriginAuth({ ORIGIN_AUTH_SECRET: SECRET, ORIGIN_AUTH_HEADER: "X-Origin-Key" }).value).toEqual({
      header: "x-origin-key",
      secret: SECRET,
    });
  });

  test.each([
    ["short", "short-secret", "shorter than 16", true],
    ["blank", "   ", "empty", false],
    ["with a control character", "0123456789\u0000abcdef0123", "printable ASCII", false],
    ["non-ASCII", "0123456789abcdéf0123", "printable ASCII", false],
  ])("a %s secret is a warning, never an error that would stop routing", (_, secret, message, sent) => {
    const parsed = parseOriginAuth({ ORIGIN_AUTH_SECRET: secret });
    expect(parsed.errors).toEqual([]);
    expect(parsed.warnings).toHaveLength(1);
    expect(parsed.warnings[0]!.field).toBe("ORIGIN_AUTH_SECRET");
    expect(parsed.warnings[0]!.message).toContain(message);
    expect(parsed.value !== null).toBe(sent);
    const settings = parseSettings({ ORIGIN_AUTH_SECRET: secret });
    expect(settings.ok && settings.value.warnings).toEqual(parsed.warnings);
  });

  test.each(["x forwarded", "x-forwarded-for", "Host", "via", "x-lb-successor", "cookie", "a".repeat(65), "é"])(
    "ORIGIN_AUTH_HEADER %j is an error naming the variable",
    (header) => {
      const settings = parseSettings({ ORIGIN_AUTH_SECRET: SECRET, ORIGIN_AUTH_HEADER: header });
      expect(settings.ok).toBe(false);
      if (!settings.ok) expect(settings.errors.map((e) => e.field)).toEqual(["ORIGIN_AUTH_HEADER"]);
    },
  );

  test("the secret never appears in an error or warning message", () => {
    const short = "tiny-secret-x";
    const parsed = parseOriginAuth({ ORIGIN_AUTH_SECRET: short });
    expect(JSON.stringify(parsed.warnings)).not.toContain(short);
  });
});
