import type { Logger } from "../log.js";
import { StatePush, type RoomState } from "../protocol/messages.js";
import type { EventEntry, FanoutSink } from "./client.js";
import { parseEventFrame, withGroup, type LocalRoom } from "./room.js";
import { CHANNEL_CONTROL, CHANNEL_EVENTS, CHANNEL_STATE, type LoadedRoom, type RoomStore } from "./room-store.redis.js";

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
 * Keeps each LocalRoom in step with its Redis channel and stream, and hands what changes to the
 * sinks. Events go out once each, in seq order: duplicates are dropped, gaps are filled from the
 * stream (retrying) before anything later, a lost subscription is caught up with a reload, and a
 * seq that went backwards inside an epoch voids the epoch.
 */
export class RoomFeed {
  constructor(
    private readonly store: RoomStore,
    private readonly sinks: readonly FanoutSink[],
    private readonly log: Logger,
    private readonly ringSize: number,
  ) {}

  /** A message from the room's channel. Never throws. */
  receive(room: LocalRoom, message: string) {
    try {
      if (!room.ready || room.fillingGap) room.backlog.push(message);
      else this.apply(room, message);
    } catch (err) {
      this.log.error({ err, roomId: room.stream.id }, "bad channel message");
    }
  }

  /** First load after subscribing: adopt Redis's view, then what arrived meanwhile. */
  adopt(room: LocalRoom, loaded: LoadedRoom) {
    room.load(loaded);
    room.ready = true;
    this.drain(room);
  }

  /**
   * Catches a room up after its subscription may have missed messages (reconnect, or counts that
   * disagree): reloads state and mutes, delivers missing events, or resyncs under a new epoch.
   */
  async resync(room: LocalRoom) {
    if (room.disposed || !room.ready) return;
    room.ready = false;
    try {
      const loaded = await this.store.load(room.stream.id, this.ringSize);
      if (room.disposed) return;
      const before = room.state;
      if (loaded.epoch !== room.epoch) {
        room.load(loaded);
        this.pushAll(room, room.snapshotFrame(false, null));
      } else {
        room.adoptStateFrom(loaded);
        for (const push of statePushes(before, room.state, room.stream.id, Date.now())) this.pushAll(room, JSON.stringify(push));
        if (loaded.seq > room.lastSeq) await this.fetchMissing(room, loaded.seq);
      }
    } catch (err) {
      this.log.warn({ err, roomId: room.stream.id }, "room resync failed");
    } finally {
      room.ready = true;
      this.drain(room);
    }
  }

  private drain(room: LocalRoom) {
    while (room.backlog.length > 0 && room.ready && !room.fillingGap && !room.disposed) {
      this.apply(room, room.backlog.shift()!);
    }
  }

  private apply(room: LocalRoom, message: string) {
    const kind = message[0];
    if (kind === CHANNEL_EVENTS) this.applyEvents(room, message);
    else if (kind === CHANNEL_STATE) this.applyState(room, message.slice(1));
    else if (kind === CHANNEL_CONTROL) this.applyControl(room, message.slice(1));
  }

  private applyEvents(room: LocalRoom, message: string) {
    const nl = message.indexOf("\n");
    const epoch = message.slice(1, nl);
    if (epoch !== room.epoch) {
      room.resetEpoch(epoch);
      this.pushAll(room, room.snapshotFrame(false, null));
    }
    const entries: EventEntry[] = [];
    for (const frame of message.slice(nl + 1).split("\n")) {
      const entry = parseEventFrame(frame);
      if (!entry) continue;
      if (entry.seq > room.lastSeq) entries.push(entry);
      else if (room.frameAt(entry.seq) !== undefined && room.frameAt(entry.seq) !== frame) {
        // Same (epoch, seq), different event: Redis lost writes (failover, restore). Void the epoch.
        this.log.error({ roomId: room.stream.id, seq: entry.seq }, "room sequence went backwards");
        void this.store.rotateEpoch(room.stream.id, epoch).catch((err: unknown) => this.log.error({ err }, "epoch rotation failed"));
        return;
      }
    }
    if (entries.length === 0) return;
    if (entries[0]!.seq > room.lastSeq + 1) {
      room.backlog.unshift(message);
      void this.fillGap(room, entries[0]!.seq - 1);
      return;
    }
    this.deliver(room, entries);
  }

  /** Redis pub/sub is at-most-once: a seq gap is filled from the room's stream before going on. */
  private async fillGap(room: LocalRoom, upTo: number) {
    room.fillingGap = true;
    try {
      await this.fetchMissing(room, upTo);
    } finally {
      room.fillingGap = false;
      this.drain(room);
    }
  }

  /** Delivers lastSeq+1..upTo from the stream, retrying reads; what the stream no longer has is reported lost. */
  private async fetchMissing(room: LocalRoom, upTo: number) {
    const epoch = room.epoch;
    for (let attempt = 0; ; attempt++) {
      try {
        const rows = await this.store.range(room.stream.id, room.lastSeq + 1, upTo);
        if (room.disposed || room.epoch !== epoch) return;
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
    if (room.lastSeq < upTo) {
      this.log.warn({ roomId: room.stream.id, from: room.lastSeq + 1, upTo }, "events lost");
      room.lastSeq = upTo;
      // Positions inside the hole cannot be served any more: tell everyone to start from a snapshot.
      room.markHole(upTo);
      this.pushAll(room, room.snapshotFrame(false, null));
    }
  }

  private deliver(room: LocalRoom, entries: EventEntry[]) {
    if (room.disposed) return;
    for (const e of entries) room.remember(e);
    for (const sink of this.sinks) sink.events(room.stream.id, room.epoch, entries);
  }

  private applyState(room: LocalRoom, frame: string) {
    const parsed = StatePush.safeParse(JSON.parse(frame));
    if (!parsed.success) return;
    const push = parsed.data;
    switch (push.type) {
      case "product_highlight":
        room.setState({ bubble: push.product });
        break;
      case "stream_start":
        room.setState({ status: "live" });
        break;
      case "stream_end":
        room.setState({ status: "ended" });
        break;
      case "pinned":
        room.setState({ pinned: push.pin });
        break;
      case "slow_mode":
        room.setState({ slowModeSec: push.seconds });
        break;
      case "flash_sale":
        room.setState({ flashSale: push.sale });
        break;
      case "upcoming_products":
        room.setState({ upcoming: push.items });
        break;
      case "product_countdown":
        room.setState({ countdown: push.countdown });
        break;
      case "coupon":
        room.setState({ coupon: push.coupon });
        break;
      case "group_progress":
      case "group_complete":
      case "group_failed":
        room.setState({ groups: push.groups ?? withGroup(room.state.groups, push.group) });
        break;
    }
    for (const sink of this.sinks) sink.push(room.stream.id, frame, push);
  }

  private applyControl(room: LocalRoom, json: string) {
    const c = JSON.parse(json) as { kind?: string; userId?: unknown; until?: unknown };
    if (c.kind !== "mute" || typeof c.userId !== "string" || typeof c.until !== "number") return;
    if (c.until > 0) room.muted.set(c.userId, c.until);
    else room.muted.delete(c.userId);
  }

  /** Sends one frame to every local client of the room (state, counts, snapshots). */
  pushAll(room: LocalRoom, frame: string) {
    if (room.disposed) return;
    const message = JSON.parse(frame) as { type: string };
    for (const sink of this.sinks) sink.push(room.stream.id, frame, message);
  }
}
