import { isCluster, type RedisClient } from "../redis/connect.js";
import type { Logger } from "../log.js";
import { AppError } from "../protocol/errors.js";
import type { RedisKeys } from "../redis/keys.js";

/** At most `limit` requests per `windowSec` (a fixed window, started by its first request). */
export interface Limit {
  limit: number;
  windowSec: number;
}

/** A named limit: per client address, per signed-in user, or both (each counted on its own). */
export interface RatePolicy {
  perIp?: Limit;
  perUser?: Limit;
}

// KEYS: counter. ARGV: windowMs, hits. Returns {requests in this window, ms until it resets}.
const HIT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

// KEYS: counters. ARGV: (windowMs hits)* for each. Returns {n, ttl}* as HIT does, one pair per counter.
const HIT_MANY = `
local out = {}
for i = 1, #KEYS do
  local n = redis.call('INCRBY', KEYS[i], ARGV[2 * i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i - 1]) ttl = tonumber(ARGV[2 * i - 1]) end
  out[2 * i - 1] = n
  out[2 * i] = ttl
end
return out
`;

type LimitRedis = RedisClient & {
  pinliveRateHit(key: string, windowMs: number, hits: number): Promise<[number, number]>;
  pinliveRateHitMany(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
};

/** Hits are sent to Redis together this often (one script call for every counter that moved). */
const FLUSH_MS = 20;
/** Most counters in one script call: a script holds Redis for its whole run (~1 µs a counter). */
const COUNTERS_PER_CALL = 500;
/** A flush waits this long for Redis before it is given up (the local counts stand meanwhile). */
const FLUSH_TIMEOUT_MS = 1_000;
/** Counters whose window ended are forgotten this often (a sweep walks them all; flushes only the moved). */
const SWEEP_MS = 1_000;
/** At most one "limits counted on this node only" warning per this many ms. */
const WARN_EVERY_MS = 10_000;

/**
 * One counter as this node knows it: Redis's last answer (`known`), hits sent and not yet answered
 * (`sent`), hits not yet sent (`unsent`).
 */
type Counter = { key: string; windowMs: number; known: number; sent: number; unsent: number; resetAt: number };

/**
 * Request limits shared by every node (Redis fixed windows), decided without waiting for Redis:
 * each node keeps every counter's last known value plus its own hits not yet counted there, and
 * decides from that sum; every `FLUSH_MS` the hits go to Redis in one script call. On one node the
 * decision is exact (a flush's answers cover every hit sent before it); across nodes a burst can
 * pass by at most what the other nodes let through before their next answers. A request never
 * waits on Redis and costs no command of its own, and while Redis is away each node still counts.
 */
export function createRateLimiter(redis: RedisClient, keys: RedisKeys, log: Logger) {
  if (!("pinliveRateHit" in redis)) {
    redis.defineCommand("pinliveRateHit", { numberOfKeys: 1, lua: HIT });
    redis.defineCommand("pinliveRateHitMany", { lua: HIT_MANY });
  }
  const r = redis as LimitRedis;
  const counters = new Map<string, Counter>();
  const moved = new Set<Counter>();
  let warnedAt = 0;
  let sweptAt = 0;
  const flusher = setInterval(() => void flush(), FLUSH_MS);
  flusher.unref();

  async function flush() {
    const now = Date.now();
    if (now - sweptAt >= SWEEP_MS) {
      sweptAt = now;
      for (const [key, c] of counters) if (c.sent === 0 && c.unsent === 0 && c.resetAt <= now) counters.delete(key);
    }
    if (moved.size === 0) return;
    const batch = [...moved].map((c) => ({ c, hits: c.unsent }));
    moved.clear();
    for (const { c, hits } of batch) {
      c.unsent -= hits;
      c.sent += hits;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const answers = await Promise.race([send(batch), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), FLUSH_TIMEOUT_MS)))]);
      batch.forEach(({ c, hits }, i) => {
        const [err, answer] = answers?.[i] ?? [new Error("no answer"), null];
        c.sent -= hits;
        if (err) return void (c.known += hits);
        const [n, ttl] = answer as [number, number];
        c.known = n;
        c.resetAt = Date.now() + ttl;
      });
    } catch (err) {
      for (const { c, hits } of batch) {
        c.sent -= hits;
        c.known += hits;
      }
      if (now - warnedAt > WARN_EVERY_MS) {
        warnedAt = now;
        log.warn({ err }, "rate limits counted on this node only (Redis did not answer)");
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One script call for every counter; on a cluster (where one call's keys must share a slot) one
   * call per counter, auto-pipelined per node.
   */
  async function send(batch: { c: Counter; hits: number }[]): Promise<[Error | null, unknown][] | null> {
    if (isCluster(redis)) {
      return Promise.all(batch.map(({ c, hits }) => r.pinliveRateHit(c.key, c.windowMs, hits).then((a): [null, unknown] => [null, a], (err: Error): [Error, null] => [err, null])));
    }
    const calls: Promise<number[]>[] = [];
    for (let i = 0; i < batch.length; i += COUNTERS_PER_CALL) {
      const part = batch.slice(i, i + COUNTERS_PER_CALL);
      calls.push(r.pinliveRateHitMany(part.length, ...part.map(({ c }) => c.key), ...part.flatMap(({ c, hits }) => [c.windowMs, hits])));
    }
    const out = (await Promise.all(calls)).flat();
    if (out.length !== 2 * batch.length) throw new Error(`Redis answered ${out.length / 2} of ${batch.length} counters`);
    return batch.map((_, i) => [null, [out[2 * i], out[2 * i + 1]]]);
  }

  /** Counts one request; the seconds to wait when it is over the limit, null when allowed. */
  function hit(name: string, by: "ip" | "user", id: string, limit: Limit): number | null {
    const key = keys.rateLimit(name, by, id);
    const windowMs = limit.windowSec * 1000;
    const now = Date.now();
    let c = counters.get(key);
    if (!c) counters.set(key, (c = { key, windowMs, known: 0, sent: 0, unsent: 0, resetAt: now + windowMs }));
    else if (c.resetAt <= now) {
      c.known = 0;
      c.resetAt = now + windowMs;
    }
    c.unsent++;
    moved.add(c);
    return c.known + c.sent + c.unsent > limit.limit ? Math.max(1, Math.ceil((c.resetAt - now) / 1000)) : null;
  }

  return {
    hit,
    /** Counts the request against each part of `policy` that applies; RATE_LIMITED (with Retry-After) when any is over. */
    enforce(name: string, policy: RatePolicy, who: { ip?: string | null; userId?: string | null }) {
      const waits = [
        policy.perIp && who.ip ? hit(name, "ip", who.ip, policy.perIp) : null,
        policy.perUser && who.userId ? hit(name, "user", who.userId, policy.perUser) : null,
      ];
      const wait = Math.max(...waits.map((w) => w ?? 0));
      if (wait > 0) throw new AppError("RATE_LIMITED", "Too many requests; wait before trying again.", undefined, wait);
    },
    /** Sends what is counted and stops (the node is stopping). */
    async stop() {
      clearInterval(flusher);
      await flush();
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
