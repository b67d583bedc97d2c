import { benchRedis, deleteKeys as deleteMatching } from "../shared/redis.js";
import { redisKeys } from "../../src/redis/keys.js";

/** Units the server's gate holds for a sale; null when the gate is not loaded or Redis does not answer. */
export async function gateLeft(url: string, prefix: string, saleId: string): Promise<number | null> {
  const redis = benchRedis(url);
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
export const deleteKeys = (url: string, prefix: string) => deleteMatching(url, `${prefix}*`);
