import type { RoomState, StatePush } from "../../protocol/messages.js";

/** An event ready to append: its JSON without the opening brace, so the broker can put `"seq":n` first. */
export interface PendingEvent {
  body: string;
  /** May be dropped by the room's per-second budget (ordinary viewers' comments). */
  sampleable: boolean;
}

/** A stored event: its seq and the exact frame clients get (`{"seq":n,...}`). */
export interface StoredEvent {
  seq: number;
  frame: string;
}

/** What a room's subscription carries. */
export type RoomMessage =
  /** One `append`: its events in seq order, under `epoch`. */
  | { kind: "events"; epoch: string; frames: string[] }
  /** A state field changed; `frame` is `push` serialized, to forward as is. */
  | { kind: "state"; push: StatePush; frame: string }
  /** A user's mute changed; `until` 0 lifts it. */
  | { kind: "mute"; userId: string; until: number }
  /** The host's own sensitive words changed. */
  | { kind: "words"; words: string[] };

/** A room as the broker holds it, read in one atomic step. */
export interface StoredRoom {
  epoch: string;
  /** The last seq handed out in `epoch` (0: none yet). */
  seq: number;
  state: RoomState;
  likes: number;
  /** The host's own words; null when the broker has none (the stream's stored list applies). */
  words: string[] | null;
  /** userId -> muted until (ms since epoch). */
  muted: Map<string, number>;
  /** The newest events, oldest first. */
  recent: StoredEvent[];
}

/** One node's report of a room: who watches it here now, and what happened since its last report. */
export interface PresenceReport {
  nodeId: string;
  /** `joined` is everyone signed in here: it replaces what this node reported before (first report, after `resend`). */
  full: boolean;
  /** Signed-in people who came (or, with `full`, who are here). */
  joined: readonly string[];
  /** Signed-in people who left this node (their last socket here closed). */
  left: readonly string[];
  /** Connections without a signed-in user: each counts as one viewer. */
  anonymous: number;
  /** The node's share lives this long unless reported again. */
  staleAfterMs: number;
  likes: number;
  comments: number;
}

export interface RoomCounts {
  /** People on every node (a user with many sockets, on one node or many, counts once) plus anonymous connections. */
  viewers: number;
  likes: number;
  /** The room's position now, to notice a missed last message; epoch null when the room has no sequence. */
  epoch: string | null;
  seq: number;
  /** The broker had forgotten this node's people (it went stale, or keys were lost): send a `full` report next. */
  resend: boolean;
}

export interface RoomSubscriber {
  /** Called in publish order; never throws back into the broker. */
  message(message: RoomMessage): void;
  /** The subscription was interrupted (a reconnect): messages published meanwhile may be missing. */
  missed(): void;
}

export interface Subscription {
  /** Stops delivery to this subscriber; the last one out leaves the room's channel. */
  close(): Promise<void>;
}

/**
 * The rooms' shared sequence, history, state and counts, as every node sees them; the hub talks to
 * nothing else. Guarantees, for every implementation (`broker.contract.ts` checks them):
 *
 * - **Sequence and publish are one step.** `append` gives a room's events gap-free increasing seqs
 *   within an epoch, stores them (bounded) and publishes them as one `events` message, atomically:
 *   stored order = publish order = delivery order, on every subscriber.
 * - **No (epoch, seq) names two events.** A lost sequence (the room's data gone) resumes under a new
 *   epoch; `rotateEpoch` voids an epoch on purpose.
 * - **Delivery is at most once, in publish order, per room.** A subscriber may miss messages (pub/sub):
 *   when its subscription was interrupted it is told (`missed`); a message lost without an interruption
 *   shows as a seq gap or as a position behind the one `report` returns. Fill either from `history`.
 * - **`history` is what the bounded store still holds**, oldest first: it may begin after `fromSeq`.
 * - **Writes are stored before they are published, in one step** (`setState`, `setMute`, `setWords`):
 *   a node that loads after the write sees it; a node subscribed before it gets the message.
 * - **Counts are per person.** Each node's report keeps its share (people and anonymous connections)
 *   alive for `staleAfterMs`; a person on several nodes counts once; a node that stops reporting stops
 *   counting. Reports also keep a room's stored data alive while any node has the room open.
 */
export interface RoomBroker {
  /** Sequences, stores and publishes `events` in order. `rejected`: 0-based indices dropped by the budget. */
  append(roomId: string, events: readonly PendingEvent[], budgetPerSec: number): Promise<{ epoch: string; firstSeq: number; rejected: number[] }>;
  /** Delivers the room's messages to `subscriber` once the returned promise resolves (and possibly just before). */
  subscribe(roomId: string, subscriber: RoomSubscriber): Promise<Subscription>;
  /** The room's sequence, state, mutes and `recentCount` newest events; starts a sequence (new epoch) if none. */
  load(roomId: string, recentCount: number): Promise<StoredRoom>;
  /** Stored events with `fromSeq <= seq <= toSeq`, oldest first. */
  history(roomId: string, fromSeq: number, toSeq: number): Promise<StoredEvent[]>;
  /** Saves one field of the room's state (null clears it) and publishes `push`. */
  setState<K extends keyof RoomState>(roomId: string, field: K, value: RoomState[K], push: StatePush): Promise<void>;
  /** Saves the room's own sensitive words and publishes them (to nodes, never to viewers). */
  setWords(roomId: string, words: readonly string[]): Promise<void>;
  /** Mutes `userId` until `untilMs` (0 lifts it) and publishes the change; kept as long as it lasts. */
  setMute(roomId: string, userId: string, untilMs: number): Promise<void>;
  /** Applies one node's report; returns the room's totals and position. */
  report(roomId: string, report: PresenceReport): Promise<RoomCounts>;
  /** Viewers and likes of many rooms, read-only, as `report` would count them. */
  peekCounts(roomIds: readonly string[]): Promise<Map<string, { viewers: number; likes: number }>>;
  /** Voids every position under `epoch` (a seq went backwards); no-op once the epoch changed. */
  rotateEpoch(roomId: string, epoch: string): Promise<void>;
}
