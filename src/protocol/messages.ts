/**
 * The live-room wire protocol, defined once: client commands, server replies and server pushes.
 * JSON text frames with a `type` discriminator. Raw WebSocket and socket.io carry the same shapes
 * (socket.io: the event name is `type`, the payload is the whole message). The type names come from
 * `client.ts` (the zod-free part clients bundle), so schemas and clients cannot disagree.
 */
import { z } from "zod";
import { BATCH, COMMAND, EVENT, GROUPS_IN_STATE, HOST_COMMAND_TYPES, REPLY, SNAPSHOT, STATE } from "./client.js";

const correlationId = z.string().min(1).max(64).optional();
const entityId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only");
/** A picture: one of the server's uploaded images (`/images/<sha256>.<ext>`, clients resolve it) or an http(s) URL. */
const pictureUrl = z.union([z.string().regex(/^\/images\/[0-9a-f]{64}\.(?:png|jpg|webp)$/), z.url({ protocol: /^https?$/ }).max(1000)]);

// ---------- client commands ----------

/** Seed 003's shape: `{type:'comment', comment:{content, ...}}`. userId/username in it are ignored. */
export const CommentCommand = z.object({
  type: z.literal(COMMAND.COMMENT),
  id: correlationId,
  comment: z.object({ content: z.string().max(100_000) }),
});
export const LikeCommand = z.object({
  type: z.literal(COMMAND.LIKE),
  id: correlationId,
  count: z.number().int().min(1).max(100).default(1),
});
export const HighlightCommand = z.object({
  type: z.literal(COMMAND.PRODUCT_HIGHLIGHT),
  id: correlationId,
  productId: entityId.nullable(),
  title: z.string().max(200).optional(),
  priceFen: z.number().int().min(0).max(1_000_000_000).optional(),
  imageUrl: pictureUrl.optional(),
});
export const StreamStartCommand = z.object({ type: z.literal(COMMAND.STREAM_START), id: correlationId });
export const StreamEndCommand = z.object({ type: z.literal(COMMAND.STREAM_END), id: correlationId });
export const PinCommand = z.object({
  type: z.literal(COMMAND.PIN),
  id: correlationId,
  text: z.string().min(1).max(500).nullable(),
});
export const MuteCommand = z.object({
  type: z.literal(COMMAND.MUTE),
  id: correlationId,
  userId: entityId,
  durationSec: z.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
});
export const UnmuteCommand = z.object({ type: z.literal(COMMAND.UNMUTE), id: correlationId, userId: entityId });
export const DeleteCommentCommand = z.object({
  type: z.literal(COMMAND.DELETE_COMMENT),
  id: correlationId,
  commentId: entityId,
});
export const SlowModeCommand = z.object({
  type: z.literal(COMMAND.SLOW_MODE),
  id: correlationId,
  seconds: z.number().int().min(0).max(3600),
});
export const PingCommand = z.object({ type: z.literal(COMMAND.PING), id: correlationId });

export const ClientCommand = z.discriminatedUnion("type", [
  CommentCommand,
  LikeCommand,
  HighlightCommand,
  StreamStartCommand,
  StreamEndCommand,
  PinCommand,
  MuteCommand,
  UnmuteCommand,
  DeleteCommentCommand,
  SlowModeCommand,
  PingCommand,
]);
export type ClientCommand = z.infer<typeof ClientCommand>;
export type ClientCommandType = ClientCommand["type"];
export const CLIENT_COMMAND_TYPES = ClientCommand.options.map((o) => o.shape.type.value);

/** Commands only the stream's host (or an admin) may send. */
export const HOST_COMMANDS: ReadonlySet<ClientCommandType> = new Set(HOST_COMMAND_TYPES);

// ---------- shared shapes ----------

export const Role = z.enum(["viewer", "host", "admin"]);
export type Role = z.infer<typeof Role>;

export const Comment = z.object({
  id: z.string(),
  userId: z.string(),
  username: z.string(),
  content: z.string(),
  timestamp: z.number().int(),
  role: Role,
});
export type Comment = z.infer<typeof Comment>;

export const Bubble = z.object({
  productId: z.string(),
  title: z.string().optional(),
  priceFen: z.number().int().optional(),
  imageUrl: z.string().optional(),
});
export type Bubble = z.infer<typeof Bubble>;

export const FlashSale = z.object({
  id: z.string(),
  productId: z.string(),
  skuId: z.string(),
  priceFen: z.number().int(),
  quantity: z.number().int(),
  left: z.number().int(),
  perUserLimit: z.number().int(),
  endsAt: z.number().int(),
});
export type FlashSale = z.infer<typeof FlashSale>;

/** A product push the host scheduled: it becomes the bubble at `at` (ms). */
export const ScheduledBubble = z.object({
  id: z.string(),
  productId: z.string(),
  title: z.string(),
  priceFen: z.number().int().nullable(),
  imageUrl: z.string().nullable(),
  at: z.number().int(),
  /** Seconds before `at` when the "starts in" countdown is announced; 0: none. */
  countdownSec: z.number().int(),
});
export type ScheduledBubble = z.infer<typeof ScheduledBubble>;

/** The scheduled push whose countdown is running now. */
export const Countdown = ScheduledBubble.omit({ countdownSec: true });
export type Countdown = z.infer<typeof Countdown>;

/** A coupon the host dropped into the room; `left` is conflated like flash-sale units. */
export const LiveCoupon = z.object({
  id: z.string(),
  title: z.string(),
  discountFen: z.number().int(),
  minSpendFen: z.number().int(),
  quantity: z.number().int(),
  left: z.number().int(),
  expiresAt: z.number().int(),
});
export type LiveCoupon = z.infer<typeof LiveCoupon>;

/** How many open groups the room's state carries. */
export { GROUPS_IN_STATE };

/** A group buy (拼团) as the room and its watchers see it. `taken`: places held or paid. */
export const GroupProgress = z.object({
  id: z.string(),
  activityId: z.string(),
  productId: z.string(),
  status: z.enum(["pending", "open", "complete", "failed"]),
  /** leader_pays: open once the leader paid; join_first: members join, and all pay once it is full. */
  flow: z.enum(["leader_pays", "join_first"]),
  size: z.number().int(),
  taken: z.number().int(),
  paid: z.number().int(),
  left: z.number().int(),
  /** The group's deadline (ms); a pending leader-pays group: its leader's pay deadline. */
  endsAt: z.number().int(),
});
export type GroupProgress = z.infer<typeof GroupProgress>;

export const Pin = z.object({ text: z.string(), by: z.string(), at: z.number().int() });
export type Pin = z.infer<typeof Pin>;

export const StreamStatus = z.enum(["idle", "live", "ended"]);
export type StreamStatus = z.infer<typeof StreamStatus>;

// ---------- server pushes: events (ordered, with seq, recoverable) ----------

export const CommentEvent = z.object({ type: z.literal(EVENT.COMMENT), seq: z.number().int(), comment: Comment });
export const CommentDeletedEvent = z.object({
  type: z.literal(EVENT.COMMENT_DELETED),
  seq: z.number().int(),
  commentId: z.string(),
});
/** Someone just bought: paid orders of one product, gathered for half a second; never sampled. */
export const PurchaseEvent = z.object({
  type: z.literal(EVENT.PURCHASE),
  seq: z.number().int(),
  purchase: z.object({
    /** The first buyer's masked name. */
    buyer: z.string(),
    /** How many buyers this event stands for ("Mei*** and 11 others"). */
    buyers: z.number().int(),
    productId: z.string(),
    productName: z.string(),
    quantity: z.number().int(),
    at: z.number().int(),
  }),
});
export const RoomEvent = z.discriminatedUnion("type", [CommentEvent, CommentDeletedEvent, PurchaseEvent]);
export type RoomEvent = z.infer<typeof RoomEvent>;
/** A room event before the room's sequence gives it a seq. */
export type UnsequencedEvent = RoomEvent extends infer E ? (E extends RoomEvent ? Omit<E, "seq"> : never) : never;

// ---------- server pushes: state (conflated, latest value wins, part of the snapshot) ----------

export const ViewerCountPush = z.object({ type: z.literal(STATE.VIEWER_COUNT), count: z.number().int() });
export const LikeCountPush = z.object({ type: z.literal(STATE.LIKE_COUNT), count: z.number().int() });
export const HighlightPush = z.object({
  type: z.literal(STATE.PRODUCT_HIGHLIGHT),
  productId: z.string().nullable(),
  product: Bubble.nullable(),
});
export const StreamStartPush = z.object({ type: z.literal(STATE.STREAM_START), streamId: z.string(), at: z.number() });
export const StreamEndPush = z.object({ type: z.literal(STATE.STREAM_END), streamId: z.string(), at: z.number() });
export const PinnedPush = z.object({ type: z.literal(STATE.PINNED), pin: Pin.nullable() });
export const SlowModePush = z.object({ type: z.literal(STATE.SLOW_MODE), seconds: z.number().int() });
/** The room's live flash sale and its units left (conflated); null when none runs. */
export const FlashSalePush = z.object({ type: z.literal(STATE.FLASH_SALE), sale: FlashSale.nullable() });
/** Scheduled pushes still to come, soonest first. */
export const UpcomingProductsPush = z.object({ type: z.literal(STATE.UPCOMING_PRODUCTS), items: z.array(ScheduledBubble) });
/** "Starts in …": a scheduled push is about to become the bubble; null when it fired or was cancelled. */
export const ProductCountdownPush = z.object({ type: z.literal(STATE.PRODUCT_COUNTDOWN), countdown: Countdown.nullable() });
export const CouponPush = z.object({ type: z.literal(STATE.COUPON), coupon: LiveCoupon.nullable() });
/** A group of this room's products changed; complete and failed groups leave the room's state. */
/** In a room, `groups` is the room's open groups after this change (the state to keep); watchers get `group` only. */
const roomGroups = z.array(GroupProgress).optional();
export const GroupProgressPush = z.object({ type: z.literal(STATE.GROUP_PROGRESS), group: GroupProgress, groups: roomGroups });
export const GroupCompletePush = z.object({ type: z.literal(STATE.GROUP_COMPLETE), group: GroupProgress, groups: roomGroups });
export const GroupFailedPush = z.object({ type: z.literal(STATE.GROUP_FAILED), group: GroupProgress, groups: roomGroups });
export const StatePush = z.discriminatedUnion("type", [
  UpcomingProductsPush,
  ProductCountdownPush,
  CouponPush,
  GroupProgressPush,
  GroupCompletePush,
  GroupFailedPush,
  HighlightPush,
  StreamStartPush,
  StreamEndPush,
  PinnedPush,
  SlowModePush,
  FlashSalePush,
]);
export type StatePush = z.infer<typeof StatePush>;

export const RoomState = z.object({
  status: StreamStatus,
  bubble: Bubble.nullable(),
  pinned: Pin.nullable(),
  slowModeSec: z.number().int(),
  flashSale: FlashSale.nullable(),
  upcoming: z.array(ScheduledBubble),
  countdown: Countdown.nullable(),
  coupon: LiveCoupon.nullable(),
  /** Open groups of this room's products, newest first (at most GROUPS_IN_STATE). */
  groups: z.array(GroupProgress),
});
export type RoomState = z.infer<typeof RoomState>;
/** Saves one field of a room's state for every node and pushes `push` to the room's viewers. */
export type SetRoomState = <K extends keyof RoomState>(roomId: string, field: K, value: RoomState[K], push: StatePush) => Promise<void>;

export const SnapshotPush = z.object({
  type: z.literal(SNAPSHOT),
  /** false: the client's position could not be served; drop local events and start from this. */
  recovered: z.boolean(),
  epoch: z.string(),
  /** The last seq included in (or before) this snapshot. */
  seq: z.number().int(),
  stream: z.object({ id: z.string(), title: z.string(), hostId: z.string() }),
  state: RoomState,
  viewerCount: z.number().int(),
  likeCount: z.number().int(),
  /** Oldest first. Empty when recovered: the missed events follow instead. */
  recentComments: z.array(CommentEvent),
  /** Absent when pushed to the whole room (after an epoch change). */
  you: z.object({ userId: z.string().nullable(), role: Role.nullable() }).optional(),
});
export type SnapshotPush = z.infer<typeof SnapshotPush>;

/** Opt-in (`?batch=1`): the events of one tick in one frame, oldest first. */
export const BatchPush = z.object({ type: z.literal(BATCH), epoch: z.string(), events: z.array(RoomEvent) });

// ---------- server replies ----------

/** Raw WebSocket clients get an ack only for a command with an `id`; socket.io's ack callback always does. */
export const AckReply = z.object({
  type: z.literal(REPLY.ACK),
  id: z.string().optional(),
  /** The event's seq (comments, deleted comments). */
  seq: z.number().int().optional(),
  /** The comment was sampled out: it has no seq and only its sender saw it. */
  sampled: z.boolean().optional(),
});
export const PongReply = z.object({ type: z.literal(REPLY.PONG), id: z.string().optional() });
export const ErrorReply = z.object({
  type: z.literal(REPLY.ERROR),
  code: z.string(),
  message: z.string(),
  id: z.string().optional(),
});

/** What answers a client command. */
export const Reply = z.discriminatedUnion("type", [AckReply, PongReply, ErrorReply]);
export type Reply = z.infer<typeof Reply>;

export const ServerMessage = z.discriminatedUnion("type", [
  CommentEvent,
  CommentDeletedEvent,
  PurchaseEvent,
  ViewerCountPush,
  LikeCountPush,
  HighlightPush,
  StreamStartPush,
  StreamEndPush,
  PinnedPush,
  SlowModePush,
  FlashSalePush,
  UpcomingProductsPush,
  ProductCountdownPush,
  CouponPush,
  GroupProgressPush,
  GroupCompletePush,
  GroupFailedPush,
  SnapshotPush,
  BatchPush,
  AckReply,
  PongReply,
  ErrorReply,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** socket.io event maps derived from the unions above. */
export type ServerToClientEvents = {
  [K in ServerMessage["type"]]: (message: Extract<ServerMessage, { type: K }>) => void;
};
export type ClientToServerEvents = {
  [K in ClientCommandType]: (
    message: Omit<Extract<ClientCommand, { type: K }>, "type">,
    ack?: (reply: Reply) => void,
  ) => void;
};

/** Reconnect position, sent as `?epoch=&seq=` (raw WS) or `auth: {epoch, seq}` (socket.io). */
export const Position = z.object({ epoch: z.string().min(1).max(64), seq: z.coerce.number().int().min(0) });
export type Position = z.infer<typeof Position>;
