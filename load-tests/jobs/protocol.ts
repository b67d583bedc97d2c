/** What a run schedules and who fires it: our `createJobs`, bare BullMQ, or `setTimeout` in the producer itself. */
export type Mode = "pinlive" | "bullmq" | "timers";

/** A producer schedules (in timers mode it fires too); a worker runs the jobs, like a production node with JOBS_WORKER. */
export type Role = "producer" | "worker";

/** The fixed schedule of one run: job `seq` is issued at `t0 + seq × 1000 / rate` and due `delayMs` later. */
export type Schedule = { rate: number; seconds: number; delayMs: number };

/** Parent → child. Every command gets exactly one reply with the same id. */
export type ChildCommand =
  | { cmd: "start"; role: Role; mode: Mode; redisUrl: string; prefix: string; nodeId: string; concurrency: number; lockMs: number }
  | ({ cmd: "produce"; t0: number } & Schedule)
  | { cmd: "count" }
  | { cmd: "report" }
  | { cmd: "close" };

export type StartReply = { ready: true };

export type ProduceReply = {
  planned: number;
  /** 1 at seq when its add was acknowledged, 2 when it failed. */
  outcome: Uint8Array;
  firstError: string | null;
  /** Round trip of each acknowledged add (ms): the producer's view of Redis. */
  addMs: Float64Array;
  /** How late each add was issued against its slot in the schedule (ms): the producer's own lag. */
  issueLagMs: Float64Array;
  /** Wall-clock ms of the last acknowledgement. */
  lastAckAt: number;
};

export type CountReply = { fired: number };

/** One line per handler run, in firing order. */
export type FiredReply = {
  seq: Float64Array;
  /** When the job was meant to run (wall-clock ms, from the job's data). */
  at: Float64Array;
  /** When the queue itself had it due (BullMQ: timestamp + delay); equals `at` for timers. */
  due: Float64Array;
  firedAt: Float64Array;
  /** Runs that were not the job's first attempt (a retry or a stalled job run again). */
  retries: number;
};

/** A command that threw answers `{ error }` instead. */
export type ChildReply = { id: number } & (StartReply | ProduceReply | CountReply | FiredReply | { closed: true } | { error: string });
