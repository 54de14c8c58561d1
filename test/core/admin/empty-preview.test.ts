import { describe, expect, test } from "vitest";
import { emptyPreview } from "../../../src/core/admin/empty-preview.ts";

describe("emptyPreview", () => {
  test("moves no share, no address and no flow", () => {
    expect(emptyPreview()).toEqual({ share: 0, ipv4Addresses: 0, ipv6Prefixes: 0, flows: [] });
  });

  test("is a fresh object each time (a caller's copy is its own)", () => {
    expect(emptyPreview()).not.toBe(emptyPreview());
  });
});
