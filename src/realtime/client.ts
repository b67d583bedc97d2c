import type { Identity } from "../auth/identity.js";
import type { Role, RoomEvent } from "../protocol/messages.js";

/** One live-room connection, whatever its transport. */
export interface RoomClient {
  readonly transport: "ws" | "socketio";
  readonly identity: Identity | null;
  /** Opted into one frame per tick (`batch`) instead of one frame per event. */
  readonly batch: boolean;
  /** Set once at join from the stream's host record. */
  role: Role | null;
  closed: boolean;
  /** Sends one serialized frame to this client only. Ignored after close. */
  send(frame: string): void;
  /** Starts live delivery: called once, right after the snapshot and any missed events. */
  startLive(roomId: string): void;
  close(code: number, reason: string): void;
}

/** An event as a node holds it: seq, the exact frame clients get, and the parsed message. */
export interface EventEntry {
  seq: number;
  frame: string;
  event: RoomEvent;
  /** Never dropped for slow readers: everything but ordinary viewers' comments. */
  critical: boolean;
}

/** Delivers to the local sockets of one transport. Called once per room per batch, never per viewer. */
export interface FanoutSink {
  events(roomId: string, epoch: string, entries: readonly EventEntry[]): void;
  /** State and conflated pushes go to everyone in the room, slow readers included. */
  push(roomId: string, frame: string, message: { type: string }): void;
}
