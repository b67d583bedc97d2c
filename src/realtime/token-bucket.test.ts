import { describe, expect, it } from "vitest";
import { KeyedLimiter, TokenBucket } from "./token-bucket.js";

describe("token bucket", () => {
  it("allows the burst, then the rate", () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true);
    expect(b.take(500)).toBe(false);
  });
  it("never holds more than the burst", () => {
    const b = new TokenBucket(10, 2, 0);
    expect(b.take(60_000, 3)).toBe(false);
    expect(b.take(60_000, 2)).toBe(true);
  });
  it("keys buckets separately and forgets full ones", () => {
    const l = new KeyedLimiter(1, 1);
    expect(l.take("a", 0)).toBe(true);
    expect(l.take("a", 0)).toBe(false);
    expect(l.take("b", 0)).toBe(true);
    l.sweep(500);
    expect(l.size).toBe(2);
    l.sweep(1000);
    expect(l.size).toBe(0);
  });
});
