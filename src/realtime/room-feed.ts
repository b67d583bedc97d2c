import type { Logger } from "../log.js";
import type { StatePush, RoomState } from "../protocol/messages.js";
import type { RoomBroker, RoomMessage, Subscription } from "./broker/broker.js";
import type { EventEntry, FanoutSink } from "./client.js";
import { parseEventFrame, type LocalRoom } from "./room.js";
import { withTimeout } from "../unavailable.js";

const GAP_RETRIES = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The state pushes that turn `before` into `after`, as live changes would have sent them. */
export function statePushes(before: RoomState, after: RoomState, streamId: string, at: number): StatePush[] {
  const out: StatePush[] = [];
  if (JSON.stringify(before.bubble) !== JSON.stringify(after.bubble)) {
    out.push({ type: "product_highlight", productId: after.bubble?.productId ?? null, product: after.bubble });
  }
  if (before.status !== after.status && after.status !== "idle") {
    out.push({ type: after.status === "live" ? "stream_start" : "stream_end", streamId, at });
  }
  if (JSON.stringify(before.pinned) !== JSON.stringify(after.pinned)) out.push({ type: "pinned", pin: after.pinned });
  if (before.slowModeSec !== after.slowModeSec) out.push({ type: "slow_mode", seconds: after.slowModeSec });
  if (JSON.stringify(before.flashSale) !== JSON.stringify(after.flashSale)) out.push({ type: "flash_sale", sale: after.flashSale });
  if (JSON.stringify(before.upcoming) !== JSON.stringify(after.upcoming)) out.push({ type: "upcoming_products", items: after.upcoming });
  if (JSON.stringify(before.countdown) !== JSON.stringify(after.countdown)) out.push({ type: "product_countdown", countdown: after.countdown });
  if (JSON.stringify(before.coupon) !== JSON.stringify(after.coupon)) out.push({ type: "coupon", coupon: after.coupon });
  // Groups that changed while this node was not listening. One that ended meanwhile is not re-announced
  // (its outcome is in GET /v1/groups/:id); the next snapshot no longer lists it.
  const seen = new Set(before.groups.map((g) => JSON.stringify(g)));
  for (const g of after.groups) if (!seen.has(JSON.stringify(g))) out.push({ type: "group_progress", group: g });
  return out;
}

/**
 * Drives each LocalRoom's life (`room-life.ts`) and keeps the room in step with the broker, handing
 * what changes to the sinks. Events go out once each, in seq order: duplicates are dropped, gaps are
 * filled from the broker's history (retrying) before anything later, an interrupted subscription is
 * caught up with a reload, and a seq that went backwards inside an epoch voids the epoch. The only
 * writer of a room's phase.
 */
export class RoomFeed {
  private readonly subscriptions = new WeakMap<LocalRoom, Subscription>();

  constructor(
    private readonly broker: RoomBroker,
    private readonly sinks: readonly FanoutSink[],
    private readonly log: Logger,
    private readonly ringSize: number,
  ) {}

  /** Subscribes, then loads: the room is live when this resolves, closed when it throws. */
  async open(room: LocalRoom, timeoutMs: number) {
    const id = room.stream.id;
    const subscribing = this.broker.subscribe(id, { message: (m) => this.receive(room, m), missed: () => this.resync(room) });
    try {
      const subscription = await withTimeout(subscribing, timeoutMs, "subscribe");
      if (room.life.closed) await subscription.close();
      else this.subscriptions.set(room, subscription);
      const stored = await withTimeout(this.broker.load(id, this.ringSize), timeoutMs, "load");
      if (room.life.closed) return;
      room.load(stored);
      room.life.on("loaded");
      this.drain(room);
    } catch (err) {
      room.life.on("close");
      // A subscription that comes after its timeout is left at once.
      void subscribing.then((s) => s.close()).catch(() => {});
      this.subscriptions.delete(room);
      throw err;
    }
  }

  /** Closes the room here: nothing more is applied or delivered, and its subscription ends. */
  async close(room: LocalRoom) {
    room.life.on("close");
    const subscription = this.subscriptions.get(room);
    this.subscriptions.delete(room);
    await subscription?.close();
  }

  /** A message of the room's subscription. Never throws. */
  private receive(room: LocalRoom, message: RoomMessage) {
    try {
      if (!room.life.hold(message)) this.apply(room, message);
    } catch (err) {
      this.log.error({ err, roomId: room.stream.id }, "bad room message");
    }
  }

  /**
   * The counts report's position of the room, a whole interval after the previous one: when this
   * node is still behind that one (a lost last message, a missed epoch), it catches up.
   */
  checkPosition(room: LocalRoom, position: { epoch: string | null; seq: number }) {
    const prev = room.life.reported(position);
    if (!prev?.epoch || room.life.phase !== "live") return;
    const behind = prev.epoch !== room.epoch ? position.epoch === prev.epoch : room.lastSeq < prev.seq;
    if (behind) this.resync(room);
  }

  /**
   * Catches a room up after its subscription may have missed messages (reconnect, or counts that
   * disagree): reloads state and mutes, delivers missing events, or resyncs under a new epoch.
   */
  private resync(room: LocalRoom) {
    const from = room.life.phase;
    if (room.life.on("resync") === "resyncing" && from !== "resyncing") this.settle(room, this.reload(room));
  }

  /** Catch-up work runs on its own; what it throws is logged, never left unhandled. */
  private settle(room: LocalRoom, work: Promise<void>) {
    work.catch((err: unknown) => this.log.error({ err, roomId: room.stream.id }, "room catch-up failed"));
  }

  private async reload(room: LocalRoom) {
    try {
      const stored = await this.broker.load(room.stream.id, this.ringSize);
      if (room.life.closed) return;
      const before = room.state;
      if (stored.epoch !== room.epoch) {
        room.load(stored);
        this.pushAll(room, room.snapshotFrame(false, null));
      } else {
        room.adoptStateFrom(stored);
        for (const push of statePushes(before, room.state, room.stream.id, Date.now())) this.pushAll(room, JSON.stringify(push));
        if (stored.seq > room.lastSeq) await this.fetchMissing(room, stored.seq);
      }
    } catch (err) {
      this.log.warn({ err, roomId: room.stream.id }, "room resync failed");
    } finally {
      room.life.on("resynced");
      this.drain(room);
    }
  }

  /** Applies held messages while the room stays live. */
  private drain(room: LocalRoom) {
    for (let m = room.life.nextHeld(); m; m = room.life.nextHeld()) this.apply(room, m);
  }

  private apply(room: LocalRoom, message: RoomMessage) {
    switch (message.kind) {
      case "events":
        return this.applyEvents(room, message);
      case "state":
        return this.applyState(room, message.push, message.frame);
      case "mute":
        return room.setMute(message.userId, message.until);
      case "words":
        return room.setWords(message.words);
    }
  }

  private applyEvents(room: LocalRoom, message: Extract<RoomMessage, { kind: "events" }>) {
    const { epoch } = message;
    if (epoch !== room.epoch) {
      room.resetEpoch(epoch);
      this.pushAll(room, room.snapshotFrame(false, null));
    }
    const entries: EventEntry[] = [];
    for (const frame of message.frames) {
      const entry = parseEventFrame(frame);
      if (!entry) continue;
      if (entry.seq > room.lastSeq) entries.push(entry);
      else if (room.frameAt(entry.seq) !== undefined && room.frameAt(entry.seq) !== frame) {
        // Same (epoch, seq), different event: the broker lost writes (failover, restore). Void the epoch.
        this.log.error({ roomId: room.stream.id, seq: entry.seq }, "room sequence went backwards");
        void this.broker.rotateEpoch(room.stream.id, epoch).catch((err: unknown) => this.log.error({ err }, "epoch rotation failed"));
        return;
      }
    }
    if (entries.length === 0) return;
    if (entries[0]!.seq > room.lastSeq + 1) {
      room.life.on("gap");
      room.life.holdFirst(message);
      this.settle(room, this.fillGap(room, entries[0]!.seq - 1));
      return;
    }
    this.deliver(room, entries);
  }

  /** Pub/sub is at most once: a seq gap is filled from the broker's history before going on. */
  private async fillGap(room: LocalRoom, upTo: number) {
    try {
      await this.fetchMissing(room, upTo);
    } finally {
      if (room.life.on("filled") === "resyncing") await this.reload(room);
      else this.drain(room);
    }
  }

  /** Delivers lastSeq+1..upTo from the broker's history, retrying reads; what it no longer has is reported lost. */
  private async fetchMissing(room: LocalRoom, upTo: number) {
    const epoch = room.epoch;
    for (let attempt = 0; ; attempt++) {
      try {
        const rows = await this.broker.history(room.stream.id, room.lastSeq + 1, upTo);
        if (room.life.closed || room.epoch !== epoch) return;
        const entries = rows.map((r) => parseEventFrame(r.frame)).filter((e): e is EventEntry => e !== null);
        if (entries.length > 0) this.deliver(room, entries);
        break;
      } catch (err) {
        if (attempt + 1 >= GAP_RETRIES) {
          this.log.error({ err, roomId: room.stream.id }, "gap fill failed; clients get a fresh snapshot");
          break;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
    if (room.lastSeq < upTo && !room.life.closed) {
      this.log.warn({ roomId: room.stream.id, from: room.lastSeq + 1, upTo }, "events lost");
      // Positions inside the hole cannot be served any more: tell everyone to start from a snapshot.
      room.markHole(upTo);
      this.pushAll(room, room.snapshotFrame(false, null));
    }
  }

  private deliver(room: LocalRoom, entries: EventEntry[]) {
    if (room.life.closed) return;
    for (const e of entries) room.remember(e);
    for (const sink of this.sinks) sink.events(room.stream.id, room.epoch, entries);
  }

  private applyState(room: LocalRoom, push: StatePush, frame: string) {
    room.applyState(push);
    for (const sink of this.sinks) sink.push(room.stream.id, frame, push);
  }

  /** Sends one frame to every local client of the room (state, counts, snapshots). */
  pushAll(room: LocalRoom, frame: string) {
    if (room.life.closed) return;
    const message = JSON.parse(frame) as { type: string };
    for (const sink of this.sinks) sink.push(room.stream.id, frame, message);
  }
}
