// The flash gate's takes, gathered per tick into one script call, against the real Redis: each take
// sees the ones asked before it in the same call (the same buyer's units, the same key's answer, the
// units left), and the gate's counts match what it answered.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl } from "../../test/support/env.js";
import { testRedisPrefix } from "../../test/support/redis.js";
import { redisKeys } from "../redis/keys.js";
import { createFlashGate, REFUSALS_KEPT_MS, requestField, type FlashGate, type TakeResult } from "./flash-gate.redis.js";

describe("flash gate takes asked in one tick", () => {
  let redis: Redis;
  let gate: FlashGate;
  let cleanup: () => Promise<void>;
  let commands: string[];
  let keysPrefix: string;

  beforeAll(async () => {
    const prefix = testRedisPrefix();
    cleanup = prefix.cleanup;
    keysPrefix = prefix.prefix;
    redis = new Redis(redisUrl);
    gate = createFlashGate(redis, redisKeys(prefix.prefix));
    // Connected first: a command sent before is queued and goes through sendCommand twice.
    await redis.ping();
    // Every command this client sends, by name (a script call shows as evalsha or eval).
    commands = [];
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, stream) => {
      commands.push(command.name);
      return send(command, stream);
    };
  });
  afterAll(async () => {
    await redis.quit();
    await cleanup();
  });

  const ask = (sale: string, user: string, key: string, qty = 1, limit = 2) => gate.take(sale, user, qty, limit, { field: requestField(user, key), hash: `h-${key}` }, `o-${user}-${key}`);

  it("answers each take as if asked alone, in order, with one script call for the tick", async () => {
    await gate.load("s1", 60_000, 3, [{ userId: "old", bought: 2 }]);
    commands.length = 0;
    const answers: TakeResult[] = await Promise.all([
      ask("s1", "a", "k1"), // taken: 2 left
      ask("s1", "a", "k1"), // the same request: seen, the order of the first
      ask("s1", "a", "k2"), // taken: a holds 2, 1 left
      ask("s1", "a", "k3"), // a is over the limit of 2
      ask("s1", "old", "k1"), // held 2 before the sale was loaded: over the limit
      ask("s1", "b", "k1", 2), // 2 units, 1 left: sold out for this take
      ask("s1", "c", "k1"), // taken: the last unit
      ask("s1", "d", "k1"), // sold out
    ]);
    expect(answers).toEqual([
      { kind: "taken", left: 2 },
      { kind: "seen", hash: "h-k1", orderId: "o-a-k1", refusal: null },
      { kind: "taken", left: 1 },
      { kind: "limit" },
      { kind: "limit" },
      { kind: "soldOut" },
      { kind: "taken", left: 0 },
      { kind: "soldOut" },
    ]);
    expect(commands.filter((c) => c === "evalsha" || c === "eval")).toHaveLength(1);
    expect(await gate.left("s1")).toBe(0);
    expect(Object.fromEntries(await gate.bought("s1"))).toEqual({ old: 2, a: 2, c: 1 });
    const pending = await gate.pending("s1");
    expect(pending.map((p) => [p.orderId, p.userId, p.quantity, p.field, p.void]).sort()).toEqual([
      ["o-a-k1", "a", 1, requestField("a", "k1"), false],
      ["o-a-k2", "a", 1, requestField("a", "k2"), false],
      ["o-c-k1", "c", 1, requestField("c", "k1"), false],
    ]);
    // Taken now, by Redis's clock in milliseconds.
    for (const p of pending) {
      expect(p.ageMs).toBeGreaterThanOrEqual(0);
      expect(p.ageMs).toBeLessThan(5_000);
    }
    // Refusals are remembered per request: the same key asked again gets the same refusal.
    expect(await ask("s1", "a", "k3")).toEqual({ kind: "seen", hash: "h-k3", orderId: null, refusal: "LIMIT_EXCEEDED" });
    expect(await ask("s1", "d", "k1")).toEqual({ kind: "seen", hash: "h-k1", orderId: null, refusal: "SOLD_OUT" });
  });

  it("sends each sale's takes in a call of its own, and says notLoaded for a sale not loaded while answering seen requests", async () => {
    await gate.load("s2", 60_000, 5, []);
    expect(await ask("s3", "a", "k1")).toEqual({ kind: "notLoaded" });
    // A request the gate answered before it was lost (its record outlived the units): still seen.
    await redis.hset(redisKeys(keysPrefix).flash.requests("s3"), requestField("c", "k9"), "T|h-k9|o-c-k9");
    commands.length = 0;
    const answers = await Promise.all([ask("s2", "a", "k1"), ask("s3", "a", "k1"), ask("s2", "b", "k1"), ask("s3", "c", "k9")]);
    expect(answers).toEqual([
      { kind: "taken", left: 4 },
      { kind: "notLoaded" },
      { kind: "taken", left: 3 },
      { kind: "seen", hash: "h-k9", orderId: "o-c-k9", refusal: null },
    ]);
    expect(commands.filter((c) => c === "evalsha" || c === "eval")).toHaveLength(2);
    expect(await gate.left("s2")).toBe(3);
  });

  it("rejects every take of a call that fails part way, and leaves the takes before the failure whole", async () => {
    await gate.load("s4", 60_000, 5, []);
    // b's units replaced by a string: the script fails at b's take (the second), after a's.
    const bought = redisKeys(keysPrefix).flash.bought("s4");
    await redis.hset(bought, "b", "x");
    const failed = await Promise.allSettled([ask("s4", "a", "k1"), ask("s4", "b", "k1")]);
    expect(failed.map((f) => f.status)).toEqual(["rejected", "rejected"]);
    // a's take is written whole: its unit taken off, held by a, pending; giving it back restores all 5.
    expect(await gate.left("s4")).toBe(4);
    expect((await gate.pending("s4")).map((p) => [p.orderId, p.userId, p.quantity])).toEqual([["o-a-k1", "a", 1]]);
    expect(await gate.release("s4", [{ orderId: "o-a-k1", refusal: null }])).toBe(1);
    expect(await gate.left("s4")).toBe(5);
    expect(await gate.pending("s4")).toEqual([]);
  });

  it("keeps its own refusals apart from the takes' records, for REFUSALS_KEPT_MS after the last, and a reload forgets them", async () => {
    const keys = redisKeys(keysPrefix).flash;
    const saleTtlMs = 3_600_000;
    await gate.load("s5", saleTtlMs, 1, []);
    expect(await ask("s5", "a", "k1")).toEqual({ kind: "taken", left: 0 });
    expect(await redis.exists(keys.refused("s5"))).toBe(0); // no refusal yet: no hash
    expect(await ask("s5", "b", "k1")).toEqual({ kind: "soldOut" });
    expect(await ask("s5", "a", "k2", 1, 1)).toEqual({ kind: "limit" });
    // The take's record stays with the sale's keys; the refusals have a hash of their own, with a shorter life.
    expect(await redis.hkeys(keys.requests("s5"))).toEqual(expect.arrayContaining([requestField("a", "k1")]));
    expect(await redis.hexists(keys.requests("s5"), requestField("b", "k1"))).toBe(0);
    expect(await redis.hgetall(keys.refused("s5"))).toEqual({ [requestField("b", "k1")]: "R|h-k1|SOLD_OUT", [requestField("a", "k2")]: "R|h-k2|LIMIT_EXCEEDED" });
    const refusedTtl = await redis.pttl(keys.refused("s5"));
    expect(refusedTtl).toBeGreaterThan(REFUSALS_KEPT_MS - 5_000);
    expect(refusedTtl).toBeLessThanOrEqual(REFUSALS_KEPT_MS);
    expect(await redis.pttl(keys.requests("s5"))).toBeGreaterThan(REFUSALS_KEPT_MS);
    // Each call that refuses starts the refusals' time again.
    await redis.pexpire(keys.refused("s5"), 1_000);
    expect(await ask("s5", "c", "k1")).toEqual({ kind: "soldOut" });
    expect(await redis.pttl(keys.refused("s5"))).toBeGreaterThan(REFUSALS_KEPT_MS - 5_000);
    // A retry of a refused request is answered from its record, loaded sale or not.
    expect(await ask("s5", "b", "k1")).toEqual({ kind: "seen", hash: "h-k1", orderId: null, refusal: "SOLD_OUT" });
    await redis.del(keys.left("s5"));
    expect(await ask("s5", "b", "k1")).toEqual({ kind: "seen", hash: "h-k1", orderId: null, refusal: "SOLD_OUT" });
    // A reload starts afresh: the refusals go with the rest.
    await gate.load("s5", saleTtlMs, 3, []);
    expect(await redis.exists(keys.refused("s5"))).toBe(0);
    expect(await ask("s5", "b", "k1")).toEqual({ kind: "taken", left: 2 });
  });
  it("gives a cancelled order's units back once however often asked, and not at all after a load that counted them", async () => {
    const k = redisKeys(keysPrefix).flash;
    expect(await gate.give("g1", "o-x", "x", 1)).toBe("notLoaded");
    await gate.load("g1", 60_000, 2, [{ userId: "x", bought: 3 }]);
    expect(await gate.give("g1", "o-x", "x", 2)).toBe("given");
    expect(await gate.give("g1", "o-x", "x", 2)).toBe("before");
    expect(await gate.left("g1")).toBe(4);
    expect((await gate.bought("g1")).get("x")).toBe(1);
    // The record of gives lives as long as the gate's keys.
    expect(await redis.pttl(k.given("g1"))).toBeGreaterThan(0);
    // A reload from PostgreSQL whose figures already count order o-y's units back: its give is a no-op.
    await gate.drop("g1");
    await gate.load("g1", 60_000, 5, [{ userId: "y", bought: 1 }], ["o-y"]);
    expect(await gate.give("g1", "o-y", "y", 1)).toBe("before");
    expect(await gate.left("g1")).toBe(5);
    // A give the reload did not count (o-z) is applied.
    expect(await gate.give("g1", "o-z", "y", 1)).toBe("given");
    expect(await gate.left("g1")).toBe(6);
    expect(await redis.pttl(k.given("g1"))).toBeGreaterThan(0);
  });
});
