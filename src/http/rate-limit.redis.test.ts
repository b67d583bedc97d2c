// The route limits' flush against the real Redis: every counter that moved goes in one script call,
// Redis holds each counter's hits with its window, and a second node decides from what Redis counted.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl } from "../../test/support/env.js";
import { testRedisPrefix } from "../../test/support/redis.js";
import { createLogger } from "../log.js";
import { redisKeys, type RedisKeys } from "../redis/keys.js";
import { createRateLimiter } from "./rate-limit.redis.js";

describe("route limits shared through Redis", () => {
  let redis: Redis;
  let keys: RedisKeys;
  let cleanup: () => Promise<void>;
  const log = createLogger("silent", "test");

  beforeAll(() => {
    const prefix = testRedisPrefix();
    cleanup = prefix.cleanup;
    keys = redisKeys(prefix.prefix);
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await redis.quit();
    await cleanup();
  });

  it("sends every moved counter in one script call, with its window", async () => {
    const client = new Redis(redisUrl);
    await client.ping();
    // Every command this client sends, by name (a script call shows as evalsha, or eval the first time).
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = (command, stream) => {
      sent.push(command.name);
      return send(command, stream);
    };
    const limiter = createRateLimiter(client, keys, log);
    const minute = { limit: 100, windowSec: 60 };
    for (let i = 0; i < 3; i++) limiter.enforce("orders", { perIp: minute, perUser: minute }, { ip: "10.0.0.1", userId: "u1" });
    limiter.enforce("orders", { perIp: minute, perUser: minute }, { ip: "10.0.0.2", userId: "u2" });
    await limiter.stop();
    expect(sent.filter((c) => c === "evalsha" || c === "eval")).toHaveLength(1);
    const counted = ["10.0.0.1", "10.0.0.2"].map((ip) => keys.rateLimit("orders", "ip", ip)).concat(["u1", "u2"].map((u) => keys.rateLimit("orders", "user", u)));
    expect(await redis.mget(...counted)).toEqual(["3", "1", "3", "1"]);
    for (const key of counted) expect(await redis.pttl(key)).toBeGreaterThan(50_000);
    await client.quit();
  });

  it("gives each counter its own answer from the one call", async () => {
    const limiter = createRateLimiter(redis, keys, log);
    const three = { limit: 3, windowSec: 60 };
    // Counted in Redis before this node's flush: 2 for "full", none for "free".
    await redis.set(keys.rateLimit("orders", "user", "full"), "2", "PX", 60_000);
    expect(limiter.hit("orders", "user", "free", three)).toBeNull();
    expect(limiter.hit("orders", "user", "full", three)).toBeNull();
    await limiter.stop();
    // After the flush "full" is known at 3 (one more is over), "free" at 1 (two more pass).
    expect(limiter.hit("orders", "user", "full", three)).toBeGreaterThan(0);
    expect(limiter.hit("orders", "user", "free", three)).toBeNull();
    expect(limiter.hit("orders", "user", "free", three)).toBeNull();
    expect(limiter.hit("orders", "user", "free", three)).toBeGreaterThan(0);
  });

  it("lets a second node decide from the hits the first one counted in Redis", async () => {
    const [a, b] = [createRateLimiter(redis, keys, log), createRateLimiter(redis, keys, log)];
    const three = { limit: 3, windowSec: 60 };
    for (let i = 0; i < 3; i++) expect(a.hit("orders", "user", "shared", three)).toBeNull();
    await a.stop();
    // b has not heard from Redis yet: its own first hit passes, and its flush learns the other three.
    expect(b.hit("orders", "user", "shared", three)).toBeNull();
    await b.stop();
    expect(b.hit("orders", "user", "shared", three)).toBeGreaterThan(0);
    expect(await redis.get(keys.rateLimit("orders", "user", "shared"))).toBe("4");
  });
});
