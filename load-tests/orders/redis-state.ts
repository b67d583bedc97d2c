import { benchRedis, deleteKeys as deleteMatching } from "../shared/redis.js";
import { redisKeys } from "../../src/redis/keys.js";

/** What the server's gate holds for a sale: units left, takes not yet settled, units per buyer; null when Redis does not answer. */
export async function gateState(url: string, prefix: string, saleId: string): Promise<{ left: number | null; pending: number; bought: Record<string, number> } | null> {
  const redis = benchRedis(url);
  const k = redisKeys(prefix).flash;
  try {
    await redis.connect();
    const [left, pending, bought] = await Promise.all([redis.get(k.left(saleId)), redis.hkeys(k.pending(saleId)), redis.hgetall(k.bought(saleId))]);
    return {
      left: left === null ? null : Number(left),
      pending: pending.filter((f) => f !== "_").length,
      bought: Object.fromEntries(Object.entries(bought).filter(([u]) => u !== "_").map(([u, n]) => [u, Number(n)])),
    };
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

/** Whether the gate and PostgreSQL agree: units left = quantity - sold, nothing pending, each buyer's units. */
export function gateAgrees(gate: Awaited<ReturnType<typeof gateState>>, truth: { quantity: number; sold: number; buyers: Record<string, number> }): boolean {
  if (!gate || gate.left === null || gate.pending > 0 || gate.left !== truth.quantity - truth.sold) return false;
  const users = new Set([...Object.keys(gate.bought), ...Object.keys(truth.buyers)]);
  return [...users].every((u) => (gate.bought[u] ?? 0) === (truth.buyers[u] ?? 0));
}

/** Deletes every key under the prefix within 10 s; never throws (what is left expires on its own). */
export const deleteKeys = (url: string, prefix: string) => deleteMatching(url, `${prefix}*`);
