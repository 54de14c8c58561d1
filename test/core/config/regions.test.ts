import { describe, expect, test } from "vitest";
import { parseRegions } from "../../../src/core/config/regions.ts";

const eu = { id: "eu", latitude: 50, longitude: 8 };

describe("parseRegions: repeated codes (issue 16: 1,500 duplicated countries were accepted)", () => {
  test.each([
    ["a country listed twice", { ...eu, countries: ["DE", "FR", "DE"] }, "countries", '"DE"'],
    ["a continent listed twice", { ...eu, continents: ["EU", "EU"] }, "continents", '"EU"'],
    ["1,500 copies of one country", { ...eu, countries: Array(1_500).fill("DE") }, "countries", '"DE"'],
  ])("refuses %s, naming the field and the code", (_, region, field, code) => {
    const parsed = parseRegions(JSON.stringify([region]));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]!.field).toBe(`REGIONS[0].${field}`);
    expect(parsed.errors[0]!.message).toContain(code);
  });

  test("distinct codes are accepted as given", () => {
    const parsed = parseRegions(JSON.stringify([{ ...eu, countries: ["DE", "FR"], continents: ["EU"] }]));
    expect(parsed.ok && parsed.value[0]).toMatchObject({ countries: ["DE", "FR"], continents: ["EU"] });
  });
});
