/**
 * The client side of the live-room protocol, without zod: message type names, command builders,
 * the seq bookkeeping of a viewer, and the room-state rules. The mini program, the host console and
 * the k6 scripts use it (bundled by `npm run build:clients`); `messages.ts` takes its type names from
 * here, so the schemas and the clients cannot name a message differently. Imports only `errors.ts`;
 * no BigInt, no Node or browser APIs (k6 0.48 and the mini program runtime must load it).
 */
export { CLOSE_CODES, ERRORS } from "./errors.js";

// ---------- message types ----------

/** Commands a client sends (`type` of the frame). */
export const COMMAND = {
  COMMENT: "comment",
  LIKE: "like",
  PRODUCT_HIGHLIGHT: "product_highlight",
  STREAM_START: "stream_start",
  STREAM_END: "stream_end",
  PIN: "pin",
  MUTE: "mute",
  UNMUTE: "unmute",
  DELETE_COMMENT: "delete_comment",
  SLOW_MODE: "slow_mode",
  PING: "ping",
} as const;

/** Room events: ordered by `seq` within an epoch, recoverable after a reconnect. */
export const EVENT = {
  COMMENT: "comment",
  COMMENT_DELETED: "comment_deleted",
  PURCHASE: "purchase",
} as const;

/** State pushes: the latest value wins. Counts sit beside `state` in the snapshot; the rest change `state`. */
export const STATE = {
  VIEWER_COUNT: "viewer_count",
  LIKE_COUNT: "like_count",
  PRODUCT_HIGHLIGHT: "product_highlight",
  STREAM_START: "stream_start",
  STREAM_END: "stream_end",
  PINNED: "pinned",
  SLOW_MODE: "slow_mode",
  FLASH_SALE: "flash_sale",
  UPCOMING_PRODUCTS: "upcoming_products",
  PRODUCT_COUNTDOWN: "product_countdown",
  COUPON: "coupon",
  GROUP_PROGRESS: "group_progress",
  GROUP_COMPLETE: "group_complete",
  GROUP_FAILED: "group_failed",
} as const;

/** Replies to a command. */
export const REPLY = { ACK: "ack", PONG: "pong", ERROR: "error" } as const;

/** The room's state, sent first after connecting (and to everyone after an epoch change). */
export const SNAPSHOT = "snapshot";
/** Opt-in (`?batch=1`) framing: one tick's events in one frame. */
export const BATCH = "batch";

type ValueOf<T> = T[keyof T];
export type CommandType = ValueOf<typeof COMMAND>;
export type EventType = ValueOf<typeof EVENT>;
export type StatePushType = ValueOf<typeof STATE>;
export type ReplyType = ValueOf<typeof REPLY>;

export const COMMAND_TYPES: readonly CommandType[] = Object.values(COMMAND);
export const EVENT_TYPES: readonly EventType[] = Object.values(EVENT);
export const STATE_PUSH_TYPES: readonly StatePushType[] = Object.values(STATE);
export const REPLY_TYPES: readonly ReplyType[] = Object.values(REPLY);
/** Every `type` a server may send on a room socket. */
export const SERVER_MESSAGE_TYPES: readonly string[] = [...EVENT_TYPES, ...STATE_PUSH_TYPES, SNAPSHOT, BATCH, ...REPLY_TYPES].filter(
  (t, i, all) => all.indexOf(t) === i,
);

/** Commands only the stream's host (or an admin) may send. */
export const HOST_COMMAND_TYPES = [
  COMMAND.PRODUCT_HIGHLIGHT,
  COMMAND.STREAM_START,
  COMMAND.STREAM_END,
  COMMAND.PIN,
  COMMAND.MUTE,
  COMMAND.UNMUTE,
  COMMAND.DELETE_COMMENT,
  COMMAND.SLOW_MODE,
] as const;

/** How many open groups the room's state carries. */
export const GROUPS_IN_STATE = 20;

/** A close code after which the client must not reconnect as is (4500–4999; see CLOSE_CODES). */
export function isFinalClose(code: number): boolean {
  return code >= 4500 && code <= 4999;
}

// ---------- shapes (plain types; messages.ts checks them against its schemas) ----------

export type Role = "viewer" | "host" | "admin";
export type StreamStatus = "idle" | "live" | "ended";
export interface Comment {
  id: string;
  userId: string;
  username: string;
  content: string;
  timestamp: number;
  role: Role;
}
export interface Bubble {
  productId: string;
  title?: string;
  priceFen?: number;
  imageUrl?: string;
}
export interface FlashSale {
  id: string;
  productId: string;
  skuId: string;
  priceFen: number;
  quantity: number;
  left: number;
  perUserLimit: number;
  endsAt: number;
}
export interface Countdown {
  id: string;
  productId: string;
  title: string;
  priceFen: number | null;
  imageUrl: string | null;
  at: number;
}
export interface ScheduledBubble extends Countdown {
  countdownSec: number;
}
export interface LiveCoupon {
  id: string;
  title: string;
  discountFen: number;
  minSpendFen: number;
  quantity: number;
  left: number;
  expiresAt: number;
}
export interface GroupProgress {
  id: string;
  activityId: string;
  productId: string;
  status: "pending" | "open" | "complete" | "failed";
  flow: "leader_pays" | "join_first";
  size: number;
  taken: number;
  paid: number;
  left: number;
  endsAt: number;
}
export interface Pin {
  text: string;
  by: string;
  at: number;
}
export interface RoomState {
  status: StreamStatus;
  bubble: Bubble | null;
  pinned: Pin | null;
  slowModeSec: number;
  flashSale: FlashSale | null;
  upcoming: ScheduledBubble[];
  countdown: Countdown | null;
  coupon: LiveCoupon | null;
  groups: GroupProgress[];
}

/** A room's state before anything was set: what a client holds until its first snapshot. */
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

/** A state push that changes `RoomState` (counts are separate: `viewer_count`, `like_count`). */
export type StatePush =
  | { type: "product_highlight"; productId: string | null; product: Bubble | null }
  | { type: "stream_start"; streamId: string; at: number }
  | { type: "stream_end"; streamId: string; at: number }
  | { type: "pinned"; pin: Pin | null }
  | { type: "slow_mode"; seconds: number }
  | { type: "flash_sale"; sale: FlashSale | null }
  | { type: "upcoming_products"; items: ScheduledBubble[] }
  | { type: "product_countdown"; countdown: Countdown | null }
  | { type: "coupon"; coupon: LiveCoupon | null }
  | { type: "group_progress" | "group_complete" | "group_failed"; group: GroupProgress; groups?: GroupProgress[] };

/** The conflated counts, which live beside `state` in the snapshot (`viewerCount`, `likeCount`). */
export type CountPush = { type: "viewer_count" | "like_count"; count: number };

// ---------- command builders ----------

/** Adds the correlation id (an `ack` or a correlated `error` answers it) when there is one. */
function withId<T extends { type: CommandType }>(command: T, id: string | undefined): T & { id?: string } {
  return id === undefined ? command : { ...command, id };
}

/** Builders for every client command; pass `id` to get an `ack` (or a correlated `error`). */
export const commands = {
  comment: (content: string, id?: string) => withId({ type: COMMAND.COMMENT, comment: { content } }, id),
  like: (count = 1, id?: string) => withId({ type: COMMAND.LIKE, count }, id),
  ping: (id?: string) => withId({ type: COMMAND.PING }, id),
  /** Pushes the product bubble; null clears it. */
  highlight: (product: Bubble | null, id?: string) =>
    withId(product ? { type: COMMAND.PRODUCT_HIGHLIGHT, ...product } : { type: COMMAND.PRODUCT_HIGHLIGHT, productId: null }, id),
  streamStart: (id?: string) => withId({ type: COMMAND.STREAM_START }, id),
  streamEnd: (id?: string) => withId({ type: COMMAND.STREAM_END }, id),
  /** Pins a message; null unpins. */
  pin: (text: string | null, id?: string) => withId({ type: COMMAND.PIN, text }, id),
  mute: (userId: string, durationSec?: number, id?: string) =>
    withId(durationSec === undefined ? { type: COMMAND.MUTE, userId } : { type: COMMAND.MUTE, userId, durationSec }, id),
  unmute: (userId: string, id?: string) => withId({ type: COMMAND.UNMUTE, userId }, id),
  deleteComment: (commentId: string, id?: string) => withId({ type: COMMAND.DELETE_COMMENT, commentId }, id),
  /** Slow mode: one comment per viewer per `seconds` (0 turns it off). */
  slowMode: (seconds: number, id?: string) => withId({ type: COMMAND.SLOW_MODE, seconds }, id),
};

// ---------- seq bookkeeping ----------

/** How an incoming event relates to what the client holds. */
export type SeqVerdict =
  /** The one after the last held: deliver it. */
  | "next"
  /** Already held (a node a little behind, a replay): drop it. */
  | "duplicate"
  /** Something is missing before it: reconnect with the last position to get the missing ones. */
  | "gap"
  /** No seq (a sampled comment echoed to its sender): deliver it, the position does not move. */
  | "unsequenced";

/**
 * A viewer's position in a room's event sequence (epoch + last seq delivered). Snapshots set it;
 * `offer` classifies each event and moves the position past the ones to deliver.
 */
export class SeqTracker {
  epoch: string | null = null;
  seq = 0;

  /** The position to reconnect with (`?epoch=&seq=`), or null before the first snapshot. */
  position(): { epoch: string; seq: number } | null {
    return this.epoch === null ? null : { epoch: this.epoch, seq: this.seq };
  }

  /**
   * Takes a snapshot. `recovered: true` keeps the position (the missed events follow it);
   * otherwise the client starts over from the snapshot's epoch and seq.
   */
  snapshot(snap: { recovered: boolean; epoch: string; seq: number }) {
    if (snap.recovered && snap.epoch === this.epoch) return;
    this.epoch = snap.epoch;
    this.seq = snap.seq;
  }

  /** Classifies an event without moving the position. */
  classify(event: { seq?: number }): SeqVerdict {
    if (typeof event.seq !== "number") return "unsequenced";
    if (this.epoch === null) return "gap";
    if (event.seq <= this.seq) return "duplicate";
    return event.seq === this.seq + 1 ? "next" : "gap";
  }

  /** Classifies an event and, when it is the next one, moves the position past it. */
  offer(event: { seq?: number }): SeqVerdict {
    const verdict = this.classify(event);
    if (verdict === "next") this.seq = event.seq!;
    return verdict;
  }

  /** A batch from another epoch than the one held cannot be placed: treat it as a gap. */
  sameEpoch(epoch: string) {
    return this.epoch === epoch;
  }

  reset() {
    this.epoch = null;
    this.seq = 0;
  }
}

// ---------- room state ----------

/** The room's open groups after a group push: progress updates in place (or adds, newest first), an end removes. */
export function withGroup(groups: readonly GroupProgress[], group: GroupProgress): GroupProgress[] {
  const rest = groups.filter((g) => g.id !== group.id);
  if (group.status !== "open") return rest;
  const at = groups.findIndex((g) => g.id === group.id);
  const out = at >= 0 ? [...groups.slice(0, at), group, ...groups.slice(at + 1)] : [group, ...rest];
  return out.slice(0, GROUPS_IN_STATE);
}

/**
 * The room state after a state push (pure: returns a new object, or `state` itself when the push
 * does not change it, e.g. counts or an unknown type). The same rules on the server and every client.
 */
export function applyStatePush<S extends RoomState>(state: S, p: StatePush | CountPush): S {
  switch (p.type) {
    case STATE.PRODUCT_HIGHLIGHT:
      return { ...state, bubble: p.product };
    case STATE.STREAM_START:
      return { ...state, status: "live" };
    case STATE.STREAM_END:
      return { ...state, status: "ended" };
    case STATE.PINNED:
      return { ...state, pinned: p.pin };
    case STATE.SLOW_MODE:
      return { ...state, slowModeSec: p.seconds };
    case STATE.FLASH_SALE:
      return { ...state, flashSale: p.sale };
    case STATE.UPCOMING_PRODUCTS:
      return { ...state, upcoming: p.items };
    case STATE.PRODUCT_COUNTDOWN:
      return { ...state, countdown: p.countdown };
    case STATE.COUPON:
      return { ...state, coupon: p.coupon };
    case STATE.GROUP_PROGRESS:
    case STATE.GROUP_COMPLETE:
    case STATE.GROUP_FAILED:
      return { ...state, groups: p.groups ?? withGroup(state.groups, p.group) };
    default:
      return state;
  }
}

/** Whether a frame's type is a state push `applyStatePush` acts on. */
export function isStatePush(type: string): boolean {
  return type !== STATE.VIEWER_COUNT && type !== STATE.LIKE_COUNT && (STATE_PUSH_TYPES as readonly string[]).includes(type);
}
