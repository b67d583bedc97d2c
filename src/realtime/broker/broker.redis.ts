import type { Logger } from "../../log.js";
import { StatePush, type RoomState } from "../../protocol/messages.js";
import { onResubscribed, type RedisClient } from "../../redis/connect.js";
import { CHANNEL_CONTROL, CHANNEL_EVENTS, CHANNEL_STATE, type LoadedRoom, type RoomStore } from "../room-store.redis.js";
import type { RoomBroker, RoomMessage, RoomSubscriber, StoredRoom, Subscription } from "./broker.js";
import { decodeState, encodeStateValue } from "./room-state.codec.js";

export interface RedisBrokerDeps {
  /** The room scripts, on the command connection. */
  store: RoomStore;
  /** A connection used for the rooms' sharded subscriptions (SSUBSCRIBE); may be shared with other channels. */
  subscriber: RedisClient;
  log: Logger;
}

/** Parses one channel payload; null for anything unknown or malformed. */
export function decodeChannelMessage(payload: string): RoomMessage | null {
  const kind = payload[0];
  if (kind === CHANNEL_EVENTS) {
    const nl = payload.indexOf("\n");
    if (nl < 0) return null;
    return { kind: "events", epoch: payload.slice(1, nl), frames: payload.slice(nl + 1).split("\n") };
  }
  const json = parseJson(payload.slice(1));
  if (kind === CHANNEL_STATE) {
    const parsed = StatePush.safeParse(json);
    return parsed.success ? { kind: "state", push: parsed.data, frame: payload.slice(1) } : null;
  }
  if (kind !== CHANNEL_CONTROL || typeof json !== "object" || json === null) return null;
  const c = json as { kind?: unknown; userId?: unknown; until?: unknown; words?: unknown };
  if (c.kind === "words" && Array.isArray(c.words)) return { kind: "words", words: c.words.filter((w): w is string => typeof w === "string") };
  if (c.kind === "mute" && typeof c.userId === "string" && typeof c.until === "number") return { kind: "mute", userId: c.userId, until: c.until };
  return null;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function storedRoom(loaded: LoadedRoom): StoredRoom {
  const words = parseJson(loaded.state.words ?? "");
  return {
    epoch: loaded.epoch,
    seq: loaded.seq,
    state: decodeState(loaded.state),
    likes: Number(loaded.state.likes ?? 0) || 0,
    words: Array.isArray(words) ? words.filter((w): w is string => typeof w === "string") : null,
    muted: new Map(Object.entries(loaded.muted).map(([u, until]) => [u, Number(until)])),
    recent: loaded.recent,
  };
}

/**
 * The broker on Redis (a single server or a cluster): the room scripts of `room-store.redis.ts` and
 * one sharded channel per room. Pub/sub is at most once; a reconnect of the subscriber (ioredis
 * subscribes again by itself) tells every subscription it may have missed messages.
 */
export function createRedisBroker(deps: RedisBrokerDeps): RoomBroker {
  const { store, subscriber, log } = deps;
  /** Per channel: its subscribers and the SSUBSCRIBE they all wait for. */
  const channels = new Map<string, { subs: Set<RoomSubscriber>; subscribed: Promise<void> }>();

  subscriber.on("smessage", (channel: string, payload: string) => {
    const subs = channels.get(channel)?.subs;
    if (!subs) return;
    const message = decodeChannelMessage(payload);
    if (!message) return log.warn({ channel }, "unreadable room message");
    for (const s of subs) {
      try {
        s.message(message);
      } catch (err) {
        log.error({ err, channel }, "room subscriber failed");
      }
    }
  });
  // Ready before the broker existed: every later "ready" is a reconnect (on a cluster also a
  // shard's subscriber made again after a failover).
  let wasReady = subscriber.status === "ready";
  onResubscribed(subscriber, () => {
    if (!wasReady) return void (wasReady = true);
    for (const { subs } of channels.values()) for (const s of subs) s.missed();
  });

  return {
    append: (roomId, events, budgetPerSec) => store.append(roomId, events, budgetPerSec),

    async subscribe(roomId: string, subscriber_: RoomSubscriber): Promise<Subscription> {
      const name = store.channel(roomId);
      let channel = channels.get(name);
      if (!channel) {
        const subs = new Set<RoomSubscriber>();
        channels.set(name, (channel = { subs, subscribed: subscriber.ssubscribe(name).then(() => undefined) }));
        // A failed subscribe leaves no entry behind: the next subscriber tries again.
        channel.subscribed.catch(() => channels.get(name)?.subs === subs && channels.delete(name));
      }
      const { subs, subscribed } = channel;
      subs.add(subscriber_);
      try {
        await subscribed;
      } catch (err) {
        subs.delete(subscriber_);
        throw err;
      }
      return {
        async close() {
          if (!subs.delete(subscriber_) || subs.size > 0 || channels.get(name)?.subs !== subs) return;
          channels.delete(name);
          await subscriber.sunsubscribe(name);
        },
      };
    },

    load: async (roomId, recentCount) => storedRoom(await store.load(roomId, recentCount)),
    history: (roomId, fromSeq, toSeq) => store.range(roomId, fromSeq, toSeq),

    async setState<K extends keyof RoomState>(roomId: string, field: K, value: RoomState[K], push: StatePush) {
      await store.setState(roomId, field, encodeStateValue(value), JSON.stringify(push));
    },

    setWords: (roomId, words) => store.setWords(roomId, words),
    setMute: (roomId, userId, untilMs) => store.setMute(roomId, userId, untilMs),
    report: (roomId, report) => store.counts(roomId, report),
    peekCounts: (roomIds) => store.peekCounts(roomIds),
    rotateEpoch: (roomId, epoch) => store.rotateEpoch(roomId, epoch),
  };
}
