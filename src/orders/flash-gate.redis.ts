import type { RedisClient } from "../redis/connect.js";
import type { RedisKeys } from "../redis/keys.js";
import { withTimeout } from "../unavailable.js";

// Every script works on one sale's keys (one hash tag): KEYS = left, bought, requests, pending, refused, given.
//   left      units the gate may still hand out
//   bought    hash userId -> units taken (the per-user limit)
//   requests  hash "<userId>\n<Idempotency-Key>" -> the answer to a take: "T|<hash>|<orderId>" taken,
//             "R|<hash>|<code>" taken and given back with a refusal (PostgreSQL refused its order)
//   pending   hash orderId -> "<takenAtMs>|<qty>|<userId>|<request field>": taken here, not yet known in PostgreSQL;
//             "-" before it: void, a reconcile is deciding it (no batch may write it any more)
//   refused   hash "<userId>\n<Idempotency-Key>" -> "R|<hash>|<code>": the gate's own refusals (over the limit,
//             sold out). Most of a sold-out rush: one field per tap. Kept REFUSALS_KEPT_MS after the last one
//             (the TTL slides with every call that refuses), not as long as the sale's other keys.
//   given     hash orderId -> 1: cancelled orders whose units this gate has back, so a give is applied once
//             however often it is retried (flash_give_backs in PostgreSQL is what retries it)
// A placeholder field "_" keeps each of the first four hashes, and given (with their TTL) alive from LOAD on.

// ARGV: refusalsKeptMs, then (userId qty limit field hash orderId)* — the takes one node asked for in one
// tick, in order. Returns per take a code and a value: 0 record (seen before), -3 '' (not loaded), -1 ''
// (over the limit), -2 '' (sold out), 1 left (taken). Each take sees the ones before it (the same user's, the
// same key's). Each take's writes are whole before the next begins: Redis does not roll a script back, so a
// call that fails part way leaves earlier takes taken and pending (the reconcile gives them back), never
// half-written.
const TAKE = `
local out = {}
local function seen(field)
  return redis.call('HGET', KEYS[3], field) or redis.call('HGET', KEYS[5], field)
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 2, #ARGV, 6 do
    local rec = seen(ARGV[i + 3])
    if rec then out[#out + 1] = 0 out[#out + 1] = rec else out[#out + 1] = -3 out[#out + 1] = '' end
  end
  return out
end
local left = tonumber(redis.call('GET', KEYS[1]))
local now = nil
local refused = false
for i = 2, #ARGV, 6 do
  local user, qty, field, hash = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 3], ARGV[i + 4]
  local rec = seen(field)
  if rec then
    out[#out + 1] = 0 out[#out + 1] = rec
  elseif tonumber(redis.call('HGET', KEYS[2], user) or '0') + qty > tonumber(ARGV[i + 2]) then
    redis.call('HSET', KEYS[5], field, 'R|' .. hash .. '|LIMIT_EXCEEDED')
    refused = true
    out[#out + 1] = -1 out[#out + 1] = ''
  elseif left < qty then
    redis.call('HSET', KEYS[5], field, 'R|' .. hash .. '|SOLD_OUT')
    refused = true
    out[#out + 1] = -2 out[#out + 1] = ''
  else
    if not now then
      local t = redis.call('TIME')
      now = t[1] * 1000 + math.floor(t[2] / 1000)
    end
    redis.call('HINCRBY', KEYS[2], user, qty)
    redis.call('HSET', KEYS[3], field, 'T|' .. hash .. '|' .. ARGV[i + 5])
    redis.call('HSET', KEYS[4], ARGV[i + 5], now .. '|' .. qty .. '|' .. user .. '|' .. field)
    left = redis.call('DECRBY', KEYS[1], qty)
    out[#out + 1] = 1 out[#out + 1] = left
  end
end
if refused then redis.call('PEXPIRE', KEYS[5], ARGV[1]) end
return out
`;

// ARGV: (orderId code)*. Gives back takes that will never be orders, each once (only while pending).
// code '' forgets the request (our failure: a retry runs again); otherwise the refusal is remembered.
const RELEASE = `
local n = 0
for i = 1, #ARGV, 2 do
  local p = redis.call('HGET', KEYS[4], ARGV[i])
  if p then
    local _, qty, user, field = string.match(p, '^%-?(%d+)|(%d+)|([^|]*)|(.*)$')
    qty = tonumber(qty)
    redis.call('HDEL', KEYS[4], ARGV[i])
    local mine = tonumber(redis.call('HGET', KEYS[2], user) or '0')
    local back = math.min(qty, mine)
    if back > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
      redis.call('HINCRBY', KEYS[2], user, -back)
      redis.call('INCRBY', KEYS[1], back)
    end
    local rec = redis.call('HGET', KEYS[3], field)
    if rec and string.sub(rec, 1, 2) == 'T|' and string.sub(rec, -#ARGV[i]) == ARGV[i] then
      if ARGV[i + 1] == '' then
        redis.call('HDEL', KEYS[3], field)
      else
        redis.call('HSET', KEYS[3], field, 'R|' .. string.match(rec, '^T|([^|]*)|') .. '|' .. ARGV[i + 1])
      end
    end
    n = n + 1
  end
end
return n
`;

// KEYS: left bought given. ARGV: orderId userId qty. Gives back the units of a cancelled order, once per
// order however often it is asked: -3 not loaded (a load reads PostgreSQL, where they are back), -4 given
// before, else the units left.
const GIVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
if redis.call('HSETNX', KEYS[3], ARGV[1], '1') == 0 then return -4 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and redis.call('PTTL', KEYS[3]) < 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
local qty = math.min(tonumber(ARGV[3]), mine)
if qty <= 0 then return tonumber(redis.call('GET', KEYS[1])) end
redis.call('HINCRBY', KEYS[2], ARGV[2], -qty)
return redis.call('INCRBY', KEYS[1], qty)
`;

// ARGV: ttlMs left nGiven, then nGiven orderIds (give-backs PostgreSQL had already counted when it was read),
// then (userId bought)*. Loads the gate from PostgreSQL once; a reload starts afresh.
const LOAD = `
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
  redis.call('HSET', KEYS[2], '_', '0')
  local given = tonumber(ARGV[3])
  redis.call('HSET', KEYS[6], '_', '_')
  for i = 4, 3 + given do redis.call('HSET', KEYS[6], ARGV[i], '1') end
  for i = 4 + given, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
  redis.call('HSET', KEYS[3], '_', '_')
  redis.call('HSET', KEYS[4], '_', '_')
  for _, k in ipairs({2, 3, 4, 6}) do redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
end
return tonumber(redis.call('GET', KEYS[1]))
`;

// KEYS: pending. Redis's clock and every pending take.
const PENDING = `return {redis.call('TIME'), redis.call('HGETALL', KEYS[1])}`;

// KEYS: pending. ARGV: minAgeMs then orderIds. Makes void the pending takes at least minAgeMs old by
// Redis's clock (a batch that asks under the fence sees them gone); returns every one void now.
const VOID = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local out = {}
for i = 2, #ARGV do
  local p = redis.call('HGET', KEYS[1], ARGV[i])
  if p then
    if string.sub(p, 1, 1) == '-' then
      out[#out + 1] = ARGV[i]
    elseif now - tonumber(string.match(p, '^(%d+)|')) >= tonumber(ARGV[1]) then
      redis.call('HSET', KEYS[1], ARGV[i], '-' .. p)
      out[#out + 1] = ARGV[i]
    end
  end
end
return out
`;

type GateRedis = RedisClient & {
  pinliveFlashTake(...args: (string | number)[]): Promise<(string | number)[]>;
  pinliveFlashRelease(...args: (string | number)[]): Promise<number>;
  pinliveFlashGive(...args: (string | number)[]): Promise<number>;
  pinliveFlashLoad(...args: (string | number)[]): Promise<number>;
  pinliveFlashPending(...args: (string | number)[]): Promise<[[string, string], string[]]>;
  pinliveFlashVoid(...args: (string | number)[]): Promise<string[]>;
};

/** What the gate answered for one request. */
export type TakeResult =
  | { kind: "taken"; left: number }
  | { kind: "limit" }
  | { kind: "soldOut" }
  | { kind: "notLoaded" }
  /** The same request (user, Idempotency-Key) was answered before. */
  | { kind: "seen"; hash: string; orderId: string | null; refusal: string | null };

/** A take not yet known in PostgreSQL (`void`: a reconcile is deciding it). */
export type PendingTake = { orderId: string; userId: string; quantity: number; field: string; ageMs: number; void: boolean };

/** The gate's field for one request: the user and their Idempotency-Key. */
export const requestField = (userId: string, key: string) => `${userId}\n${key}`;

/**
 * How long the gate's own refusals are remembered after the sale's last one: a retry of a tap whose
 * answer was lost comes within seconds, and the records of a sold-out rush (one per tap) should not
 * outlive it by the sale keys' week. A retry after this is decided afresh; nothing is taken twice.
 */
export const REFUSALS_KEPT_MS = 10 * 60 * 1000;

/** Most takes in one script call: a script holds Redis for its whole run (~2 µs a take). */
const TAKES_PER_CALL = 128;

type Ask = { args: (string | number)[]; resolve: (r: TakeResult) => void; reject: (err: unknown) => void };

export interface GateOptions {
  /**
   * A take the gate has not answered this long after it was asked is UNAVAILABLE (Retry-After 1;
   * REDIS_COMMAND_TIMEOUT_MS). One timer per script call, which goes out in the tick of its asks.
   * The call runs on after it: a take it makes stays pending, and the reconcile gives it back.
   * Unset: only the connection's own command timeout.
   */
  takeTimeoutMs?: number;
}

function takeResult(code: number, value: string | number): TakeResult {
  if (code === 1) return { kind: "taken", left: Number(value) };
  if (code === -1) return { kind: "limit" };
  if (code === -2) return { kind: "soldOut" };
  if (code === -3) return { kind: "notLoaded" };
  const [state, hash, rest] = String(value).split("|") as [string, string, string];
  return state === "T" ? { kind: "seen", hash, orderId: rest, refusal: null } : { kind: "seen", hash, orderId: null, refusal: rest };
}

/**
 * The Redis gate in front of a flash sale, its live authority: one script checks each request
 * (answered before?), the user's limit and the units left, and takes them, so the rush is
 * answered in Redis and only takes reach PostgreSQL. The takes a node asks for one sale in one
 * tick go in one script call, in the order they were asked: a rush costs Redis and this node one
 * command per tick, not one per buyer. Every take is `pending` until its order is
 * committed (`settle`) or given back (`release`), each exactly once; `reconcile` in the checkout
 * resolves takes whose node died (it makes them `void` first: no batch writes them after). The gate
 * can be lost; it is reloaded from PostgreSQL.
 */
export function createFlashGate(redis: RedisClient, keys: RedisKeys, opts: GateOptions = {}) {
  const r = redis as GateRedis;
  if (!("pinliveFlashTake" in redis)) {
    redis.defineCommand("pinliveFlashTake", { numberOfKeys: 6, lua: TAKE });
    redis.defineCommand("pinliveFlashRelease", { numberOfKeys: 6, lua: RELEASE });
    redis.defineCommand("pinliveFlashGive", { numberOfKeys: 3, lua: GIVE });
    redis.defineCommand("pinliveFlashLoad", { numberOfKeys: 6, lua: LOAD });
    redis.defineCommand("pinliveFlashPending", { numberOfKeys: 1, lua: PENDING });
    redis.defineCommand("pinliveFlashVoid", { numberOfKeys: 1, lua: VOID });
  }
  const k = keys.flash;
  const all = (id: string) => [k.left(id), k.bought(id), k.requests(id), k.pending(id), k.refused(id), k.given(id)];
  /** Takes asked this tick, by sale, sent when the tick's I/O has been handled. */
  const asked = new Map<string, Ask[]>();

  function sendAsked() {
    for (const [id, asks] of asked) {
      for (let i = 0; i < asks.length; i += TAKES_PER_CALL) void send(id, asks.slice(i, i + TAKES_PER_CALL));
    }
    asked.clear();
  }

  async function send(id: string, asks: Ask[]) {
    try {
      const call = r.pinliveFlashTake(...all(id), REFUSALS_KEPT_MS, ...asks.flatMap((a) => a.args));
      const out = opts.takeTimeoutMs === undefined ? await call : await withTimeout(call, opts.takeTimeoutMs, "The flash sale's gate", 1);
      if (out.length !== 2 * asks.length) throw new Error(`the gate answered ${out.length / 2} of ${asks.length} takes`);
      asks.forEach((a, i) => a.resolve(takeResult(Number(out[2 * i]), out[2 * i + 1]!)));
    } catch (err) {
      for (const a of asks) a.reject(err);
    }
  }

  return {
    /** Takes `qty` units for a request that will become order `orderId`, or says why not. */
    take(id: string, userId: string, qty: number, limit: number, request: { field: string; hash: string }, orderId: string): Promise<TakeResult> {
      return new Promise((resolve, reject) => {
        if (asked.size === 0) setImmediate(sendAsked);
        let asks = asked.get(id);
        if (!asks) asked.set(id, (asks = []));
        asks.push({ args: [userId, qty, limit, request.field, request.hash, orderId], resolve, reject });
      });
    },
    /**
     * Gives back pending takes that will not be orders, each once; `refusal` is the answer to
     * remember for the request (null: forget it, so a retry runs again). Returns how many were pending.
     */
    release: (id: string, takes: { orderId: string; refusal: string | null }[]) =>
      takes.length === 0 ? Promise.resolve(0) : r.pinliveFlashRelease(...all(id), ...takes.flatMap((t) => [t.orderId, t.refusal ?? ""])),
    /** These takes are orders in PostgreSQL now: nothing is pending for them any more. */
    settle: (id: string, orderIds: string[]) => (orderIds.length === 0 ? Promise.resolve(0) : redis.hdel(k.pending(id), ...orderIds)),
    /** Which of these takes a batch may no longer write: given back, or void (a reconcile is deciding them). */
    async missing(id: string, orderIds: string[]): Promise<Set<string>> {
      if (orderIds.length === 0) return new Set();
      const found = await redis.hmget(k.pending(id), ...orderIds);
      return new Set(orderIds.filter((_, i) => found[i] === null || found[i]!.startsWith("-")));
    },
    /**
     * Makes void those of these pending takes that are at least `minAgeMs` old by Redis's clock: from
     * now on `missing` names them, so no batch writes them. Returns every one of them that is void
     * (made so now or before); each stays pending until settled or released.
     */
    voidTakes: (id: string, minAgeMs: number, orderIds: string[]): Promise<string[]> =>
      orderIds.length === 0 ? Promise.resolve([]) : r.pinliveFlashVoid(k.pending(id), minAgeMs, ...orderIds),
    /** Every pending take with its age by Redis's clock. */
    async pending(id: string): Promise<PendingTake[]> {
      const [[sec, usec], flat] = await r.pinliveFlashPending(k.pending(id));
      const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
      const out: PendingTake[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const m = /^(-?)(\d+)\|(\d+)\|([^|]*)\|([\s\S]*)$/.exec(flat[i + 1]!);
        if (flat[i] === "_" || !m) continue;
        out.push({ orderId: flat[i]!, quantity: Number(m[3]), userId: m[4]!, field: m[5]!, ageMs: now - Number(m[2]), void: m[1] === "-" });
      }
      return out;
    },
    /**
     * The units of cancelled order `orderId` go back (to a loaded gate), once however often this is
     * asked: "given" now, "before" (given already), or "notLoaded" (a load will read them from PostgreSQL).
     */
    async give(id: string, orderId: string, userId: string, qty: number): Promise<"given" | "before" | "notLoaded"> {
      const out = await r.pinliveFlashGive(k.left(id), k.bought(id), k.given(id), orderId, userId, qty);
      return out === -3 ? "notLoaded" : out === -4 ? "before" : "given";
    },
    /**
     * Loads the gate from PostgreSQL's `left` and `buyers`, unless it is loaded; `given`: the
     * cancelled orders whose units those figures already count back (their gives are then no-ops).
     */
    load: (id: string, ttlMs: number, left: number, buyers: { userId: string; bought: number }[], given: readonly string[] = []) =>
      r.pinliveFlashLoad(...all(id), ttlMs, left, given.length, ...given, ...buyers.flatMap((b) => [b.userId, b.bought])),
    left: async (id: string) => {
      const v = await redis.get(k.left(id));
      return v === null ? null : Number(v);
    },
    /** Units each user holds at the gate (for audits). */
    async bought(id: string): Promise<Map<string, number>> {
      const h = await redis.hgetall(k.bought(id));
      return new Map(Object.entries(h).filter(([u]) => u !== "_").map(([u, n]) => [u, Number(n)]));
    },
    drop: (id: string) => redis.del(...all(id)),
  };
}

export type FlashGate = ReturnType<typeof createFlashGate>;
