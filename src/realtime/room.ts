import { RoomEvent, type RoomState, type StatePush } from "../protocol/messages.js";
import { applyStatePush } from "../protocol/client.js";
import type { StoredRoom } from "./broker/broker.js";
import { emptyRoomState } from "./broker/room-state.codec.js";
import type { EventEntry, RoomClient } from "./client.js";
import { RoomLife } from "./room-life.js";
import { RoomPresence } from "./room-presence.js";

export interface StreamInfo {
  id: string;
  title: string;
  hostId: string;
}

/** Parses a stored or published event frame; null for anything that is not a room event. */
export function parseEventFrame(frame: string): EventEntry | null {
  let raw: unknown;
  try {
    raw = JSON.parse(frame);
  } catch {
    return null;
  }
  const parsed = RoomEvent.safeParse(raw);
  if (!parsed.success) return null;
  const event = parsed.data;
  const critical = event.type !== "comment" || event.comment.role !== "viewer";
  return { seq: event.seq, frame, event, critical };
}

/**
 * One room as this node sees it: the latest state, a ring of recent events, its life (`RoomLife`,
 * driven by the feed) and who is here (`RoomPresence`, kept by the hub). Every field changes only
 * through this class's methods, and all mutation is synchronous, so a join that sends history and
 * starts live delivery in one turn of the event loop can neither miss nor repeat an event.
 */
export class LocalRoom {
  readonly life = new RoomLife();
  readonly presence: RoomPresence;
  private currentEpoch = "";
  private last = 0;
  private current: RoomState = emptyRoomState();
  private readonly mutes = new Map<string, number>();
  private viewers = 0;
  private likes = 0;
  private ownWords: readonly string[];
  /** Per-user time of the last accepted comment, for slow mode. */
  private readonly lastComments = new Map<string, number>();
  private ring: EventEntry[] = [];
  private snapshotCore: string | null = null;
  private recentCore = "";

  constructor(
    readonly stream: StreamInfo,
    private readonly ringSize: number,
    private readonly recentComments: number,
    opts: { now: number; words?: readonly string[] },
  ) {
    this.presence = new RoomPresence(opts.now);
    this.ownWords = opts.words ?? [];
  }

  get epoch() {
    return this.currentEpoch;
  }

  get lastSeq() {
    return this.last;
  }

  get state(): RoomState {
    return this.current;
  }

  get muted(): ReadonlyMap<string, number> {
    return this.mutes;
  }

  get viewerCount() {
    return this.viewers;
  }

  get likeCount() {
    return this.likes;
  }

  /** The host's own sensitive words (the broker's, else the stream's stored list). */
  get words(): readonly string[] {
    return this.ownWords;
  }

  /** Adopts the room as the broker holds it: sequence, history, state, counts and mutes. */
  load(stored: StoredRoom) {
    this.currentEpoch = stored.epoch;
    this.last = stored.seq;
    this.ring = [];
    for (const r of stored.recent) {
      const entry = parseEventFrame(r.frame);
      if (entry) this.remember(entry);
    }
    this.adoptStateFrom(stored);
  }

  /** Takes state, counts, words and mutes from a reload, keeping this node's events. */
  adoptStateFrom(stored: StoredRoom) {
    this.current = stored.state;
    this.likes = stored.likes;
    this.mutes.clear();
    for (const [user, until] of stored.muted) this.mutes.set(user, until);
    // A lost store keeps the stream's stored list.
    if (stored.words) this.ownWords = stored.words;
    this.snapshotCore = null;
  }

  applyState(push: StatePush) {
    this.current = applyStatePush(this.current, push);
    this.snapshotCore = null;
  }

  setMute(userId: string, until: number) {
    if (until > 0) this.mutes.set(userId, until);
    else this.mutes.delete(userId);
  }

  setWords(words: readonly string[]) {
    this.ownWords = words;
  }

  /** The stored frame of event `seq`, if the ring still holds it. */
  frameAt(seq: number): string | undefined {
    const first = this.ring[0];
    if (!first) return undefined;
    const e = this.ring[seq - first.seq];
    return e?.seq === seq ? e.frame : undefined;
  }

  /** Events up to `seq` were lost here: the room moves past them, and no position before it can be served from memory. */
  markHole(seq: number) {
    this.last = Math.max(this.last, seq);
    this.ring = this.ring.filter((e) => e.seq > seq);
    this.snapshotCore = null;
  }

  /** Starts over under a new epoch: old positions and history are void. */
  resetEpoch(epoch: string) {
    this.currentEpoch = epoch;
    this.last = 0;
    this.ring = [];
    this.snapshotCore = null;
  }

  /** Records an event that is being delivered now. Caller guarantees seq === lastSeq + 1. */
  remember(entry: EventEntry) {
    this.last = Math.max(this.last, entry.seq);
    this.ring.push(entry);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    this.snapshotCore = null;
  }

  /** Events after `seq` from memory, or null when memory does not reach back that far. */
  eventsAfter(seq: number): EventEntry[] | null {
    if (seq >= this.lastSeq) return [];
    const first = this.ring[0];
    if (!first || first.seq > seq + 1) return null;
    return this.ring.filter((e) => e.seq > seq);
  }

  setCounts(viewers: number, likes: number) {
    if (viewers !== this.viewers || likes !== this.likes) this.snapshotCore = null;
    this.viewers = viewers;
    this.likes = likes;
  }

  isMuted(userId: string, now: number) {
    const until = this.mutes.get(userId);
    if (until === undefined) return false;
    if (until > now) return true;
    this.mutes.delete(userId);
    return false;
  }

  /** When `userId`'s last accepted comment was, for slow mode. */
  lastCommentAt(userId: string): number | undefined {
    return this.lastComments.get(userId);
  }

  noteComment(userId: string, now: number) {
    this.lastComments.set(userId, now);
  }

  /** Forgets comment times slow mode no longer needs. */
  sweepComments(now: number) {
    const windowMs = this.current.slowModeSec * 1000;
    for (const [user, at] of this.lastComments) if (now - at > windowMs) this.lastComments.delete(user);
  }

  /** The current state as seed-protocol frames: viewer count, the bubble, and the end if it ended. */
  stateFrames(): string[] {
    const frames = [JSON.stringify({ type: "viewer_count", count: this.viewers })];
    const bubble = this.state.bubble;
    if (bubble) frames.push(JSON.stringify({ type: "product_highlight", productId: bubble.productId, product: bubble }));
    if (this.state.status === "ended") frames.push(JSON.stringify({ type: "stream_end", streamId: this.stream.id, at: Date.now() }));
    return frames;
  }

  /** The snapshot for one client; the room part is serialized once and reused until it changes. */
  snapshotFrame(recovered: boolean, client: RoomClient | null): string {
    if (this.snapshotCore === null) {
      const deleted = new Set<string>();
      for (const e of this.ring) if (e.event.type === "comment_deleted") deleted.add(e.event.commentId);
      const comments = this.ring.filter((e) => e.event.type === "comment" && !deleted.has(e.event.comment.id));
      const recent = comments.slice(Math.max(0, comments.length - this.recentComments)).map((e) => e.frame);
      this.snapshotCore =
        `"epoch":${JSON.stringify(this.epoch)},"seq":${this.lastSeq},` +
        `"stream":${JSON.stringify(this.stream)},"state":${JSON.stringify(this.state)},` +
        `"viewerCount":${this.viewers},"likeCount":${this.likes}`;
      this.recentCore = `"recentComments":[${recent.join(",")}]`;
    }
    const comments = recovered ? `"recentComments":[]` : this.recentCore;
    const you = client
      ? `,"you":${JSON.stringify({ userId: client.identity?.userId ?? null, role: client.identity ? client.role : null })}`
      : "";
    return `{"type":"snapshot","recovered":${recovered},${this.snapshotCore},${comments}${you}}`;
  }
}

