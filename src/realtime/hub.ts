import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { AppError } from "../protocol/errors.js";
import {
  HOST_COMMANDS,
  type Bubble,
  type ClientCommand,
  type Comment,
  type Pin,
  type Position,
  type Role,
  type StatePush,
  type UnsequencedEvent,
} from "../protocol/messages.js";
import type { EventEntry, FanoutSink, Identity, RoomClient } from "./client.js";
import type { CommentRules } from "./comment-rules.js";
import { LocalRoom, parseEventFrame, type StreamInfo } from "./room.js";
import { RoomFeed } from "./room-feed.js";
import type { RoomStore } from "./room-store.redis.js";
import { KeyedLimiter, TokenBucket } from "./token-bucket.js";

/** What the hub needs to know about streams; the database answers. */
export interface StreamDirectory {
  find(id: string): Promise<(StreamInfo & { status: "idle" | "live" | "ended" }) | null>;
  setStatus(id: string, status: "idle" | "live" | "ended"): Promise<void>;
}

export interface HubDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  store: RoomStore;
  /** A connection used only for the rooms' sharded subscriptions. */
  subscriber: Redis;
  streams: StreamDirectory;
  rules: CommentRules;
}

export type Reply = { type: "ack"; id?: string; seq?: number; sampled?: boolean } | { type: "pong"; id?: string };

interface Pending {
  body: string;
  sampleable: boolean;
  done(result: { seq: number } | { sampled: true }): void;
  fail(error: unknown): void;
}

const RING_SIZE = 512;
const OPEN_TIMEOUT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new AppError("UNAVAILABLE", `${what} timed out`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
const MAX_EVENTS_PER_APPEND = 256;

/** Serializes an event once: the JSON without its opening brace, for the append script to prefix with seq. */
const eventBody = (event: UnsequencedEvent) => JSON.stringify(event).slice(1);

export const batchFrame = (epoch: string, entries: readonly EventEntry[]) =>
  `{"type":"batch","epoch":${JSON.stringify(epoch)},"events":[${entries.map((e) => e.frame).join(",")}]}`;

export function roleOf(identity: Identity | null, stream: StreamInfo): Role | null {
  if (!identity) return null;
  if (identity.admin) return "admin";
  return identity.userId === stream.hostId ? "host" : "viewer";
}

/**
 * The live-room hub of one node. Rooms are shared by all nodes through Redis: events are sequenced
 * and published once per room per tick, every node (this one too) delivers what the room's channel
 * carries, in seq order, once, serialized once per room.
 */
export class Hub {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly roomsByChannel = new Map<string, LocalRoom>();
  private readonly opening = new Map<string, Promise<LocalRoom>>();
  private readonly pending = new Map<string, Pending[]>();
  private readonly sinks: FanoutSink[] = [];
  private readonly commentLimiter: KeyedLimiter;
  private readonly likeLimiters = new WeakMap<RoomClient, TokenBucket>();
  private readonly clientRoom = new WeakMap<RoomClient, LocalRoom>();
  private readonly joining = new WeakMap<RoomClient, Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  private readonly log: Logger;
  private readonly feed: RoomFeed;

  constructor(private readonly deps: HubDeps) {
    this.log = deps.log.child({ part: "hub" });
    this.commentLimiter = new KeyedLimiter(deps.config.comments.ratePerSec, deps.config.comments.burst);
    this.feed = new RoomFeed(deps.store, this.sinks, this.log, RING_SIZE);
    deps.subscriber.on("smessage", (channel: string, message: string) => this.onChannelMessage(channel, message));
    // The subscriber was ready before the hub existed: every later "ready" is a reconnect, after
    // which any room may have missed messages.
    deps.subscriber.on("ready", () => {
      for (const room of this.rooms.values()) void this.feed.resync(room);
    });
  }

  addSink(sink: FanoutSink) {
    this.sinks.push(sink);
  }

  start() {
    const { tickMs, countsIntervalMs } = this.deps.config.hub;
    this.timers.push(setInterval(() => void this.flush(), tickMs));
    this.timers.push(setInterval(() => this.reportCounts(), countsIntervalMs));
  }

  /** Flushes queued events, leaves every room's channel and withdraws this node's viewers. */
  async stop() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.flush();
    await Promise.allSettled([...this.rooms.values()].map((r) => this.dispose(r)));
  }

  get roomCount() {
    return this.rooms.size;
  }

  /** Checks the stream exists (and warms the room) before a socket is accepted. */
  async prepare(streamId: string): Promise<StreamInfo> {
    return (await this.open(streamId)).stream;
  }

  /**
   * Sends the snapshot (and, with a usable position, exactly the missed events), then starts live
   * delivery. `recovered: false` in the snapshot when the position cannot be served.
   */
  join(client: RoomClient, streamId: string, position: Position | null): Promise<void> {
    const joined = this.enter(client, streamId, position);
    this.joining.set(client, joined);
    return joined;
  }

  private async enter(client: RoomClient, streamId: string, position: Position | null): Promise<void> {
    const room = await this.open(streamId);
    if (client.closed) return;
    if (room.disposed) return this.enter(client, streamId, position);
    room.members.add(client);
    room.emptySince = null;
    this.clientRoom.set(client, room);
    client.role = roleOf(client.identity, room.stream);
    this.deps.metrics.connections.inc({ transport: client.transport });

    let missed: EventEntry[] | null = null;
    if (position && position.epoch === room.epoch) {
      missed = room.eventsAfter(position.seq);
      if (missed === null) {
        const stored = await this.missedFromStore(room, position.seq);
        if (client.closed) return;
        const tail = stored && position.epoch === room.epoch ? room.eventsAfter(stored.at(-1)?.seq ?? position.seq) : null;
        missed = stored && tail ? stored.concat(tail) : null;
      }
    }
    client.send(room.snapshotFrame(missed !== null, client));
    // Seed-protocol clients ignore the snapshot: give them the current state in their own frames.
    if (client.transport === "ws" && !client.batch) for (const frame of room.stateFrames()) client.send(frame);
    if (missed && missed.length > 0) {
      if (client.batch) client.send(batchFrame(room.epoch, missed));
      else for (const e of missed) client.send(e.frame);
    }
    client.startLive(room.stream.id);
  }

  leave(client: RoomClient) {
    const room = this.clientRoom.get(client);
    if (!room) return;
    this.clientRoom.delete(client);
    if (room.members.delete(client)) {
      this.deps.metrics.connections.dec({ transport: client.transport });
      if (room.members.size === 0) room.emptySince = Date.now();
    }
  }

  /** Runs one client command. Throws AppError for anything the client did wrong. */
  async handle(client: RoomClient, cmd: ClientCommand): Promise<Reply> {
    // Commands sent right after connecting wait for the join (in the order they came).
    await this.joining.get(client)?.catch(() => {});
    const room = this.clientRoom.get(client);
    if (!room) throw new AppError("UNAVAILABLE", "Not in a room yet.");
    if (cmd.type === "ping") return { type: "pong", id: cmd.id };
    const who = client.identity;
    if (!who) throw new AppError("AUTH_REQUIRED");
    if (HOST_COMMANDS.has(cmd.type) && client.role !== "host" && client.role !== "admin") {
      throw new AppError("FORBIDDEN");
    }
    const now = Date.now();
    const id = room.stream.id;
    switch (cmd.type) {
      case "comment": {
        if (room.isMuted(who.userId, now)) throw new AppError("MUTED");
        const privileged = client.role !== "viewer";
        if (!privileged && room.state.slowModeSec > 0) {
          const last = room.lastCommentAt.get(who.userId);
          if (last !== undefined && now - last < room.state.slowModeSec * 1000) {
            this.deps.metrics.dropped.inc({ reason: "slow_mode" });
            throw new AppError("SLOW_MODE", `Slow mode: one comment every ${room.state.slowModeSec} s.`);
          }
        }
        if (!privileged && !this.commentLimiter.take(who.userId, now)) {
          this.deps.metrics.dropped.inc({ reason: "rate_limited" });
          throw new AppError("RATE_LIMITED");
        }
        const { content, masked } = this.deps.rules.clean(cmd.comment.content);
        if (masked) this.deps.metrics.dropped.inc({ reason: "filtered" });
        room.lastCommentAt.set(who.userId, now);
        const comment: Comment = {
          id: randomBytes(9).toString("base64url"),
          userId: who.userId,
          username: who.username,
          content,
          timestamp: now,
          role: client.role ?? "viewer",
        };
        const result = await this.enqueue(id, { type: "comment", comment }, !privileged);
        if ("sampled" in result) {
          client.send(JSON.stringify({ type: "comment", sampled: true, comment }));
          return { type: "ack", id: cmd.id, sampled: true };
        }
        return { type: "ack", id: cmd.id, seq: result.seq };
      }
      case "like": {
        let bucket = this.likeLimiters.get(client);
        if (!bucket) {
          const perSec = this.deps.config.hub.likesPerSecPerSocket;
          bucket = new TokenBucket(perSec, Math.max(perSec, 100), now);
          this.likeLimiters.set(client, bucket);
        }
        if (!bucket.take(now, cmd.count)) {
          this.deps.metrics.dropped.inc({ reason: "rate_limited" });
          throw new AppError("RATE_LIMITED");
        }
        room.likeDelta += cmd.count;
        return { type: "ack", id: cmd.id };
      }
      case "product_highlight": {
        const bubble: Bubble | null = cmd.productId
          ? { productId: cmd.productId, title: cmd.title, priceFen: cmd.priceFen, imageUrl: cmd.imageUrl }
          : null;
        await this.setState(id, "bubble", bubble, { type: "product_highlight", productId: cmd.productId, product: bubble });
        return { type: "ack", id: cmd.id };
      }
      case "stream_start":
      case "stream_end": {
        const status = cmd.type === "stream_start" ? "live" : "ended";
        await this.deps.streams.setStatus(id, status);
        await this.setState(id, "status", status, { type: cmd.type, streamId: id, at: now });
        return { type: "ack", id: cmd.id };
      }
      case "pin": {
        const pin: Pin | null = cmd.text ? { text: cmd.text, by: who.username, at: now } : null;
        await this.setState(id, "pinned", pin, { type: "pinned", pin });
        return { type: "ack", id: cmd.id };
      }
      case "slow_mode":
        await this.setState(id, "slowModeSec", cmd.seconds, { type: "slow_mode", seconds: cmd.seconds });
        return { type: "ack", id: cmd.id };
      case "mute":
        await this.deps.store.setMute(id, cmd.userId, now + cmd.durationSec * 1000);
        return { type: "ack", id: cmd.id };
      case "unmute":
        await this.deps.store.setMute(id, cmd.userId, 0);
        return { type: "ack", id: cmd.id };
      case "delete_comment": {
        const result = await this.enqueue(id, { type: "comment_deleted", commentId: cmd.commentId }, false);
        return { type: "ack", id: cmd.id, seq: "seq" in result ? result.seq : undefined };
      }
    }
  }

  /** Publishes an event to a room from anywhere (HTTP, jobs); never sampled. Resolves with its seq. */
  async publish(roomId: string, event: UnsequencedEvent): Promise<number> {
    const result = await this.enqueue(roomId, event, false);
    if (!("seq" in result)) throw new Error("unsampled event was sampled");
    return result.seq;
  }

  private enqueue(roomId: string, event: UnsequencedEvent, sampleable: boolean) {
    return new Promise<{ seq: number } | { sampled: true }>((done, fail) => {
      let list = this.pending.get(roomId);
      if (!list) this.pending.set(roomId, (list = []));
      list.push({ body: eventBody(event), sampleable, done, fail });
    });
  }

  /** Saves a piece of room state and pushes it to the room on every node (from HTTP and jobs too). */
  async setState(roomId: string, field: string, value: unknown, push: StatePush) {
    const stored = value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
    await this.deps.store.setState(roomId, field, stored, JSON.stringify(push));
  }

  /** One append per room with queued events: sequenced, stored and published atomically. */
  private async flush() {
    if (this.pending.size === 0) return;
    const batches = [...this.pending];
    this.pending.clear();
    // A tick never needs more sampleable comments than a whole second's budget; the script enforces the rest.
    const cap = this.deps.config.hub.readableCommentsPerSec;
    const appends: Promise<void>[] = [];
    for (const [roomId, list] of batches) {
      const kept = this.sample(list, cap);
      // Bounded frames: one append (and one published batch) per MAX_EVENTS_PER_APPEND events, issued in order.
      for (let i = 0; i < kept.length; i += MAX_EVENTS_PER_APPEND) {
        appends.push(this.flushRoom(roomId, kept.slice(i, i + MAX_EVENTS_PER_APPEND)));
      }
    }
    await Promise.all(appends);
  }

  /** Keeps at most `cap` sampleable events, chosen at random; the others are answered as sampled. */
  private sample(list: Pending[], cap: number): Pending[] {
    const sampleable = list.filter((p) => p.sampleable);
    if (sampleable.length <= cap) return list;
    for (let i = sampleable.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [sampleable[i], sampleable[j]] = [sampleable[j]!, sampleable[i]!];
    }
    const dropped = new Set(sampleable.slice(cap));
    for (const p of dropped) p.done({ sampled: true });
    this.deps.metrics.dropped.inc({ reason: "sampled" }, dropped.size);
    return list.filter((p) => !dropped.has(p));
  }

  private async flushRoom(roomId: string, list: Pending[]) {
    try {
      const { firstSeq, rejected } = await this.deps.store.append(roomId, list, this.deps.config.hub.readableCommentsPerSec);
      const out = new Set(rejected);
      let seq = firstSeq;
      list.forEach((p, i) => (out.has(i) ? p.done({ sampled: true }) : p.done({ seq: seq++ })));
      if (out.size > 0) this.deps.metrics.dropped.inc({ reason: "sampled" }, out.size);
    } catch (err) {
      this.log.error({ err, roomId }, "append failed");
      for (const p of list) p.fail(new AppError("UNAVAILABLE", "The room is unavailable; try again."));
    }
  }

  private open(streamId: string): Promise<LocalRoom> {
    const existing = this.rooms.get(streamId);
    // A room catching up after a reconnect (not ready) is still the room: opening another one would
    // orphan its members. Joiners get its snapshot now and the catch-up's pushes after.
    if (existing?.loaded && !existing.disposed) return Promise.resolve(existing);
    const opening = this.opening.get(streamId);
    if (opening) return opening;
    const p = this.load(streamId).finally(() => this.opening.delete(streamId));
    this.opening.set(streamId, p);
    return p;
  }

  private async load(streamId: string): Promise<LocalRoom> {
    const stream = await withTimeout(this.deps.streams.find(streamId), OPEN_TIMEOUT_MS, "stream lookup");
    if (!stream) throw new AppError("STREAM_NOT_FOUND");
    const cfg = this.deps.config.hub;
    const room = new LocalRoom({ id: stream.id, title: stream.title, hostId: stream.hostId }, RING_SIZE, cfg.recentComments);
    room.emptySince = Date.now();
    const channel = this.deps.store.channel(streamId);
    this.rooms.set(streamId, room);
    this.roomsByChannel.set(channel, room);
    try {
      await withTimeout(this.deps.subscriber.ssubscribe(channel), OPEN_TIMEOUT_MS, "subscribe");
      const loaded = await withTimeout(this.deps.store.load(streamId, RING_SIZE), OPEN_TIMEOUT_MS, "load");
      this.feed.adopt(room, loaded);
    } catch (err) {
      room.disposed = true;
      if (this.rooms.get(streamId) === room) this.rooms.delete(streamId);
      if (this.roomsByChannel.get(channel) === room) this.roomsByChannel.delete(channel);
      this.deps.subscriber.sunsubscribe(channel).catch(() => {});
      throw err;
    }
    this.deps.metrics.rooms.set(this.rooms.size);
    return room;
  }

  private async dispose(room: LocalRoom) {
    room.disposed = true;
    const channel = this.deps.store.channel(room.stream.id);
    if (this.rooms.get(room.stream.id) === room) this.rooms.delete(room.stream.id);
    if (this.roomsByChannel.get(channel) === room) this.roomsByChannel.delete(channel);
    this.deps.metrics.rooms.set(this.rooms.size);
    try {
      if (!this.roomsByChannel.has(channel)) await this.deps.subscriber.sunsubscribe(channel);
      await this.deps.store.counts(room.stream.id, this.deps.config.nodeId, 0, 0, room.likeDelta);
    } catch (err) {
      this.log.warn({ err, roomId: room.stream.id }, "room cleanup failed");
    }
  }

  private onChannelMessage(channel: string, message: string) {
    const room = this.roomsByChannel.get(channel);
    if (room) this.feed.receive(room, message);
  }

  /** Conflated counts: each node reports its viewers and likes; changed totals go to local viewers. */
  private reportCounts() {
    const now = Date.now();
    const { countsIntervalMs } = this.deps.config.hub;
    this.commentLimiter.sweep(now);
    for (const room of this.rooms.values()) {
      if (!room.ready) continue;
      if (room.members.size === 0 && room.emptySince !== null && now - room.emptySince >= countsIntervalMs) {
        void this.dispose(room);
        continue;
      }
      for (const [user, at] of room.lastCommentAt) if (now - at > room.state.slowModeSec * 1000) room.lastCommentAt.delete(user);
      const delta = room.likeDelta;
      room.likeDelta = 0;
      this.deps.store
        .counts(room.stream.id, this.deps.config.nodeId, room.members.size, countsIntervalMs * 3, delta)
        .then(
          (counts) => this.applyCounts(room, counts),
          (err: unknown) => {
            room.likeDelta += delta;
            this.log.warn({ err, roomId: room.stream.id }, "counts report failed");
          },
        );
    }
  }

  private applyCounts(room: LocalRoom, counts: { viewers: number; likes: number; epoch: string | null; seq: number }) {
    if (room.disposed) return;
    const changedViewers = counts.viewers !== room.viewerCount;
    const changedLikes = counts.likes !== room.likeCount;
    room.setCounts(counts.viewers, counts.likes);
    if (changedViewers) this.pushAll(room, { type: "viewer_count", count: counts.viewers });
    if (changedLikes) this.pushAll(room, { type: "like_count", count: counts.likes });
    // Still behind what Redis had a whole interval ago (a lost last message, a missed epoch): catch up.
    const prev = room.reported;
    room.reported = { epoch: counts.epoch, seq: counts.seq };
    if (!prev?.epoch || !room.ready || room.fillingGap) return;
    const behind = prev.epoch !== room.epoch ? counts.epoch === prev.epoch : room.lastSeq < prev.seq;
    if (behind) void this.feed.resync(room);
  }

  private pushAll(room: LocalRoom, message: { type: string; [k: string]: unknown }) {
    this.feed.pushAll(room, JSON.stringify(message));
  }

  private async missedFromStore(room: LocalRoom, seq: number): Promise<EventEntry[] | null> {
    try {
      const rows = await this.deps.store.range(room.stream.id, seq + 1, room.lastSeq);
      if (rows[0]?.seq !== seq + 1) return null;
      const entries = rows.map((r) => parseEventFrame(r.frame)).filter((e): e is EventEntry => e !== null);
      return entries.length === rows.length ? entries : null;
    } catch (err) {
      this.log.warn({ err, roomId: room.stream.id }, "recovery read failed");
      return null;
    }
  }
}
