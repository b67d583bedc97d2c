import { randomBytes } from "node:crypto";
import type { RedisClient } from "../redis/connect.js";
import type { RedisKeys } from "../redis/keys.js";
import type { Metrics } from "../metrics.js";
import type { PendingEvent, PresenceReport, StoredEvent } from "./broker/broker.js";

/**
 * The Redis broker's commands: one Lua script per room operation, each on the room's keys only (one
 * hash tag, so one slot on Redis Cluster). Events get gap-free increasing seqs within an epoch, are
 * stored (bounded) and published in that order by one atomic script; a lost sequence (keys gone)
 * always comes back under a new epoch, never reusing an old (epoch, seq).
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

// KEYS: viewers state muted epoch seq events stats people presence. ARGV: nodeId anonymous staleAfterMs
// likeDelta ttlMs commentDelta bucketMs full nJoined then joined userIds, then left userIds.
// A node's share of the room: its anonymous connections and expiry in viewers, its people in presence
// ("<node>\t<user>", read by name range), each person's node count in people (so a person counts once).
// A node that stops reporting is dropped by the next report of any node. Keeps every key of an open room
// alive, and the first report of each stats bucket (by Redis's clock, whichever node sends it) records the
// room's totals then: one writer per bucket. Returns {viewers, likes, epoch or false, seq, resend}.
const COUNTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[5])
local node = ARGV[1]
local function drop(n)
  local from, to = '[' .. n .. '\\t', '(' .. n .. '\\n'
  local members = redis.call('ZRANGEBYLEX', KEYS[9], from, to)
  for i = 1, #members do
    local user = string.sub(members[i], #n + 2)
    if redis.call('HINCRBY', KEYS[8], user, -1) <= 0 then redis.call('HDEL', KEYS[8], user) end
  end
  if #members > 0 then redis.call('ZREMRANGEBYLEX', KEYS[9], from, to) end
  redis.call('HDEL', KEYS[1], n)
end
local resend = 0
local nJoined = tonumber(ARGV[9])
local here = {}
if ARGV[8] == '1' then
  -- Full: joined is everyone here; only what differs from what the node said before is written.
  for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[9], '[' .. node .. '\\t', '(' .. node .. '\\n')) do here[string.sub(m, #node + 2)] = true end
  local wanted = {}
  for i = 10, 9 + nJoined do wanted[ARGV[i]] = true end
  for user in pairs(here) do
    if not wanted[user] then
      redis.call('ZREM', KEYS[9], node .. '\\t' .. user)
      if redis.call('HINCRBY', KEYS[8], user, -1) <= 0 then redis.call('HDEL', KEYS[8], user) end
    end
  end
elseif redis.call('HEXISTS', KEYS[1], node) == 0 then
  resend = 1
end
for i = 10, 9 + nJoined do
  if not here[ARGV[i]] and redis.call('ZADD', KEYS[9], 0, node .. '\\t' .. ARGV[i]) == 1 then redis.call('HINCRBY', KEYS[8], ARGV[i], 1) end
end
for i = 10 + nJoined, #ARGV do
  if redis.call('ZREM', KEYS[9], node .. '\\t' .. ARGV[i]) == 1 then
    if redis.call('HINCRBY', KEYS[8], ARGV[i], -1) <= 0 then redis.call('HDEL', KEYS[8], ARGV[i]) end
  end
end
local anonymous = tonumber(ARGV[2])
if anonymous > 0 or #redis.call('ZRANGEBYLEX', KEYS[9], '[' .. node .. '\\t', '(' .. node .. '\\n', 'LIMIT', 0, 1) > 0 then
  redis.call('HSET', KEYS[1], node, anonymous .. ':' .. (now + tonumber(ARGV[3])))
else
  drop(node)
  resend = 0
end
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local c, e = string.match(all[i + 1], '^(%d+):(%d+)$')
  if (not e) or tonumber(e) < now then drop(all[i]) else total = total + tonumber(c) end
end
total = total + redis.call('HLEN', KEYS[8])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[8], ttl)
redis.call('PEXPIRE', KEYS[9], ttl)
local likes
if tonumber(ARGV[4]) > 0 then
  likes = redis.call('HINCRBY', KEYS[2], 'likes', ARGV[4])
else
  likes = tonumber(redis.call('HGET', KEYS[2], 'likes') or '0')
end
local comments
if tonumber(ARGV[6]) > 0 then
  comments = redis.call('HINCRBY', KEYS[2], 'comments', ARGV[6])
else
  comments = tonumber(redis.call('HGET', KEYS[2], 'comments') or '0')
end
redis.call('PEXPIRE', KEYS[2], ttl)
if redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], ttl) end
for k = 4, 6 do redis.call('PEXPIRE', KEYS[k], ttl) end
local bucketMs = tonumber(ARGV[7])
redis.call('HSETNX', KEYS[7], now - (now % bucketMs), total .. ':' .. likes .. ':' .. comments)
redis.call('PEXPIRE', KEYS[7], ttl)
return {total, likes, redis.call('GET', KEYS[4]), tonumber(redis.call('GET', KEYS[5]) or '0'), resend}
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

type ScriptRedis = {
  pinliveAppend(...args: (string | number)[]): Promise<(string | number)[]>;
  pinliveLoad(...args: (string | number)[]): Promise<[string, string, string[], string[], [string, string[]][] | null]>;
  pinliveSetState(...args: (string | number)[]): Promise<number>;
  pinliveCounts(...args: (string | number)[]): Promise<[number, number, string | null, number, number]>;
  pinliveSetMute(...args: (string | number)[]): Promise<number>;
  pinliveRotateEpoch(...args: (string | number)[]): Promise<number>;
};

/** A room's data as the load script reads it: the state and mute hashes as stored. */
export interface LoadedRoom {
  epoch: string;
  seq: number;
  state: Record<string, string>;
  muted: Record<string, string>;
  /** Oldest first. */
  recent: StoredEvent[];
}

const newEpoch = () => randomBytes(6).toString("base64url");
const pairsToRecord = (flat: string[]) => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
};
const nowMs = ([seconds, micros]: [string, string]) => Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);

/** Channel payloads: E<epoch>\n<frame>\n<frame>... events, S<frame> state push, C<json> control. */
export const CHANNEL_EVENTS = "E";
export const CHANNEL_STATE = "S";
export const CHANNEL_CONTROL = "C";

export function createRoomStore(redis: RedisClient, keys: RedisKeys, metrics: Metrics, opts: { maxLen: number; ttlSec: number; statsBucketMs: number }) {
  const r = redis as RedisClient & ScriptRedis;
  if (!("pinliveAppend" in redis)) {
    redis.defineCommand("pinliveAppend", { numberOfKeys: 5, lua: APPEND });
    redis.defineCommand("pinliveLoad", { numberOfKeys: 5, lua: LOAD });
    redis.defineCommand("pinliveSetState", { numberOfKeys: 2, lua: SET_STATE });
    redis.defineCommand("pinliveCounts", { numberOfKeys: 9, lua: COUNTS });
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

  /** Reads one room's counts as the counts script sums them (a node past its expiry does not count). */
  function peekOne(id: string, now: number, perNode: Record<string, string>, people: number, likes: string | null) {
    let anonymous = 0;
    let live = false;
    for (const entry of Object.values(perNode)) {
      const m = /^(\d+):(\d+)$/.exec(entry);
      if (m && Number(m[2]) >= now) {
        live = true;
        anonymous += Number(m[1]);
      }
    }
    // With no node left, people still listed belong to nodes that stopped without withdrawing.
    return [id, { viewers: live ? people + anonymous : 0, likes: Number(likes ?? 0) }] as const;
  }

  return {
    channel: k.channel,

    /** Sequences, stores and publishes events in order; returns the 0-based indices dropped by the budget. */
    async append(roomId: string, events: readonly PendingEvent[], budgetPerSec: number) {
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
        recent: (recent ?? []).reverse().map(([id, fields]) => ({ seq: parseInt(id, 10), frame: fields[1]! })),
      };
    },

    /** Events with fromSeq <= seq <= toSeq, oldest first (fewer when the stream was trimmed). */
    async range(roomId: string, fromSeq: number, toSeq: number | "+"): Promise<StoredEvent[]> {
      const rows = await timed("range", () => redis.xrange(k.events(roomId), `${fromSeq}-1`, toSeq === "+" ? "+" : `${toSeq}-1`));
      return rows.map(([id, fields]) => ({ seq: parseInt(id, 10), frame: fields[1]! }));
    },

    /** Saves one state field as stored (empty value deletes it) and pushes `frame` to every node's room. */
    async setState(roomId: string, field: string, value: string, frame: string) {
      await timed("state", () => r.pinliveSetState(k.state(roomId), k.channel(roomId), field, value, CHANNEL_STATE + frame, ttlMs));
    },

    /** Saves the room's own sensitive words and tells every node's room (hosts only, not viewers). */
    async setWords(roomId: string, words: readonly string[]) {
      const control = JSON.stringify({ kind: "words", words });
      await timed("state", () =>
        r.pinliveSetState(k.state(roomId), k.channel(roomId), "words", JSON.stringify(words), CHANNEL_CONTROL + control, ttlMs),
      );
    },

    async setMute(roomId: string, userId: string, untilMs: number) {
      const control = JSON.stringify({ kind: "mute", userId, until: untilMs });
      await timed("mute", () => r.pinliveSetMute(k.muted(roomId), k.channel(roomId), userId, untilMs, CHANNEL_CONTROL + control, ttlMs));
    },

    /**
     * Applies one node's report (people, anonymous connections, likes and comments), keeps the room's
     * keys alive (the first report of a stats bucket records its point); returns the room's totals and position.
     */
    async counts(roomId: string, report: PresenceReport) {
      const [viewers, likes, epoch, seq, resend] = await timed("counts", () =>
        r.pinliveCounts(
          k.viewers(roomId),
          k.state(roomId),
          k.muted(roomId),
          k.epoch(roomId),
          k.seq(roomId),
          k.events(roomId),
          k.stats(roomId),
          k.people(roomId),
          k.presence(roomId),
          report.nodeId,
          report.anonymous,
          report.staleAfterMs,
          report.likes,
          ttlMs,
          report.comments,
          opts.statsBucketMs,
          report.full ? "1" : "0",
          report.joined.length,
          ...report.joined,
          ...report.left,
        ),
      );
      return { viewers: Number(viewers), likes: Number(likes), epoch: epoch ?? null, seq: Number(seq), resend: Number(resend) === 1 };
    },

    /**
     * The viewers and likes of many rooms, summed as the counts script sums them; read-only. One
     * pipeline on a single Redis; on a cluster, one per room (a room's keys share a slot, rooms do not).
     */
    async peekCounts(roomIds: readonly string[]): Promise<Map<string, { viewers: number; likes: number }>> {
      const out = new Map<string, { viewers: number; likes: number }>();
      if (roomIds.length === 0) return out;
      const groups = "nodes" in redis ? roomIds.map((id) => [id]) : [roomIds];
      await Promise.all(
        groups.map(async (ids) => {
          const pipeline = redis.pipeline();
          for (const id of ids) pipeline.time().hgetall(k.viewers(id)).hlen(k.people(id)).hget(k.state(id), "likes");
          const replies = (await timed("peek", () => pipeline.exec())) ?? [];
          const failed = replies.find(([err]) => err);
          if (failed) throw failed[0]!;
          ids.forEach((id, i) => {
            const at = (j: number) => replies[4 * i + j]![1];
            const [key, value] = peekOne(id, nowMs(at(0) as [string, string]), (at(1) ?? {}) as Record<string, string>, Number(at(2) ?? 0), at(3) as string | null);
            out.set(key, value);
          });
        }),
      );
      return out;
    },

    /** Voids every position under `epoch` (after a seq went backwards); no-op if it already changed. */
    async rotateEpoch(roomId: string, epoch: string) {
      await timed("rotate", () => r.pinliveRotateEpoch(k.epoch(roomId), epoch, newEpoch()));
    },
  };
}

export type RoomStore = ReturnType<typeof createRoomStore>;
