// Every Redis user runs on a cluster client, and every script and key family stays in one slot.
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobs } from "../../src/jobs/jobs.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics.js";
import { createRateLimiter } from "../../src/http/rate-limit.redis.js";
import { createFlashGate } from "../../src/orders/flash-gate.redis.js";
import { createRoomStore } from "../../src/realtime/room-store.redis.js";
import { watchEndedSessions } from "../../src/realtime/ended-sessions.js";
import { connectRedis, type RedisClient } from "../../src/redis/connect.js";
import { redisKeys } from "../../src/redis/keys.js";
import { createLoginLimits } from "../../src/staff/login-limits.redis.js";
import { waitFor } from "../support/clients.js";
import { useRedisCluster } from "./support/cluster.js";

type Sent = { family: string; name: string; keys: string[] };

/** Records every command any cluster client in this process sends, with the family being exercised. */
function recordClusterCommands() {
  const sent: Sent[] = [];
  let family = "other";
  const proto = Cluster.prototype as unknown as { sendCommand: (command: { name: string; getKeys(): (string | Buffer)[] }, ...rest: unknown[]) => unknown };
  const original = proto.sendCommand;
  proto.sendCommand = function (command, ...rest) {
    sent.push({ family, name: command.name, keys: command.getKeys().map(String) });
    return original.call(this, command, ...rest);
  };
  return {
    sent,
    as: async <T>(name: string, work: () => Promise<T>) => {
      family = name;
      try {
        return await work();
      } finally {
        family = "other";
      }
    },
    restore: () => (proto.sendCommand = original),
  };
}

describe("every Redis user on a cluster client, one slot per script and key family", () => {
  const local = useRedisCluster();
  const log = createLogger("silent", "slots");
  const keys = redisKeys("slots");
  const recorder = recordClusterCommands();
  let redis: RedisClient;
  let sub: RedisClient;

  beforeAll(async () => {
    const target = local.cluster.target;
    [redis, sub] = await Promise.all([
      connectRedis(target, "main", "slots", log, { commandTimeoutMs: 5000 }),
      connectRedis(target, "sub", "slots", log, { commandTimeoutMs: 5000, subscriber: true }),
    ]);
  });
  afterAll(async () => {
    recorder.restore();
    await Promise.allSettled([redis?.quit(), sub?.quit()]);
  });

  it("runs each user's scripts and commands, each command's keys in one slot and each family instance in one slot", async () => {
    const store = createRoomStore(redis, keys, createMetrics(), { maxLen: 100, ttlSec: 60, statsBucketMs: 1000 });
    const rooms = ["r1", "r2", "r3", "r4", "r5", "r6"];
    for (const room of rooms) {
      await recorder.as(`room:${room}`, async () => {
        await store.load(room, 10);
        const appended = await store.append(room, [{ body: `"type":"comment","n":1}`, sampleable: true }, { body: `"type":"comment","n":2}`, sampleable: false }], 10);
        expect(appended.firstSeq).toBe(1);
        await store.setState(room, "pinned", "{}", `{"type":"state"}`);
        await store.setWords(room, ["w"]);
        await store.setMute(room, "u1", Date.now() + 60_000);
        const counts = await store.counts(room, { nodeId: "node-a", full: true, joined: ["u1", "u2"], left: [], anonymous: 1, staleAfterMs: 3000, likes: 2, comments: 1 });
        expect(counts).toMatchObject({ viewers: 3, likes: 2, seq: 2 });
        expect((await store.range(room, 1, "+")).map((e) => e.seq)).toEqual([1, 2]);
        await store.rotateEpoch(room, appended.epoch);
      });
    }
    // Rooms on every shard, read together (one call, each room's reads sent to its own master).
    const peeked = await recorder.as("peek", () => store.peekCounts(rooms));
    expect([...peeked.values()].every((c) => c.viewers === 3 && c.likes === 2)).toBe(true);
    const roomSlots = new Set(await Promise.all(rooms.map((r) => local.cluster.slotOf(keys.room.channel(r)))));
    expect(roomSlots.size).toBeGreaterThan(1);

    const gate = createFlashGate(redis, keys);
    for (const sale of ["s1", "s2", "s3"]) {
      await recorder.as(`flash:${sale}`, async () => {
        await gate.load(sale, 60_000, 5, [{ userId: "u0", bought: 1 }]);
        expect(await gate.take(sale, "u1", 2, 3, { field: "u1\nk1", hash: "h" }, "o1")).toEqual({ kind: "taken", left: 3 });
        expect(await gate.take(sale, "u2", 1, 3, { field: "u2\nk2", hash: "h" }, "o2")).toEqual({ kind: "taken", left: 2 });
        expect((await gate.pending(sale)).map((p) => p.orderId).sort()).toEqual(["o1", "o2"]);
        await gate.settle(sale, ["o1"]);
        expect(await gate.missing(sale, ["o1", "o2"])).toEqual(new Set(["o1"]));
        expect(await gate.voidTakes(sale, 0, ["o2"])).toEqual(["o2"]);
        expect(await gate.missing(sale, ["o2"])).toEqual(new Set(["o2"]));
        expect(await gate.release(sale, [{ orderId: "o2", refusal: null }])).toBe(1);
        expect(await gate.give(sale, "o1", "u1", 1)).toBe("given");
        expect(await gate.give(sale, "o1", "u1", 1)).toBe("before");
        expect(await gate.left(sale)).toBe(4);
        expect((await gate.bought(sale)).get("u1")).toBe(1);
        await gate.drop(sale);
      });
    }

    const limiter = createRateLimiter(redis, keys, log);
    const ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"];
    for (const id of ips) expect(limiter.hit("orders", "ip", id, { limit: 1, windowSec: 60 })).toBeNull();
    expect(limiter.hit("orders", "ip", "10.0.0.1", { limit: 1, windowSec: 60 })).toBeGreaterThan(0);
    // The counters of one flush, on every shard, sent together; Redis's counts come back.
    await recorder.as("rate", () => limiter.stop());
    expect(recorder.sent.filter((s) => s.family === "rate" && s.keys.length === 1).length).toBe(ips.length);
    expect(new Set(await Promise.all(ips.map((ip) => local.cluster.slotOf(keys.rateLimit("orders", "ip", ip))))).size).toBeGreaterThan(1);
    expect(await redis.get(keys.rateLimit("orders", "ip", "10.0.0.1"))).toBe("2");

    const login = createLoginLimits(redis, keys, { perIpPerMin: 5, maxFailures: 2, lockSec: 60 });
    for (const user of ["alice", "bob"]) {
      await recorder.as(`login:${user}`, async () => {
        expect(await login.fail(user)).toBeNull();
        expect(await login.fail(user)).toBe(60);
        expect(await login.locked(user)).toBeGreaterThan(0);
        await login.succeed(user);
        await login.clear(user);
        expect(await login.locked(user)).toBeNull();
      });
    }
    await recorder.as("login-ip", () => login.hitAddress("10.0.0.9"));

    // Ended sessions: published on one sharded channel, heard through the sharded subscribers.
    const ended: string[] = [];
    const announcements = watchEndedSessions({ subscriber: sub, publisher: redis, channel: keys.sessionsChannel, log, sessions: { endUser: (u) => ended.push(u), endSession: () => {} } });
    await waitFor(() => recorder.sent.some((s) => s.name === "ssubscribe" && s.keys.includes(keys.sessionsChannel)), "subscribed");
    await new Promise((r) => setTimeout(r, 300));
    await recorder.as("sessions", () => announcements.announce("user-1"));
    await waitFor(() => ended.includes("user-1"), "ended session heard");

    // BullMQ: its queues, scripts and delayed jobs under the one hash-tagged prefix.
    const ran: string[] = [];
    const jobs = createJobs({ redis: local.cluster.target, prefix: keys.jobs, nodeId: "slots", log, metrics: createMetrics(), work: true, concurrency: 2, lockMs: 5000, commandTimeoutMs: 5000 });
    jobs.handle("push.fire", (d) => {
      ran.push(d.pushId);
      return Promise.resolve();
    });
    jobs.start();
    await recorder.as("jobs", async () => {
      await jobs.schedule("push.fire", "p1", { pushId: "p1", rev: 1 }, Date.now() + 300);
      await jobs.schedule("push.fire", "p1", { pushId: "p1", rev: 1 }, Date.now() + 300);
      await jobs.schedule("push.fire", "p2", { pushId: "p2", rev: 1 }, Date.now() + 60_000);
      expect(await jobs.scheduledAt("push.fire", "p2")).toBeGreaterThan(Date.now());
      await jobs.unschedule("push.fire", "p2");
      expect(await jobs.scheduledAt("push.fire", "p2")).toBeNull();
      await jobs.every("maintenance.cleanup", 60_000, {});
    });
    await waitFor(() => ran.length >= 1, "the delayed job ran", 15_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(ran).toEqual(["p1"]);
    await jobs.close();
    expect(() => createJobs({ redis: local.cluster.target, prefix: "slots:jobs", nodeId: "x", log, metrics: createMetrics(), work: false, concurrency: 1, lockMs: 5000 })).toThrow(/hash tag/);

    // The judgement: every command's keys in one slot, every family instance in one slot.
    const slotOf = new Map<string, number>();
    const allKeys = new Set(recorder.sent.flatMap((s) => s.keys));
    for (const key of allKeys) slotOf.set(key, await local.cluster.slotOf(key));
    const scripts = recorder.sent.filter((s) => s.name === "evalsha" || s.name === "eval");
    expect(scripts.length).toBeGreaterThan(50);
    for (const s of recorder.sent.filter((x) => x.keys.length > 1)) {
      expect(new Set(s.keys.map((k) => slotOf.get(k))).size, `${s.family} ${s.name} ${s.keys.join(" ")}`).toBe(1);
    }
    const families = new Map<string, Set<number>>();
    for (const s of recorder.sent) {
      if (!/^(room|flash|login):|^jobs$/.test(s.family)) continue;
      const set = families.get(s.family) ?? new Set<number>();
      for (const k of s.keys) set.add(slotOf.get(k)!);
      families.set(s.family, set);
    }
    expect([...families.keys()].sort()).toEqual(["flash:s1", "flash:s2", "flash:s3", "jobs", "login:alice", "login:bob", ...rooms.map((r) => `room:${r}`)].sort());
    for (const [family, slots] of families) expect(slots.size, family).toBe(1);
    // Each family's script ran with its keys declared, and BullMQ's keys all carry the prefix's tag.
    for (const family of ["room:r1", "flash:s1", "login:alice", "jobs"]) {
      expect(scripts.some((s) => s.family === family && s.keys.length > 0), family).toBe(true);
    }
    expect(recorder.sent.filter((s) => s.family === "jobs").flatMap((s) => s.keys).every((k) => k.startsWith(keys.jobs))).toBe(true);
  });
});
