import { Redis } from "ioredis";
import { redisKeys } from "../../src/redis/keys.js";

function connect(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, commandTimeout: 5000 });
  redis.on("error", () => undefined);
  return redis;
}

/** Units the server's gate holds for a sale; null when the gate is not loaded or Redis does not answer. */
export async function gateLeft(url: string, prefix: string, saleId: string): Promise<number | null> {
  const redis = connect(url);
  try {
    await redis.connect();
    const v = await redis.get(redisKeys(prefix).flash.left(saleId));
    return v === null ? null : Number(v);
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under the prefix within 10 s; never throws (what is left expires on its own). */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = connect(url);
  const deadline = Date.now() + 10_000;
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0" && Date.now() < deadline);
  } catch {
    // best effort
  } finally {
    redis.disconnect();
  }
  return deleted;
}
