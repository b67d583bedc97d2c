// Random input for the fuzz case: bytes, JSON values, valid commands with fields swapped for junk,
// and objects carrying prototype-pollution keys as own properties (as JSON.parse makes them).
import { randomBytes, randomInt } from "node:crypto";

export const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!;
export const chance = (p: number) => Math.random() < p;

/** Objects whose own keys try to reach the built-in prototypes when merged or assigned. */
export const pollutionPayloads: readonly unknown[] = [
  JSON.parse('{"__proto__":{"polluted":"yes","role":"host","admin":true}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes","isAdmin":true}}}'),
  JSON.parse('{"a":{"__proto__":{"polluted":"yes"}},"__proto__":[1,2]}'),
  JSON.parse('{"prototype":{"polluted":"yes"},"toString":"x","valueOf":1,"hasOwnProperty":null}'),
];

const strings = [
  "",
  "\u0000",
  "\ud800",
  "%00",
  "../../etc/passwd",
  "'; drop table orders; --",
  "${7*7}",
  "<script>alert(1)</script>",
  "a".repeat(5000),
  "💥".repeat(100),
  "__proto__",
  "constructor",
  "NaN",
  "-1",
  "1e309",
];

/** A random JSON-compatible value, sometimes with pollution keys inside. */
export function randomValue(depth = 0): unknown {
  switch (randomInt(depth > 2 ? 7 : 10)) {
    case 0:
      return pick([0, -1, 1.5, 2 ** 31, -(2 ** 53), Number.MAX_SAFE_INTEGER * 10, 1e-300]);
    case 1:
      return randomBytes(randomInt(60)).toString("latin1");
    case 2:
      return pick(strings);
    case 3:
      return null;
    case 4:
      return chance(0.5);
    case 5:
      return randomBytes(randomInt(1, 30)).toString("base64");
    case 6:
      return pick(pollutionPayloads);
    case 7:
      return Array.from({ length: randomInt(5) }, () => randomValue(depth + 1));
    default: {
      const keys = ["type", "id", "comment", "content", "count", "userId", "text", "seconds", "productId", "skuId", "quantity", "items", "addressId", "__proto__", "constructor", "x"];
      const o: Record<string, unknown> = JSON.parse("{}") as Record<string, unknown>;
      for (let i = randomInt(5); i > 0; i--) Object.defineProperty(o, pick(keys), { value: randomValue(depth + 1), enumerable: true, writable: true, configurable: true });
      return o;
    }
  }
}

/** Valid live-room commands, for mutation. */
export const validCommands: readonly Record<string, unknown>[] = [
  { type: "comment", comment: { content: "hello" } },
  { type: "like", count: 1 },
  { type: "ping" },
  { type: "pin", text: "hi" },
  { type: "mute", userId: "u1", durationSec: 60 },
  { type: "slow_mode", seconds: 5 },
  { type: "product_highlight", productId: "p1" },
  { type: "delete_comment", commentId: "c1" },
  { type: "stream_start" },
  { type: "stream_end" },
];

/** A valid command with one field replaced by junk, or pollution keys added. */
export function mutatedCommand(): Record<string, unknown> {
  const base = structuredClone(pick(validCommands));
  const keys = Object.keys(base);
  if (chance(0.3)) Object.defineProperty(base, "__proto__", { value: pick(pollutionPayloads), enumerable: true, writable: true, configurable: true });
  else base[pick(keys)] = randomValue();
  if (chance(0.3)) base.id = pick(["x", "a".repeat(65), 7, null]);
  return base;
}

/** One raw frame's worth of junk: bytes, text that is not JSON, JSON of any shape, a mutated command. */
export function randomFrame(): { data: string | Buffer; binary: boolean } {
  const r = Math.random();
  if (r < 0.15) return { data: randomBytes(randomInt(1, 300)), binary: true };
  if (r < 0.25) return { data: randomBytes(randomInt(1, 300)), binary: false }; // often not UTF-8: the socket is closed
  if (r < 0.4) return { data: randomBytes(randomInt(1, 200)).toString("base64"), binary: false };
  if (r < 0.65) return { data: JSON.stringify(randomValue()), binary: false };
  return { data: JSON.stringify(mutatedCommand()), binary: false };
}
