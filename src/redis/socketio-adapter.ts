import { createShardedAdapter } from "@socket.io/redis-adapter";
import type { RedisClient } from "./connect.js";

/**
 * socket.io's Redis adapter over sharded pub/sub (SPUBLISH/SSUBSCRIBE), on a standalone Redis (7+)
 * and on a cluster alike: one channel per socket.io room (`subscriptionMode: "dynamic"`), each in
 * the slot its name hashes to, so rooms spread over the cluster's masters. `sub` must be a
 * subscriber client (on a cluster: `shardedSubscribers`).
 */
export function socketIoAdapter(pub: RedisClient, sub: RedisClient, channelPrefix: string) {
  return createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode: "dynamic" });
}
