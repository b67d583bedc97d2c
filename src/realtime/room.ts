import {
  GROUPS_IN_STATE,
  RoomEvent,
  type Bubble,
  type Countdown,
  type FlashSale,
  type GroupProgress,
  type LiveCoupon,
  type Pin,
  type RoomState,
  type ScheduledBubble,
  type StreamStatus,
} from "../protocol/messages.js";
import type { EventEntry, RoomClient } from "./client.js";
import type { LoadedRoom } from "./room-store.redis.js";

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
 * One room as this node sees it: its members here, the latest state, and a ring of recent events.
 * All mutation is synchronous, so a join that sends history and starts live delivery in one turn
 * of the event loop can neither miss nor repeat an event.
 */
export class LocalRoom {
  readonly members = new Set<RoomClient>();
  epoch = "";
  lastSeq = 0;
  state: RoomState = emptyRoomState();
  muted = new Map<string, number>();
  viewerCount = 0;
  likeCount = 0;
  /** Likes received here since the last counts report. */
  likeDelta = 0;
  /** Per-user time of the last accepted comment, for slow mode. */
  readonly lastCommentAt = new Map<string, number>();
  ready = false;
  /** Loaded from Redis at least once: a room that is only resyncing (not ready) is still this node's room. */
  loaded = false;
  disposed = false;
  emptySince: number | null = null;
  /** Redis's epoch and seq at the last counts report, to notice messages this node never got. */
  reported: { epoch: string | null; seq: number } | null = null;
  /** Channel messages that arrived before the initial load finished, or while a gap is filled. */
  readonly backlog: string[] = [];
  fillingGap = false;

  private ring: EventEntry[] = [];
  private snapshotCore: string | null = null;

  constructor(
    readonly stream: StreamInfo,
    private readonly ringSize: number,
    private readonly recentComments: number,
  ) {}

  /** Adopts the room's shared state as loaded from Redis. */
  load(loaded: LoadedRoom) {
    this.loaded = true;
    this.epoch = loaded.epoch;
    this.lastSeq = loaded.seq;
    this.state = stateFromHash(loaded.state);
    this.likeCount = Number(loaded.state.likes ?? 0);
    this.muted = new Map(Object.entries(loaded.muted).map(([u, until]) => [u, Number(until)]));
    this.ring = [];
    for (const r of loaded.recent) {
      const entry = parseEventFrame(r.frame);
      if (entry) this.remember(entry);
    }
    this.snapshotCore = null;
  }

  /** Takes state, counts and mutes from a reload, keeping this node's events. */
  adoptStateFrom(loaded: LoadedRoom) {
    this.state = stateFromHash(loaded.state);
    this.likeCount = Number(loaded.state.likes ?? 0);
    this.muted = new Map(Object.entries(loaded.muted).map(([u, until]) => [u, Number(until)]));
    this.snapshotCore = null;
  }

  /** The stored frame of event `seq`, if the ring still holds it. */
  frameAt(seq: number): string | undefined {
    const first = this.ring[0];
    if (!first) return undefined;
    const e = this.ring[seq - first.seq];
    return e?.seq === seq ? e.frame : undefined;
  }

  /** Events up to `seq` were lost here: no position before it can be served from memory. */
  markHole(seq: number) {
    this.ring = this.ring.filter((e) => e.seq > seq);
    this.snapshotCore = null;
  }

  /** Starts over under a new epoch: old positions and history are void. */
  resetEpoch(epoch: string) {
    this.epoch = epoch;
    this.lastSeq = 0;
    this.ring = [];
    this.snapshotCore = null;
  }

  /** Records an event that is being delivered now. Caller guarantees seq === lastSeq + 1. */
  remember(entry: EventEntry) {
    this.lastSeq = Math.max(this.lastSeq, entry.seq);
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

  setState(patch: Partial<RoomState>) {
    this.state = { ...this.state, ...patch };
    this.snapshotCore = null;
  }

  setCounts(viewers: number, likes: number) {
    if (viewers !== this.viewerCount || likes !== this.likeCount) this.snapshotCore = null;
    this.viewerCount = viewers;
    this.likeCount = likes;
  }

  isMuted(userId: string, now: number) {
    const until = this.muted.get(userId);
    if (until === undefined) return false;
    if (until > now) return true;
    this.muted.delete(userId);
    return false;
  }

  /** The current state as seed-protocol frames: viewer count, the bubble, and the end if it ended. */
  stateFrames(): string[] {
    const frames = [JSON.stringify({ type: "viewer_count", count: this.viewerCount })];
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
        `"viewerCount":${this.viewerCount},"likeCount":${this.likeCount}`;
      this.recentCore = `"recentComments":[${recent.join(",")}]`;
    }
    const comments = recovered ? `"recentComments":[]` : this.recentCore;
    const you = client
      ? `,"you":${JSON.stringify({ userId: client.identity?.userId ?? null, role: client.identity ? client.role : null })}`
      : "";
    return `{"type":"snapshot","recovered":${recovered},${this.snapshotCore},${comments}${you}}`;
  }

  private recentCore = "";
}

export const emptyRoomState = (): RoomState => ({
  status: "idle",
  bubble: null,
  pinned: null,
  slowModeSec: 0,
  flashSale: null,
  upcoming: [],
  countdown: null,
  coupon: null,
  groups: [],
});

/** The room's open groups after a group push: progress updates in place (or adds), an end removes. */
export function withGroup(groups: readonly GroupProgress[], group: GroupProgress): GroupProgress[] {
  const rest = groups.filter((g) => g.id !== group.id);
  if (group.status !== "open") return rest;
  const at = groups.findIndex((g) => g.id === group.id);
  const out = at >= 0 ? [...groups.slice(0, at), group, ...groups.slice(at + 1)] : [group, ...rest];
  return out.slice(0, GROUPS_IN_STATE);
}

function parseJson<T>(raw: string | undefined): T | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

function stateFromHash(h: Record<string, string>): RoomState {
  const status = (["idle", "live", "ended"] as const).find((s) => s === h.status) ?? "idle";
  return {
    status: status satisfies StreamStatus,
    bubble: parseJson<Bubble>(h.bubble),
    pinned: parseJson<Pin>(h.pinned),
    slowModeSec: Number(h.slowModeSec ?? 0) || 0,
    flashSale: parseJson<FlashSale>(h.flashSale),
    upcoming: parseJson<ScheduledBubble[]>(h.upcoming) ?? [],
    countdown: parseJson<Countdown>(h.countdown),
    coupon: parseJson<LiveCoupon>(h.coupon),
    groups: parseJson<GroupProgress[]>(h.groups) ?? [],
  };
}
