import type { Redis } from "ioredis";
import type { RedisKeys } from "../redis/keys.js";

// KEYS: left bought. ARGV: userId qty limit. Returns units left after taking, or -1 limit, -2 sold out, -3 not loaded.
const TAKE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
local qty = tonumber(ARGV[2])
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if mine + qty > tonumber(ARGV[3]) then return -1 end
local left = tonumber(redis.call('GET', KEYS[1]))
if left < qty then return -2 end
redis.call('HINCRBY', KEYS[2], ARGV[1], qty)
return redis.call('DECRBY', KEYS[1], qty)
`;

// KEYS: left bought. ARGV: userId qty. Gives units back (only to a loaded gate).
const GIVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local qty = math.min(tonumber(ARGV[2]), mine)
if qty <= 0 then return tonumber(redis.call('GET', KEYS[1])) end
redis.call('HINCRBY', KEYS[2], ARGV[1], -qty)
return redis.call('INCRBY', KEYS[1], qty)
`;

// KEYS: left bought. ARGV: ttlMs left then (userId bought)*. Loads the gate from the database once.
const LOAD = `
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then
  redis.call('DEL', KEYS[2])
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return tonumber(redis.call('GET', KEYS[1]))
`;

type GateRedis = Redis & {
  pinliveFlashTake(...args: (string | number)[]): Promise<number>;
  pinliveFlashGive(...args: (string | number)[]): Promise<number>;
  pinliveFlashLoad(...args: (string | number)[]): Promise<number>;
};

/**
 * The Redis gate in front of a flash sale: one script checks the user's limit and takes units, so
 * the rush is refused in Redis and only winners reach PostgreSQL (which stays the truth). The gate
 * can be lost; it is reloaded from PostgreSQL.
 */
export function createFlashGate(redis: Redis, keys: RedisKeys) {
  const r = redis as GateRedis;
  if (!("pinliveFlashTake" in redis)) {
    redis.defineCommand("pinliveFlashTake", { numberOfKeys: 2, lua: TAKE });
    redis.defineCommand("pinliveFlashGive", { numberOfKeys: 2, lua: GIVE });
    redis.defineCommand("pinliveFlashLoad", { numberOfKeys: 2, lua: LOAD });
  }
  const k = keys.flash;
  return {
    take: (id: string, userId: string, qty: number, limit: number) => r.pinliveFlashTake(k.left(id), k.bought(id), userId, qty, limit),
    give: (id: string, userId: string, qty: number) => r.pinliveFlashGive(k.left(id), k.bought(id), userId, qty),
    load: (id: string, ttlMs: number, left: number, buyers: { userId: string; bought: number }[]) =>
      r.pinliveFlashLoad(k.left(id), k.bought(id), ttlMs, left, ...buyers.flatMap((b) => [b.userId, b.bought])),
    left: async (id: string) => {
      const v = await redis.get(k.left(id));
      return v === null ? null : Number(v);
    },
    drop: (id: string) => redis.del(k.left(id), k.bought(id)),
  };
}

export type FlashGate = ReturnType<typeof createFlashGate>;
export const GATE_NOT_LOADED = -3;
export const GATE_LIMIT = -1;
export const GATE_SOLD_OUT = -2;
