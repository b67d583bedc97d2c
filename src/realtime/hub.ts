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
  type Reply,
  type Role,
  type RoomState,
  type StatePush,
  type UnsequencedEvent,
} from "../protocol/messages.js";
import type { Identity } from "../auth/identity.js";
import { AppendQueue, type AppendResult } from "./append-queue.js";
import type { RoomBroker, RoomCounts } from "./broker/broker.js";
import type { EventEntry, FanoutSink, RoomClient } from "./client.js";
import type { CommentCleaner, CommentRules } from "./comment-rules.js";
import type { LiveSessions } from "./ended-sessions.js";
import { newCommentId } from "./event-ids.js";
import type { RoomBans } from "./room-bans.js";
import { LocalRoom, parseEventFrame, type StreamInfo } from "./room.js";
import { RoomFeed } from "./room-feed.js";
import { startTicker, type Ticker } from "./ticker.js";
import { KeyedLimiter } from "./token-bucket.js";
import { withTimeout } from "../unavailable.js";

/** What the hub needs to know about streams; the database answers. */
export interface StreamDirectory {
  /** `sensitiveWords`: the host's own list as stored, used until the room's broker state has one. */
  find(id: string): Promise<(StreamInfo & { status: "idle" | "live" | "ended"; sensitiveWords?: readonly string[] }) | null>;
  setStatus(id: string, status: "idle" | "live" | "ended"): Promise<void>;
}

export interface HubDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Sequence, history, state and counts shared by every node; the hub talks to nothing else. */
  broker: RoomBroker;
  streams: StreamDirectory;
  rules: CommentRules;
  /** Closes members whose session ends (signed out, expired, account changed). */
  sessions?: LiveSessions;
  /** Bans and kicks (room-bans.ts): closes banned members, refuses their comments and likes. */
  bans?: RoomBans;
}

/** What a command succeeds with (failures are thrown as AppError). */
export type CommandReply = Exclude<Reply, { type: "error" }>;

const RING_SIZE = 512;
const OPEN_TIMEOUT_MS = 10_000;
/** Likes one command may carry at most (the protocol's limit): a user's bucket holds at least this many. */
const MAX_LIKES_PER_COMMAND = 100;

export const batchFrame = (epoch: string, entries: readonly EventEntry[]) =>
  `{"type":"batch","epoch":${JSON.stringify(epoch)},"events":[${entries.map((e) => e.frame).join(",")}]}`;

export function roleOf(identity: Identity | null, stream: StreamInfo): Role | null {
  if (!identity) return null;
  if (identity.admin) return "admin";
  return identity.userId === stream.hostId ? "host" : "viewer";
}

/**
 * The live-room hub of one node. Rooms are shared by all nodes through the broker: events are
 * sequenced and published once per room per tick, every node (this one too) delivers what the
 * room's subscription carries, in seq order, once, serialized once per room.
 */
export class Hub {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly opening = new Map<string, Promise<LocalRoom>>();
  private readonly sinks: FanoutSink[] = [];
  private readonly commentLimiter: KeyedLimiter;
  /** One bucket per user, whatever their sockets. */
  private readonly likeLimiter: KeyedLimiter;
  private readonly clientRoom = new WeakMap<RoomClient, LocalRoom>();
  private readonly joining = new WeakMap<RoomClient, Promise<void>>();
  /** Each room's rules, compiled again only when its words change. */
  private readonly roomRules = new WeakMap<LocalRoom, { words: readonly string[]; rules: CommentCleaner }>();
  private timers: NodeJS.Timeout[] = [];
  private ticker: Ticker | null = null;
  private readonly log: Logger;
  private readonly feed: RoomFeed;
  private readonly appends: AppendQueue;

  constructor(private readonly deps: HubDeps) {
    this.log = deps.log.child({ part: "hub" });
    this.commentLimiter = new KeyedLimiter(deps.config.comments.ratePerSec, deps.config.comments.burst);
    const likesPerSec = deps.config.hub.likesPerSecPerUser;
    this.likeLimiter = new KeyedLimiter(likesPerSec, Math.max(likesPerSec, MAX_LIKES_PER_COMMAND));
    this.feed = new RoomFeed(deps.broker, this.sinks, this.log, RING_SIZE);
    this.appends = new AppendQueue({
      broker: deps.broker,
      metrics: deps.metrics,
      log: this.log,
      budgetPerSec: deps.config.hub.readableCommentsPerSec,
      sequencedComments: (roomId, n) => this.rooms.get(roomId)?.presence.addComments(n),
    });
  }

  addSink(sink: FanoutSink) {
    this.sinks.push(sink);
  }

  start() {
    const { tickMs, countsIntervalMs } = this.deps.config.hub;
    this.ticker = startTicker(tickMs, () => void this.appends.flush());
    this.timers.push(setInterval(() => this.reportCounts(), countsIntervalMs));
  }

  /** Flushes queued events, closes every room here and withdraws this node's viewers. */
  async stop() {
    this.ticker?.stop();
    this.ticker = null;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.appends.flush();
    await Promise.allSettled([...this.rooms.values()].map((r) => this.close(r)));
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
    if (room.life.closed) return this.enter(client, streamId, position);
    room.presence.add(client);
    this.clientRoom.set(client, room);
    this.deps.sessions?.track(client);
    this.deps.bans?.track(client, room.stream.id); // hook: bans
    client.role = roleOf(client.identity, room.stream);
    this.deps.metrics.connections.inc({ transport: client.transport });

    let missed: EventEntry[] | null = null;
    if (position && position.epoch === room.epoch) {
      missed = room.eventsAfter(position.seq);
      if (missed === null) {
        const stored = await this.missedFromHistory(room, position.seq);
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
    this.deps.sessions?.untrack(client);
    this.deps.bans?.untrack(client); // hook: bans
    if (room.presence.remove(client, Date.now())) this.deps.metrics.connections.dec({ transport: client.transport });
  }

  /** Runs one client command. Throws AppError for anything the client did wrong. */
  async handle(client: RoomClient, cmd: ClientCommand): Promise<CommandReply> {
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
    // hook: bans — a banned user's comments and likes are refused (its sockets are being closed).
    if ((cmd.type === "comment" || cmd.type === "like") && this.deps.bans?.isBanned(id, who.userId, now)) throw new AppError("BANNED");
    switch (cmd.type) {
      case "comment": {
        if (room.isMuted(who.userId, now)) throw new AppError("MUTED");
        const privileged = client.role !== "viewer";
        if (!privileged && room.state.slowModeSec > 0) {
          const last = room.lastCommentAt(who.userId);
          if (last !== undefined && now - last < room.state.slowModeSec * 1000) {
            this.deps.metrics.dropped.inc({ reason: "slow_mode" });
            throw new AppError("SLOW_MODE", `Slow mode: one comment every ${room.state.slowModeSec} s.`);
          }
        }
        if (!privileged && !this.commentLimiter.take(who.userId, now)) {
          this.deps.metrics.dropped.inc({ reason: "rate_limited" });
          throw new AppError("RATE_LIMITED");
        }
        const { content, masked } = this.rulesOf(room).clean(cmd.comment.content);
        if (masked) this.deps.metrics.dropped.inc({ reason: "filtered" });
        room.noteComment(who.userId, now);
        const comment: Comment = {
          id: newCommentId(),
          userId: who.userId,
          username: who.username,
          content,
          timestamp: now,
          role: client.role ?? "viewer",
        };
        const result = await this.appends.add(id, { type: "comment", comment }, !privileged);
        if ("sampled" in result) {
          client.send(JSON.stringify({ type: "comment", sampled: true, comment }));
          return { type: "ack", id: cmd.id, sampled: true };
        }
        return { type: "ack", id: cmd.id, seq: result.seq };
      }
      case "like": {
        if (!this.likeLimiter.take(who.userId, now, cmd.count)) {
          this.deps.metrics.dropped.inc({ reason: "rate_limited" });
          throw new AppError("RATE_LIMITED");
        }
        room.presence.addLikes(cmd.count);
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
        await this.deps.broker.setMute(id, cmd.userId, now + cmd.durationSec * 1000);
        return { type: "ack", id: cmd.id };
      case "unmute":
        await this.deps.broker.setMute(id, cmd.userId, 0);
        return { type: "ack", id: cmd.id };
      case "delete_comment": {
        const result: AppendResult = await this.appends.add(id, { type: "comment_deleted", commentId: cmd.commentId }, false);
        return { type: "ack", id: cmd.id, seq: "seq" in result ? result.seq : undefined };
      }
    }
  }

  /** Publishes an event to a room from anywhere (HTTP, jobs); never sampled. Resolves with its seq. */
  async publish(roomId: string, event: UnsequencedEvent): Promise<number> {
    const result = await this.appends.add(roomId, event, false);
    if (!("seq" in result)) throw new Error("unsampled event was sampled");
    return result.seq;
  }

  /** Replaces a room's own sensitive words on every node; the caller stores them in PostgreSQL first. */
  async setWords(roomId: string, words: readonly string[]) {
    await this.deps.broker.setWords(roomId, words);
  }

  private rulesOf(room: LocalRoom): CommentCleaner {
    const cached = this.roomRules.get(room);
    if (cached?.words === room.words) return cached.rules;
    const rules = this.deps.rules.withWords(room.words);
    this.roomRules.set(room, { words: room.words, rules });
    return rules;
  }

  /** Saves a piece of room state and pushes it to the room on every node (from HTTP and jobs too). */
  async setState<K extends keyof RoomState>(roomId: string, field: K, value: RoomState[K], push: StatePush) {
    await this.deps.broker.setState(roomId, field, value, push);
  }

  private open(streamId: string): Promise<LocalRoom> {
    const existing = this.rooms.get(streamId);
    // A room catching up (filling a gap, resyncing) is still the room: opening another one would
    // orphan its members. Joiners get its snapshot now and the catch-up's pushes after.
    if (existing?.life.usable) return Promise.resolve(existing);
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
    const info = { id: stream.id, title: stream.title, hostId: stream.hostId };
    const room = new LocalRoom(info, RING_SIZE, cfg.recentComments, { now: Date.now(), words: stream.sensitiveWords });
    this.rooms.set(streamId, room);
    try {
      await this.feed.open(room, OPEN_TIMEOUT_MS);
    } catch (err) {
      if (this.rooms.get(streamId) === room) this.rooms.delete(streamId);
      throw err;
    }
    this.deps.metrics.rooms.set(this.rooms.size);
    return room;
  }

  /** Closes a room here: leaves its subscription and withdraws this node's viewers, likes and comments. */
  private async close(room: LocalRoom) {
    if (this.rooms.get(room.stream.id) === room) this.rooms.delete(room.stream.id);
    this.deps.metrics.rooms.set(this.rooms.size);
    // The withdrawal goes out now, ahead of any report of a room opened here after this one.
    const done = await Promise.allSettled([this.feed.close(room), this.deps.broker.report(room.stream.id, room.presence.finalReport(this.deps.config.nodeId))]);
    for (const r of done) if (r.status === "rejected") this.log.warn({ err: r.reason as unknown, roomId: room.stream.id }, "room cleanup failed");
  }

  /**
   * Conflated counts: each node reports its people, anonymous viewers, likes and sequenced comments
   * (one broker call per room per interval); changed totals go to local viewers. A room empty here
   * for a whole interval closes.
   */
  private reportCounts() {
    const now = Date.now();
    const { countsIntervalMs } = this.deps.config.hub;
    this.commentLimiter.sweep(now);
    this.likeLimiter.sweep(now);
    for (const room of this.rooms.values()) {
      if (!room.life.usable) continue;
      if (room.presence.size === 0 && room.presence.emptyFor(now) >= countsIntervalMs) {
        void this.close(room);
        continue;
      }
      room.sweepComments(now);
      const report = room.presence.takeReport(this.deps.config.nodeId, countsIntervalMs * 3);
      this.deps.broker
        .report(room.stream.id, report)
        .then(
          (counts) => {
            room.presence.reported(report, counts);
            this.applyCounts(room, counts);
          },
          (err: unknown) => {
            room.presence.reported(report, null);
            this.log.warn({ err, roomId: room.stream.id }, "counts report failed");
          },
        )
        .catch((err: unknown) => this.log.error({ err, roomId: room.stream.id }, "counts not applied"));
    }
  }

  private applyCounts(room: LocalRoom, counts: RoomCounts) {
    if (room.life.closed) return;
    const changedViewers = counts.viewers !== room.viewerCount;
    const changedLikes = counts.likes !== room.likeCount;
    room.setCounts(counts.viewers, counts.likes);
    if (changedViewers) this.pushAll(room, { type: "viewer_count", count: counts.viewers });
    if (changedLikes) this.pushAll(room, { type: "like_count", count: counts.likes });
    this.feed.checkPosition(room, counts);
  }

  private pushAll(room: LocalRoom, message: { type: string; [k: string]: unknown }) {
    this.feed.pushAll(room, JSON.stringify(message));
  }

  private async missedFromHistory(room: LocalRoom, seq: number): Promise<EventEntry[] | null> {
    try {
      const rows = await this.deps.broker.history(room.stream.id, seq + 1, room.lastSeq);
      if (rows[0]?.seq !== seq + 1) return null;
      const entries = rows.map((r) => parseEventFrame(r.frame)).filter((e): e is EventEntry => e !== null);
      return entries.length === rows.length ? entries : null;
    } catch (err) {
      this.log.warn({ err, roomId: room.stream.id }, "recovery read failed");
      return null;
    }
  }
}
