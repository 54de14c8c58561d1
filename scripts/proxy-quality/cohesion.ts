/**
 * The cohesion sets: groups of addresses that ours keys as one client (one IPv6 address spelled
 * four ways, an IPv4 address dotted and IPv4-mapped, four addresses of one IPv6 /64), drawn from
 * their own seed so the client set stays what it was.
 */
import { ipv4Dotted, random32 } from "../lib/random.ts";

export interface CohesionSet {
  readonly key: "ipv6Forms" | "ipv4Forms" | "slash64";
  readonly label: string;
  readonly groups: readonly string[][];
}

/** `count` groups per set, seeded by `seed`. */
export function cohesionSets(seed: number, count: number): readonly [CohesionSet, CohesionSet, CohesionSet] {
  const next = random32(seed ^ 0x5bd1e995);
  const hex = (n: number) => n.toString(16);
  /** The WHATWG URL serializer's form of an IPv6 address: RFC 5952 (lower case, longest zero run as ::). */
  const canonical = (groups: readonly number[]) =>
    new URL(`http://[${groups.map(hex).join(":")}]/`).hostname.slice(1, -1);
  /** A global unicast /64 prefix (2000::/3): four random groups. */
  const prefix64 = () => [0x2000 | (next() & 0x1fff), next() & 0xffff, next() & 0xffff, next() & 0xffff];

  /**
   * One IPv6 address in four spellings: RFC 5952 (`2a01:e0a:12:3400::bcd`), fully expanded
   * (`2a01:0e0a:0012:3400:0000:0000:0000:0bcd`), zero-padded groups with `::`
   * (`2a01:0e0a:0012:3400::0bcd`) and upper case (`2A01:E0A:12:3400::BCD`). The interface id has a
   * zero run and a short group, and some group a hex letter, so the four strings always differ.
   */
  function ipv6Forms(): string[] {
    for (;;) {
      const groups = [...prefix64(), next() & 0x0fff, 0, 0, next() & 0xffff];
      const compressed = canonical(groups);
      const padded = compressed
        .split("::")
        .map((half) =>
          half === ""
            ? ""
            : half
                .split(":")
                .map((g) => g.padStart(4, "0"))
                .join(":"),
        )
        .join("::");
      const forms = [
        compressed,
        groups.map((g) => hex(g).padStart(4, "0")).join(":"),
        padded,
        compressed.toUpperCase(),
      ];
      if (new Set(forms).size === forms.length) return forms;
    }
  }
  /** One IPv4 address dotted and IPv4-mapped (`::ffff:a.b.c.d`). */
  function ipv4Forms(): string[] {
    const dotted = ipv4Dotted(next());
    return [dotted, `::ffff:${dotted}`];
  }
  /** Four addresses of one /64 with random interface ids. */
  function slash64(): string[] {
    const p = prefix64();
    return Array.from({ length: 4 }, () =>
      canonical([...p, next() & 0xffff, next() & 0xffff, next() & 0xffff, next() & 0xffff]),
    );
  }
  return [
    { key: "ipv6Forms", label: "4 forms of one IPv6 address", groups: Array.from({ length: count }, ipv6Forms) },
    { key: "ipv4Forms", label: "IPv4 dotted and `::ffff:` mapped", groups: Array.from({ length: count }, ipv4Forms) },
    { key: "slash64", label: "4 addresses of one IPv6 /64", groups: Array.from({ length: count }, slash64) },
  ];
}
