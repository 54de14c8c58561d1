/**
 * The seeded clients of the mapping simulation, hashed exactly as the worker does (xxh32 of
 * `clientKey`'s bytes): IPv4 addresses alternating with IPv6 addresses of random /64s, and for
 * the /64 test several addresses per prefix, hashed by our key and by the raw 16 address bytes.
 */
import { clientKey } from "../../src/core/key/client-key.ts";
import { parseIp } from "../../src/core/key/ip-address.ts";
import { xxh32 } from "../../src/core/hash.ts";
import { ipv4Dotted, random32 } from "../lib/random.ts";

export interface Clients {
  /** Every client's key hash. */
  readonly hashes: Uint32Array;
  /** `addressesPerPrefix` addresses of each /64 in a row, keyed by /64 as the worker does. */
  readonly v6Ours: Uint32Array;
  /** The same addresses hashed whole (what hashing the raw header does). */
  readonly v6Raw: Uint32Array;
}

export function makeClients(count: number, seed: number, v6Prefixes: number, addressesPerPrefix: number): Clients {
  const next = random32(seed);
  const group = () => (next() & 0xffff).toString(16);
  // Clients alternate IPv4 (any address) and IPv6 (a random /64 in 2000::/3, random interface id).
  const hashes = new Uint32Array(count);
  const prefixes: string[] = [];
  for (let i = 0; i < count; i++) {
    let text: string;
    if (i % 2 === 0) text = ipv4Dotted(next());
    else {
      const prefix = `${(0x2000 | (next() & 0x1fff)).toString(16)}:${group()}:${group()}:${group()}`;
      if (prefixes.length < v6Prefixes) prefixes.push(prefix);
      text = `${prefix}:${group()}:${group()}:${group()}:${group()}`;
    }
    hashes[i] = xxh32(clientKey(text).bytes);
  }
  const v6Ours = new Uint32Array(v6Prefixes * addressesPerPrefix);
  const v6Raw = new Uint32Array(v6Prefixes * addressesPerPrefix);
  for (let p = 0; p < v6Prefixes; p++) {
    for (let a = 0; a < addressesPerPrefix; a++) {
      const text = `${prefixes[p]}:${group()}:${group()}:${group()}:${group()}`;
      v6Ours[p * addressesPerPrefix + a] = xxh32(clientKey(text).bytes);
      v6Raw[p * addressesPerPrefix + a] = xxh32(parseIp(text)!.bytes);
    }
  }
  return { hashes, v6Ours, v6Raw };
}
