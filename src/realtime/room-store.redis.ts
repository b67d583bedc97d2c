import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { RedisKeys } from "../redis/keys.js";
import type { Metrics } from "../metrics.js";

/**
 * A room's shared state in Redis. Guarantees: events get gap-free increasing seqs within an epoch,
 * are stored (bounded) and published in that order by one atomic script; a lost sequence (keys
 * gone) always comes back under a new epoch, never reusing an old (epoch, seq).
 */

// Starts a new epoch when the epoch or the seq is missing. Shared by every script below.
const ENSURE_EPOCH = `
local epoch = redis.call('GET', KEYS[1])
if (not epoch) or redis.call('EXISTS', KEYS[2]) == 0 then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[2], 0)
  redis.call('DEL', KEYS[3])
end
`;

// KEYS: epoch seq events budget channel. ARGV: epochCandidate maxlen ttlMs budgetPerSec then (flag body)*.
// flag 1 = sampleable. The budget is "<unix second>:<used>" by Redis's clock, shared by all nodes.
// Returns {epoch, firstSeq, rejected index...} (1-based indices).
const APPEND = `${ENSURE_EPOCH}
local budget = tonumber(ARGV[4])
local now = tonumber(redis.call('TIME')[1])
local second, used = string.match(redis.call('GET', KEYS[4]) or '', '^(%d+):(%d+)$')
if tonumber(second) ~= now then used = 0 else used = tonumber(used) end
local usedBefore = used
local accepted = {}
local rejected = {}
for i = 5, #ARGV, 2 do
  local idx = (i - 3) / 2
  if ARGV[i] == '1' then
    if used < budget then
      used = used + 1
      accepted[#accepted + 1] = ARGV[i + 1]
    else
      rejected[#rejected + 1] = idx
    end
  else
    accepted[#accepted + 1] = ARGV[i + 1]
  end
end
if used ~= usedBefore then redis.call('SET', KEYS[4], now .. ':' .. used, 'PX', 2000) end
local first = 0
if #accepted > 0 then
  local last = redis.call('INCRBY', KEYS[2], #accepted)
  first = last - #accepted + 1
  local frames = {}
  for j = 1, #accepted do
    local seq = first + j - 1
    local frame = '{"seq":' .. seq .. ',' .. accepted[j]
    frames[j] = frame
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], seq .. '-1', 'e', frame)
  end
  redis.call('SPUBLISH', KEYS[5], 'E' .. epoch .. '\\n' .. table.concat(frames, '\\n'))
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
local out = {epoch, first}
for k = 1, #rejected do out[#out + 1] = rejected[k] end
return out
`;

// KEYS: epoch seq events state muted. ARGV: epochCandidate recentCount ttlMs.
// Returns {epoch, seq, stateFlat, mutedFlat, recentFlat (id, fields...)}.
const LOAD = `${ENSURE_EPOCH}
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {epoch, redis.call('GET', KEYS[2]), redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5]),
  redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', ARGV[2])}
`;

// KEYS: state channel. ARGV: field value ('' deletes) message ttlMs.
const SET_STATE = `
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SPUBLISH', KEYS[2], ARGV[3])
return 1
`;

// KEYS: viewers state muted epoch seq events. ARGV: nodeId localCount staleAfterMs likeDelta ttlMs.
// Keeps every key of an open room alive. Returns {viewers, likes, epoch or false, seq}.
const COUNTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[5])
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + tonumber(ARGV[3])))
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local c, e = string.match(all[i + 1], '^(%d+):(%d+)$')
  if (not e) or tonumber(e) < now then redis.call('HDEL', KEYS[1], all[i]) else total = total + tonumber(c) end
end
redis.call('PEXPIRE', KEYS[1], ttl)
local likes
if tonumber(ARGV[4]) > 0 then
  likes = redis.call('HINCRBY', KEYS[2], 'likes', ARGV[4])
else
  likes = tonumber(redis.call('HGET', KEYS[2], 'likes') or '0')
end
redis.call('PEXPIRE', KEYS[2], ttl)
if redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], ttl) end
for k = 4, 6 do redis.call('PEXPIRE', KEYS[k], ttl) end
return {total, likes, redis.call('GET', KEYS[4]), tonumber(redis.call('GET', KEYS[5]) or '0')}
`;

// KEYS: muted channel. ARGV: userId untilMs(0 = unmute) message ttlMs. The hash lives as long as its longest mute.
const SET_MUTE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000
if ARGV[2] == '0' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
local keep = math.max(tonumber(ARGV[4]), tonumber(ARGV[2]) - now)
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
redis.call('SPUBLISH', KEYS[2], ARGV[3])
return 1
`;

// KEYS: epoch. ARGV: expected new. Starts a new epoch (keeping seq) if the epoch is still the expected one.
const ROTATE_EPOCH = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 end
return 0
`;

type ScriptRedis = Redis & {
  pinliveAppend(...args: (string | number)[]): Promise<(string | number)[]>;
  pinliveLoad(...args: (string | number)[]): Promise<[string, string, string[], string[], [string, string[]][]]>;
  pinliveSetState(...args: (string | number)[]): Promise<number>;
  pinliveCounts(...args: (string | number)[]): Promise<[number, number, string | null, number]>;
  pinliveSetMute(...args: (string | number)[]): Promise<number>;
  pinliveRotateEpoch(...args: (string | number)[]): Promise<number>;
};

/** An event ready to append: its JSON without the opening brace, so the script can put seq first. */
export interface PendingEvent {
  body: string;
  sampleable: boolean;
}

export interface LoadedRoom {
  epoch: string;
  seq: number;
  state: Record<string, string>;
  muted: Record<string, string>;
  /** Oldest first. */
  recent: { seq: number; frame: string }[];
}

const newEpoch = () => randomBytes(6).toString("base64url");
const pairsToRecord = (flat: string[]) => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
};

/** Channel payloads: E<epoch>\n<frame>\n<frame>... events, S<frame> state push, C<json> control. */
export const CHANNEL_EVENTS = "E";
export const CHANNEL_STATE = "S";
export const CHANNEL_CONTROL = "C";

export function createRoomStore(redis: Redis, keys: RedisKeys, metrics: Metrics, opts: { maxLen: number; ttlSec: number }) {
  const r = redis as ScriptRedis;
  if (!("pinliveAppend" in redis)) {
    redis.defineCommand("pinliveAppend", { numberOfKeys: 5, lua: APPEND });
    redis.defineCommand("pinliveLoad", { numberOfKeys: 5, lua: LOAD });
    redis.defineCommand("pinliveSetState", { numberOfKeys: 2, lua: SET_STATE });
    redis.defineCommand("pinliveCounts", { numberOfKeys: 6, lua: COUNTS });
    redis.defineCommand("pinliveSetMute", { numberOfKeys: 2, lua: SET_MUTE });
    redis.defineCommand("pinliveRotateEpoch", { numberOfKeys: 1, lua: ROTATE_EPOCH });
  }
  const k = keys.room;
  const ttlMs = opts.ttlSec * 1000;

  async function timed<T>(op: string, run: () => Promise<T>): Promise<T> {
    const end = metrics.redisLatency.startTimer({ op });
    try {
      return await run();
    } finally {
      end();
    }
  }

  return {
    channel: k.channel,

    /** Sequences, stores and publishes events in order; returns the 0-based indices dropped by the budget. */
    async append(roomId: string, events: PendingEvent[], budgetPerSec: number) {
      const args: (string | number)[] = [
        k.epoch(roomId),
        k.seq(roomId),
        k.events(roomId),
        k.budget(roomId),
        k.channel(roomId),
        newEpoch(),
        opts.maxLen,
        ttlMs,
        budgetPerSec,
      ];
      for (const e of events) args.push(e.sampleable ? "1" : "0", e.body);
      const out = await timed("append", () => r.pinliveAppend(...args));
      return {
        epoch: String(out[0]),
        firstSeq: Number(out[1]),
        rejected: out.slice(2).map((i) => Number(i) - 1),
      };
    },

    async load(roomId: string, recentCount: number): Promise<LoadedRoom> {
      const [epoch, seq, state, muted, recent] = await timed("load", () =>
        r.pinliveLoad(k.epoch(roomId), k.seq(roomId), k.events(roomId), k.state(roomId), k.muted(roomId), newEpoch(), recentCount, ttlMs),
      );
      return {
        epoch,
        seq: Number(seq),
        state: pairsToRecord(state),
        muted: pairsToRecord(muted),
        recent: recent.reverse().map(([id, fields]) => ({ seq: parseInt(id, 10), frame: fields[1]! })),
      };
    },

    /** Events with fromSeq <= seq <= toSeq, oldest first (fewer when the stream was trimmed). */
    async range(roomId: string, fromSeq: number, toSeq: number | "+") {
      const rows = await timed("range", () =>
        redis.xrange(k.events(roomId), `${fromSeq}-1`, toSeq === "+" ? "+" : `${toSeq}-1`),
      );
      return rows.map(([id, fields]) => ({ seq: parseInt(id, 10), frame: fields[1]! }));
    },

    /** Saves one state field (empty value deletes it) and pushes `frame` to every node's room. */
    async setState(roomId: string, field: string, value: string, frame: string) {
      await timed("state", () =>
        r.pinliveSetState(k.state(roomId), k.channel(roomId), field, value, CHANNEL_STATE + frame, ttlMs),
      );
    },

    async setMute(roomId: string, userId: string, untilMs: number) {
      const control = JSON.stringify({ kind: "mute", userId, until: untilMs });
      await timed("mute", () =>
        r.pinliveSetMute(k.muted(roomId), k.channel(roomId), userId, untilMs, CHANNEL_CONTROL + control, ttlMs),
      );
    },

    /** Reports this node's viewers and likes and keeps the room's keys alive; returns the room's totals and position. */
    async counts(roomId: string, nodeId: string, localViewers: number, staleAfterMs: number, likeDelta: number) {
      const [viewers, likes, epoch, seq] = await timed("counts", () =>
        r.pinliveCounts(
          k.viewers(roomId),
          k.state(roomId),
          k.muted(roomId),
          k.epoch(roomId),
          k.seq(roomId),
          k.events(roomId),
          nodeId,
          localViewers,
          staleAfterMs,
          likeDelta,
          ttlMs,
        ),
      );
      return { viewers: Number(viewers), likes: Number(likes), epoch: epoch ?? null, seq: Number(seq) };
    },

    /** Voids every position under `epoch` (after a seq went backwards); no-op if it already changed. */
    async rotateEpoch(roomId: string, epoch: string) {
      await timed("rotate", () => r.pinliveRotateEpoch(k.epoch(roomId), epoch, newEpoch()));
    },
  };
}

export type RoomStore = ReturnType<typeof createRoomStore>;
