// The token's own checks, against figures worked out by hand (issue 16: "aaaaaaaaaaaaaaaa" was accepted).
import { describe, expect, test } from "vitest";
import { MIN_TOKEN_BITS, adminSecret, tokenBits } from "../../src/admin/token-rules.ts";

describe("ADMIN_TOKEN", () => {
  test.each([
    ["aaaaaaaaaaaaaaaa", 0],
    ["abababababababab", 16], // 1 bit per character
    ["0123456789abcdef", 64], // 16 distinct: 4 bits each
  ])("%s carries %i bits", (token, bits) => {
    expect(tokenBits(token)).toBeCloseTo(bits, 9);
  });

  test("random tokens of the documented kinds pass", () => {
    for (let i = 0; i < 200; i++) {
      const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(
        "",
      );
      expect(adminSecret(hex)).toEqual({ token: hex });
      expect(tokenBits(hex)).toBeGreaterThan(MIN_TOKEN_BITS);
    }
  });

  test.each([
    ["a space", "test admin token 0123456789abcdef", "without spaces"],
    ["a newline", "test-admin-token-0123456789abcdef\n", "without spaces"],
    ["non-ASCII", "tëst-admin-token-0123456789abcdef", "without spaces"],
    ["15 characters", "0123456789abcde", "shorter than 16"],
    ["a repeated letter", "a".repeat(40), "too predictable"],
  ])("a token with %s closes the API, saying why", (_, token, reason) => {
    const secret = adminSecret(token);
    expect("closed" in secret && secret.closed).toContain(reason);
  });
});
