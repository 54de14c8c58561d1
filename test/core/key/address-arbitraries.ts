/**
 * Addresses as text for the key's property tests: random addresses in every valid RFC 4291 §2.2
 * spelling, and near-misses (valid ones with a few characters inserted, deleted or replaced).
 */
import fc from "fast-check";

export interface Rendered {
  readonly text: string;
  readonly bytes: number[];
}

/** Random 16 bytes written in a random valid RFC 4291 §2.2 form. */
export const renderedIpv6: fc.Arbitrary<Rendered> = fc
  .record({
    // The special shapes sit next to the IPv4-mapped folding rule.
    shape: fc.constantFrom("random", "random", "random", "mapped", "compatible", "nat64"),
    groups: fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xff }) },
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
      ),
      { minLength: 8, maxLength: 8 },
    ),
    embedIpv4: fc.boolean(),
    gapChoice: fc.nat(),
    padding: fc.array(fc.integer({ min: 0, max: 3 }), {
      minLength: 8,
      maxLength: 8,
    }),
    upper: fc.array(fc.boolean(), { minLength: 45, maxLength: 45 }),
  })
  .map(({ shape, groups, embedIpv4, gapChoice, padding, upper }) => {
    const g = [...groups];
    if (shape !== "random") g.fill(0, 0, 6);
    if (shape === "mapped") g[5] = 0xffff;
    if (shape === "nat64") [g[0], g[1]] = [0x64, 0xff9b];
    const bytes = g.flatMap((v) => [v >> 8, v & 0xff]);
    const hexGroups = g.length - (embedIpv4 ? 2 : 0);
    const gaps: [number, number][] = [];
    // Any run of zero groups may become `::`, or none (the extra last choice).
    for (let s = 0; s < hexGroups; s++) {
      for (let e = s + 1; e <= hexGroups && g[e - 1] === 0; e++) {
        gaps.push([s, e]);
      }
    }
    const gap = gaps[gapChoice % (gaps.length + 1)];
    const items = g.slice(0, hexGroups).map((v, i) => {
      const digits = v.toString(16);
      return digits.padStart(Math.min(4, digits.length + padding[i]!), "0");
    });
    if (embedIpv4) items.push(bytes.slice(12).join("."));
    const lower =
      gap === undefined ? items.join(":") : items.slice(0, gap[0]).join(":") + "::" + items.slice(gap[1]).join(":");
    const text = Array.from(lower, (c, i) => (upper[i] ? c.toUpperCase() : c)).join("");
    return { text, bytes };
  });

const mutationAlphabet = "0123456789abcdefABCDEF:.%x ";

/** A valid address with one to three characters inserted, deleted or replaced. */
export const mutatedAddress: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      renderedIpv6.map((r) => r.text),
    ),
    fc.array(
      fc.record({
        op: fc.constantFrom("insert", "delete", "replace"),
        at: fc.nat(),
        char: fc.constantFrom(...mutationAlphabet),
      }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  )
  .map(([text, mutations]) => {
    let s = text;
    for (const { op, at, char } of mutations) {
      const i = at % (s.length + 1);
      if (op === "insert") s = s.slice(0, i) + char + s.slice(i);
      else if (op === "delete") s = s.slice(0, i) + s.slice(i + 1);
      else s = s.slice(0, i) + char + s.slice(i + 1);
    }
    return s;
  });
