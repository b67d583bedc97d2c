import { Redis } from "ioredis";

/** A short-lived connection for a benchmark's own checks: fails fast, never throws on its own. */
export function benchRedis(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, commandTimeout: 5000 });
  redis.on("error", () => undefined);
  return redis;
}

/** UNLINKs every key matching the pattern within 10 s; never throws (a run's keys are few, and what is left expires). */
export async function deleteKeys(url: string, pattern: string): Promise<number> {
  const redis = benchRedis(url);
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
