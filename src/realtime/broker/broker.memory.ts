import { randomBytes } from "node:crypto";
import type { RoomState, StatePush } from "../../protocol/messages.js";
import type { PresenceReport, RoomBroker, RoomCounts, RoomMessage, RoomSubscriber, StoredEvent, StoredRoom, Subscription } from "./broker.js";
import { emptyRoomState } from "./room-state.codec.js";

interface NodeShare {
  anonymous: number;
  people: Set<string>;
  expiresAt: number;
}

interface MemoryRoom {
  epoch: string;
  seq: number;
  events: StoredEvent[];
  state: RoomState;
  likes: number;
  comments: number;
  words: string[] | null;
  muted: Map<string, number>;
  budget: { second: number; used: number };
  nodes: Map<string, NodeShare>;
  /** userId -> how many nodes that person watches from. */
  people: Map<string, number>;
}

const newEpoch = () => randomBytes(6).toString("base64url");

/**
 * The broker in this process's memory: one node, or several hubs of one process (tests). It keeps
 * every guarantee of `RoomBroker`; messages are delivered on a later microtask, in publish order.
 */
export class MemoryBroker implements RoomBroker {
  private readonly rooms = new Map<string, MemoryRoom>();
  private readonly subscribers = new Map<string, Set<RoomSubscriber>>();
  private interrupted = false;

  constructor(
    private readonly opts: { maxLen: number; now?: () => number } = { maxLen: 2000 },
  ) {}

  private now() {
    return this.opts.now?.() ?? Date.now();
  }

  private room(roomId: string): MemoryRoom {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = {
        epoch: newEpoch(),
        seq: 0,
        events: [],
        state: emptyRoomState(),
        likes: 0,
        comments: 0,
        words: null,
        muted: new Map(),
        budget: { second: 0, used: 0 },
        nodes: new Map(),
        people: new Map(),
      };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private publish(roomId: string, message: RoomMessage) {
    const subs = this.subscribers.get(roomId);
    if (!subs || subs.size === 0 || this.interrupted) return;
    const now = [...subs];
    queueMicrotask(() => {
      for (const s of now) s.message(message);
    });
  }

  /** Loses the room's sequence and history, as a Redis that lost its keys would (tests). */
  forget(roomId: string) {
    this.rooms.delete(roomId);
  }

  /**
   * As a subscriber reconnect would (tests): what is published while `meanwhile` runs is stored but
   * never delivered, then every subscription is told it may have missed messages.
   */
  async interrupt(meanwhile?: () => Promise<void>) {
    this.interrupted = true;
    try {
      await meanwhile?.();
    } finally {
      this.interrupted = false;
    }
    for (const subs of this.subscribers.values()) for (const s of subs) queueMicrotask(() => s.missed());
  }

  append(roomId: string, events: readonly { body: string; sampleable: boolean }[], budgetPerSec: number) {
    const room = this.room(roomId);
    const second = Math.floor(this.now() / 1000);
    if (room.budget.second !== second) room.budget = { second, used: 0 };
    const rejected: number[] = [];
    const frames: string[] = [];
    events.forEach((e, i) => {
      if (e.sampleable && room.budget.used >= budgetPerSec) return rejected.push(i);
      if (e.sampleable) room.budget.used++;
      frames.push(`{"seq":${room.seq + frames.length + 1},${e.body}`);
    });
    const firstSeq = frames.length > 0 ? room.seq + 1 : 0;
    for (const frame of frames) room.events.push({ seq: ++room.seq, frame });
    if (room.events.length > this.opts.maxLen) room.events.splice(0, room.events.length - this.opts.maxLen);
    if (frames.length > 0) this.publish(roomId, { kind: "events", epoch: room.epoch, frames });
    return Promise.resolve({ epoch: room.epoch, firstSeq, rejected });
  }

  subscribe(roomId: string, subscriber: RoomSubscriber): Promise<Subscription> {
    let subs = this.subscribers.get(roomId);
    if (!subs) this.subscribers.set(roomId, (subs = new Set()));
    subs.add(subscriber);
    return Promise.resolve({
      close: () => {
        subs.delete(subscriber);
        if (subs.size === 0 && this.subscribers.get(roomId) === subs) this.subscribers.delete(roomId);
        return Promise.resolve();
      },
    });
  }

  load(roomId: string, recentCount: number): Promise<StoredRoom> {
    const room = this.room(roomId);
    return Promise.resolve({
      epoch: room.epoch,
      seq: room.seq,
      state: structuredClone(room.state),
      likes: room.likes,
      words: room.words && [...room.words],
      muted: new Map(room.muted),
      recent: recentCount > 0 ? room.events.slice(-recentCount) : [],
    });
  }

  history(roomId: string, fromSeq: number, toSeq: number): Promise<StoredEvent[]> {
    const events = this.rooms.get(roomId)?.events ?? [];
    return Promise.resolve(events.filter((e) => e.seq >= fromSeq && e.seq <= toSeq));
  }

  setState<K extends keyof RoomState>(roomId: string, field: K, value: RoomState[K], push: StatePush): Promise<void> {
    const room = this.room(roomId);
    room.state = { ...room.state, [field]: value ?? emptyRoomState()[field] };
    this.publish(roomId, { kind: "state", push, frame: JSON.stringify(push) });
    return Promise.resolve();
  }

  setWords(roomId: string, words: readonly string[]): Promise<void> {
    this.room(roomId).words = [...words];
    this.publish(roomId, { kind: "words", words: [...words] });
    return Promise.resolve();
  }

  setMute(roomId: string, userId: string, untilMs: number): Promise<void> {
    const room = this.room(roomId);
    if (untilMs > 0) room.muted.set(userId, untilMs);
    else room.muted.delete(userId);
    this.publish(roomId, { kind: "mute", userId, until: untilMs });
    return Promise.resolve();
  }

  report(roomId: string, report: PresenceReport): Promise<RoomCounts> {
    const room = this.room(roomId);
    const now = this.now();
    const drop = (nodeId: string) => {
      for (const user of room.nodes.get(nodeId)?.people ?? []) this.leavePerson(room, user);
      room.nodes.delete(nodeId);
    };
    let resend = false;
    if (report.full) drop(report.nodeId);
    else resend = !room.nodes.has(report.nodeId);
    const share = room.nodes.get(report.nodeId) ?? { anonymous: 0, people: new Set<string>(), expiresAt: 0 };
    room.nodes.set(report.nodeId, share);
    for (const user of report.joined) {
      if (share.people.has(user)) continue;
      share.people.add(user);
      room.people.set(user, (room.people.get(user) ?? 0) + 1);
    }
    for (const user of report.left) if (share.people.delete(user)) this.leavePerson(room, user);
    share.anonymous = report.anonymous;
    share.expiresAt = now + report.staleAfterMs;
    if (share.anonymous === 0 && share.people.size === 0) {
      drop(report.nodeId);
      resend = false;
    }
    for (const [nodeId, s] of room.nodes) if (s.expiresAt < now) drop(nodeId);
    room.likes += report.likes;
    room.comments += report.comments;
    return Promise.resolve({ viewers: this.viewers(room), likes: room.likes, epoch: room.epoch, seq: room.seq, resend });
  }

  private leavePerson(room: MemoryRoom, user: string) {
    const n = (room.people.get(user) ?? 0) - 1;
    if (n > 0) room.people.set(user, n);
    else room.people.delete(user);
  }

  private viewers(room: MemoryRoom, now = -Infinity) {
    let anonymous = 0;
    let live = false;
    for (const s of room.nodes.values()) {
      if (s.expiresAt < now) continue;
      live = true;
      anonymous += s.anonymous;
    }
    return live ? room.people.size + anonymous : 0;
  }

  peekCounts(roomIds: readonly string[]): Promise<Map<string, { viewers: number; likes: number }>> {
    const now = this.now();
    const out = new Map<string, { viewers: number; likes: number }>();
    for (const id of roomIds) {
      const room = this.rooms.get(id);
      out.set(id, room ? { viewers: this.viewers(room, now), likes: room.likes } : { viewers: 0, likes: 0 });
    }
    return Promise.resolve(out);
  }

  rotateEpoch(roomId: string, epoch: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (room?.epoch === epoch) room.epoch = newEpoch();
    return Promise.resolve();
  }
}
