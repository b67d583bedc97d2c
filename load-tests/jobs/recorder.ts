import { wallMs } from "../fanout/stamp.js";
import type { FiredReply } from "./protocol.js";

/** Every handler run of one process, kept whole (a default run is 20,000 lines). */
export class Recorder {
  private readonly seq: number[] = [];
  private readonly at: number[] = [];
  private readonly due: number[] = [];
  private readonly firedAt: number[] = [];
  private retries = 0;

  /** Called first thing in the handler: `at` is when the job was meant to run, `due` when its queue had it due. */
  record(seq: number, at: number, due: number, attemptsMade: number): void {
    this.firedAt.push(wallMs());
    this.seq.push(seq);
    this.at.push(at);
    this.due.push(due);
    if (attemptsMade > 0) this.retries++;
  }

  get count(): number {
    return this.seq.length;
  }

  report(): FiredReply {
    return {
      seq: Float64Array.from(this.seq),
      at: Float64Array.from(this.at),
      due: Float64Array.from(this.due),
      firedAt: Float64Array.from(this.firedAt),
      retries: this.retries,
    };
  }
}
