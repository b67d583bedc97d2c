import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { wallMs } from "../fanout/stamp.js";
import { createJobs } from "../../src/jobs/jobs.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics.js";
import type { Mode } from "./protocol.js";
import type { Recorder } from "./recorder.js";

/** The job kind every run schedules: its queue is "push", as in production. */
export const KIND = "push.countdown";

export type NodeOptions = { mode: Mode; redisUrl: string; prefix: string; nodeId: string; concurrency: number; lockMs: number };
export type Producer = { add: (seq: number, at: number) => Promise<void>; close: () => Promise<void> };
export type Workers = { close: () => Promise<void> };

/**
 * The job's data: `pushId` is its key (the seq) and `rev` carries its due time, so a handler
 * knows both without any lookup. The key makes the job id, as in production.
 */
const data = (seq: number, at: number) => ({ pushId: String(seq), rev: at });

/** Our wrapper on a node that only enqueues (JOBS_WORKER=false). */
function pinliveProducer(o: NodeOptions): Producer {
  const jobs = createJobs({ ...o, redis: { url: o.redisUrl, cluster: null }, log: createLogger("warn", o.nodeId), metrics: createMetrics(), work: false });
  return { add: (seq, at) => jobs.schedule(KIND, String(seq), data(seq, at), at), close: () => jobs.close() };
}

/** Our wrapper on a worker node: the bench handler registered with `handle`, then `start`. */
function pinliveWorkers(o: NodeOptions, rec: Recorder): Workers {
  const jobs = createJobs({ ...o, redis: { url: o.redisUrl, cluster: null }, log: createLogger("warn", o.nodeId), metrics: createMetrics(), work: true });
  jobs.handle(KIND, (d, job) => {
    rec.record(Number(d.pushId), d.rev, job.scheduledAt, job.attemptsMade);
    return Promise.resolve();
  });
  jobs.start();
  return { close: () => jobs.close() };
}

/** BullMQ as its README shows it: one Queue, `add` with a delay, the same job ids; no wrapper. */
function bullmqProducer(o: NodeOptions): Producer {
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: 3 });
  connection.on("error", (err: Error) => console.error(`bullmq producer: ${err.message}`));
  const queue = new Queue("push", { connection, prefix: o.prefix });
  return {
    add: async (seq, at) => {
      await queue.add(KIND, data(seq, at), { jobId: `push-countdown-${seq}`, delay: Math.max(0, at - Date.now()), removeOnComplete: true });
    },
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

/** One BullMQ Worker with BullMQ's defaults but the same concurrency. */
async function bullmqWorkers(o: NodeOptions, rec: Recorder): Promise<Workers> {
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    "push",
    (job) => {
      const d = job.data as ReturnType<typeof data>;
      rec.record(Number(d.pushId), d.rev, job.timestamp + (job.opts.delay ?? 0), job.attemptsMade);
      return Promise.resolve();
    },
    { connection, prefix: o.prefix, concurrency: o.concurrency },
  );
  worker.on("error", (err) => console.error(`bullmq worker: ${err.message}`));
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}

/**
 * The floor: a plain `setTimeout` per job in the producing process, re-armed if it fires before
 * the due time (libuv's cached loop time can make a timer fire up to a millisecond early).
 */
function timersProducer(rec: Recorder): Producer {
  const pending = new Set<NodeJS.Timeout>();
  const arm = (seq: number, at: number) => {
    const timer = setTimeout(() => {
      pending.delete(timer);
      const early = at - wallMs();
      if (early > 0) arm(seq, at);
      else rec.record(seq, at, at, 0);
    }, Math.max(1, Math.ceil(at - wallMs())));
    pending.add(timer);
  };
  return {
    add: (seq, at) => {
      arm(seq, at);
      return Promise.resolve();
    },
    close: () => {
      for (const t of pending) clearTimeout(t);
      return Promise.resolve();
    },
  };
}

export function openProducer(o: NodeOptions, rec: Recorder): Producer {
  if (o.mode === "pinlive") return pinliveProducer(o);
  if (o.mode === "bullmq") return bullmqProducer(o);
  return timersProducer(rec);
}

export async function openWorkers(o: NodeOptions, rec: Recorder): Promise<Workers> {
  if (o.mode === "pinlive") return pinliveWorkers(o, rec);
  if (o.mode === "bullmq") return bullmqWorkers(o, rec);
  throw new Error("timers fire in the producer; they have no workers");
}
