import { createHash } from "node:crypto";
import type { RedisClient } from "../redis/connect.js";
import type { RedisKeys } from "../redis/keys.js";

// KEYS: counter. ARGV: windowMs. Returns {attempts in this window, ms until it resets}.
const HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

// KEYS: failures lock. ARGV: maxFailures lockMs. Returns the lock's ms (0: not locked by this failure).
const FAIL = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
  return tonumber(ARGV[2])
end
return 0
`;

type LimitRedis = RedisClient & {
  pinliveLoginHit(key: string, windowMs: number): Promise<[number, number]>;
  pinliveLoginFail(failures: string, lock: string, max: number, lockMs: number): Promise<number>;
};

/**
 * Staff sign-in limits, shared by every node: attempts per address per minute, and a lock on an
 * account after `maxFailures` failures in a row (a success clears the count). Unknown usernames are
 * counted and locked the same way, so a lock says nothing about whether an account exists.
 */
export function createLoginLimits(redis: RedisClient, keys: RedisKeys, opts: { perIpPerMin: number; maxFailures: number; lockSec: number }) {
  const r = redis as LimitRedis;
  if (!("pinliveLoginHit" in redis)) {
    redis.defineCommand("pinliveLoginHit", { numberOfKeys: 1, lua: HIT });
    redis.defineCommand("pinliveLoginFail", { numberOfKeys: 2, lua: FAIL });
  }
  const account = (username: string) => createHash("sha256").update(username.toLowerCase()).digest("base64url").slice(0, 22);
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

  return {
    /** Counts an attempt from `address`; the seconds to wait when over the limit, else null. */
    async hitAddress(address: string): Promise<number | null> {
      const [n, ttl] = await r.pinliveLoginHit(keys.login.ip(address), 60_000);
      return n > opts.perIpPerMin ? seconds(ttl) : null;
    },
    /** Seconds left on the account's lock, or null. */
    async locked(username: string): Promise<number | null> {
      const ttl = await redis.pttl(keys.login.lock(account(username)));
      return ttl > 0 ? seconds(ttl) : null;
    },
    /** Records a failure; the lock's seconds when this one locked the account, else null. */
    async fail(username: string): Promise<number | null> {
      const a = account(username);
      const lockMs = await r.pinliveLoginFail(keys.login.failures(a), keys.login.lock(a), opts.maxFailures, opts.lockSec * 1000);
      return lockMs > 0 ? seconds(lockMs) : null;
    },
    async succeed(username: string) {
      await redis.del(keys.login.failures(account(username)));
    },
    /** Lifts a lock and forgets failures (an admin set a new password). */
    async clear(username: string) {
      const a = account(username);
      await redis.del(keys.login.failures(a), keys.login.lock(a));
    },
  };
}

export type LoginLimits = ReturnType<typeof createLoginLimits>;
