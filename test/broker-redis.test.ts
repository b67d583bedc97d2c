// The RoomBroker contract against the Redis broker: the room scripts and sharded channels on the
// machine's Redis, under this file's own key prefix, with two "nodes" (two brokers, two subscribers).
import { Redis } from "ioredis";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics.js";
import { createRedisBroker } from "../src/realtime/broker/broker.redis.js";
import { brokerContract } from "../src/realtime/broker/broker.contract.js";
import { createRoomStore } from "../src/realtime/room-store.redis.js";
import { redisKeys } from "../src/redis/keys.js";
import { redisUrl } from "./support/env.js";
import { testRedisPrefix } from "./support/redis.js";

brokerContract("Redis", async () => {
  const { prefix, cleanup } = testRedisPrefix();
  const keys = redisKeys(prefix);
  const log = createLogger("silent", "contract");
  const maxLen = 200;
  const connections = [new Redis(redisUrl), new Redis(redisUrl), new Redis(redisUrl)];
  const [commands, subA, subB] = connections as [Redis, Redis, Redis];
  await Promise.all([subA, subB].map((s) => new Promise((resolve) => (s.status === "ready" ? resolve(null) : s.once("ready", resolve)))));
  const store = createRoomStore(commands, keys, createMetrics(), { maxLen, ttlSec: 3600, statsBucketMs: 10_000 });
  return {
    broker: createRedisBroker({ store, subscriber: subA, log }),
    peer: createRedisBroker({ store, subscriber: subB, log }),
    maxLen,
    lose: async (roomId) => {
      const k = keys.room;
      await commands.del(k.epoch(roomId), k.seq(roomId), k.events(roomId));
    },
    interrupt: () => Promise.resolve(subA.disconnect(true)),
    close: async () => {
      for (const c of connections) c.disconnect();
      await cleanup();
    },
  };
});
