import { Queue } from "bullmq";
import { Redis } from "ioredis";

function connect(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, commandTimeout: 5000 });
  redis.on("error", () => undefined);
  return redis;
}

export type RedisServer = { pid: number | null; version: string; hz: number };

/**
 * The Redis server's pid (for its CPU time from /proc), version and hz. An idle Redis wakes only
 * hz times a second, and BullMQ waits for a delayed job with a blocking command whose timeout
 * fires on such a wake-up: hz bounds the lateness.
 */
export async function redisServer(url: string): Promise<RedisServer> {
  const redis = connect(url);
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
  const connection = connect(url);
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

/** UNLINKs every key matching the pattern within 10 s; never throws (a run's keys are few and small). */
export async function deleteKeys(url: string, pattern: string): Promise<number> {
  const redis = connect(url);
  const deadline = Date.now() + 10_000;
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0" && Date.now() < deadline);
  } catch {
    // best effort
  } finally {
    redis.disconnect();
  }
  return deleted;
}
