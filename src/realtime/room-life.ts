import type { RoomMessage } from "./broker/broker.js";

/**
 * A room's life on one node:
 * - `opening`: subscribed (or subscribing) and loading; messages are held.
 * - `live`: messages are applied as they come.
 * - `filling`: a seq gap is being filled from the broker's history; messages are held.
 * - `resyncing`: the subscription may have missed messages; state, mutes and events are read again; messages are held.
 * - `closed`: unsubscribed; nothing is applied or delivered any more.
 */
export type RoomPhase = "opening" | "live" | "filling" | "resyncing" | "closed";

export type RoomLifeEvent =
  /** The first load was adopted. */
  | "loaded"
  /** An events message skipped seqs. */
  | "gap"
  /** The gap fill ended (filled, or given up with the hole reported). */
  | "filled"
  /** The subscription was interrupted, or the counts show this node behind. */
  | "resync"
  /** The reload ended (whether or not it could read). */
  | "resynced"
  /** The room is disposed (empty, stopping) or failed to open. */
  | "close";

/**
 * Every transition of a room's life: from a phase, on an event, to a phase. An event a phase does not
 * list is a bug and throws. `resync` while filling is remembered and starts once the gap is filled.
 */
export const ROOM_LIFE: { readonly [P in RoomPhase]: { readonly [E in RoomLifeEvent]?: RoomPhase } } = {
  // A reconnect while opening needs nothing more: the load in flight reads after the subscription.
  opening: { loaded: "live", resync: "opening", close: "closed" },
  live: { gap: "filling", resync: "resyncing", close: "closed" },
  filling: { filled: "live", resync: "filling", close: "closed" },
  resyncing: { resynced: "live", resync: "resyncing", close: "closed" },
  // Work that was in flight when the room closed finishes into nothing.
  closed: { loaded: "closed", filled: "closed", resync: "closed", resynced: "closed", close: "closed" },
};

/** One room's phase, the messages held while it is not live, and what the last counts report said. */
export class RoomLife {
  private current: RoomPhase = "opening";
  private resyncDue = false;
  private held: RoomMessage[] = [];
  private reportedPosition: { epoch: string | null; seq: number } | null = null;

  get phase(): RoomPhase {
    return this.current;
  }

  /** Loaded and not closed: joiners can use the room (a room catching up is still the room). */
  get usable(): boolean {
    return this.current !== "opening" && this.current !== "closed";
  }

  get closed(): boolean {
    return this.current === "closed";
  }

  /**
   * Moves along `ROOM_LIFE`; returns the phase entered. Leaving `filling` with a resync due enters
   * `resyncing` instead of `live`.
   */
  on(event: RoomLifeEvent): RoomPhase {
    const from = this.current;
    let next = ROOM_LIFE[from][event];
    if (next === undefined) throw new Error(`room life: no "${event}" in phase ${from}`);
    if (from === "filling" && event === "resync") this.resyncDue = true;
    if (from === "filling" && event === "filled" && this.resyncDue) next = "resyncing";
    if (next !== "filling") this.resyncDue = false;
    if (next === "closed") this.held = [];
    this.current = next;
    return next;
  }

  /** Keeps a message for later unless the room is live; true when it was kept (or dropped, closed). */
  hold(message: RoomMessage): boolean {
    if (this.current === "live") return false;
    if (this.current !== "closed") this.held.push(message);
    return true;
  }

  /** Puts a message back in front (its events wait for a gap fill). */
  holdFirst(message: RoomMessage) {
    if (this.current !== "closed") this.held.unshift(message);
  }

  /** The next held message, while the room is live. */
  nextHeld(): RoomMessage | undefined {
    return this.current === "live" ? this.held.shift() : undefined;
  }

  /**
   * Records the room's position from a counts report; returns the previous one, whose position this
   * node should have reached by now (a whole interval later).
   */
  reported(position: { epoch: string | null; seq: number }) {
    const previous = this.reportedPosition;
    this.reportedPosition = position;
    return previous;
  }
}
