import { Queue } from "bullmq";
import { benchRedis } from "../shared/redis.js";

export type RedisServer = { pid: number | null; version: string; hz: number };

/**
 * The Redis server's pid (for its CPU time from /proc), version and hz. An idle Redis wakes only
 * hz times a second, and BullMQ waits for a delayed job with a blocking command whose timeout
 * fires on such a wake-up: hz bounds the lateness.
 */
export async function redisServer(url: string): Promise<RedisServer> {
  const redis = benchRedis(url);
  try {
    await redis.connect();
    const info = await redis.info("server");
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim() ?? "";
    return { pid: Number(field("process_id")) || null, version: field("redis_version"), hz: Number(field("hz")) };
  } finally {
    redis.disconnect();
  }
}

/** Jobs of queue "push" under a BullMQ prefix, by state; null when Redis does not answer. */
export async function queueCounts(url: string, prefix: string): Promise<Record<string, number> | null> {
  const connection = benchRedis(url);
  const queue = new Queue("push", { connection, prefix });
  try {
    return await queue.getJobCounts("delayed", "wait", "prioritized", "active", "failed", "completed");
  } catch {
    return null;
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}


export { deleteKeys } from "../shared/redis.js";
