import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { AppError } from "../protocol/errors.js";
import type { UnsequencedEvent } from "../protocol/messages.js";
import type { RoomBroker } from "./broker/broker.js";

/** An event's outcome: its seq, or sampled out (never sequenced or delivered). */
export type AppendResult = { seq: number } | { sampled: true };

interface Pending {
  body: string;
  sampleable: boolean;
  /** A comment: counted in the room's stats once sequenced. */
  comment: boolean;
  done(result: AppendResult): void;
  fail(error: unknown): void;
}

/** Events per append (and per published message). */
const MAX_EVENTS_PER_APPEND = 256;

/** Serializes an event once: the JSON without its opening brace, for the broker to prefix with seq. */
const eventBody = (event: UnsequencedEvent) => JSON.stringify(event).slice(1);

/**
 * The events of every room waiting for the next tick. `flush` appends each room's in one call to the
 * broker (bounded batches, in order), after sampling what a tick cannot use.
 */
export class AppendQueue {
  private pending = new Map<string, Pending[]>();

  constructor(
    private readonly deps: {
      broker: RoomBroker;
      metrics: Metrics;
      log: Logger;
      /** Sampleable events a room takes per second, across all nodes. */
      budgetPerSec: number;
      /** Called with the comments of a room that were sequenced (for its stats). */
      sequencedComments(roomId: string, n: number): void;
    },
  ) {}

  /** Resolves once the event is sequenced (or sampled out); fails with UNAVAILABLE when the broker does not answer. */
  add(roomId: string, event: UnsequencedEvent, sampleable: boolean): Promise<AppendResult> {
    return new Promise((done, fail) => {
      let list = this.pending.get(roomId);
      if (!list) this.pending.set(roomId, (list = []));
      list.push({ body: eventBody(event), sampleable, comment: event.type === "comment", done, fail });
    });
  }

  async flush() {
    if (this.pending.size === 0) return;
    const batches = this.pending;
    this.pending = new Map();
    // A tick never needs more sampleable comments than a whole second's budget; the broker enforces the rest.
    const appends: Promise<void>[] = [];
    for (const [roomId, list] of batches) {
      const kept = this.sample(list, this.deps.budgetPerSec);
      for (let i = 0; i < kept.length; i += MAX_EVENTS_PER_APPEND) {
        appends.push(this.append(roomId, kept.slice(i, i + MAX_EVENTS_PER_APPEND)));
      }
    }
    await Promise.all(appends);
  }

  /** Keeps at most `cap` sampleable events, chosen at random; the others are answered as sampled. */
  private sample(list: Pending[], cap: number): Pending[] {
    const sampleable = list.filter((p) => p.sampleable);
    if (sampleable.length <= cap) return list;
    for (let i = sampleable.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [sampleable[i], sampleable[j]] = [sampleable[j]!, sampleable[i]!];
    }
    const dropped = new Set(sampleable.slice(cap));
    for (const p of dropped) p.done({ sampled: true });
    this.deps.metrics.dropped.inc({ reason: "sampled" }, dropped.size);
    return list.filter((p) => !dropped.has(p));
  }

  private async append(roomId: string, list: Pending[]) {
    try {
      const { firstSeq, rejected } = await this.deps.broker.append(roomId, list, this.deps.budgetPerSec);
      const out = new Set(rejected);
      let seq = firstSeq;
      let comments = 0;
      list.forEach((p, i) => {
        if (out.has(i)) return p.done({ sampled: true });
        if (p.comment) comments++;
        p.done({ seq: seq++ });
      });
      if (comments > 0) this.deps.sequencedComments(roomId, comments);
      if (out.size > 0) this.deps.metrics.dropped.inc({ reason: "sampled" }, out.size);
    } catch (err) {
      this.deps.log.error({ err, roomId }, "append failed");
      for (const p of list) p.fail(new AppError("UNAVAILABLE", "The room is unavailable; try again."));
    }
  }
}
