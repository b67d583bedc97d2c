import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";

/** Every timed job and the data it carries. A job's id derives from what it acts on. */
export interface JobData {
  /** Shows a scheduled product push (revision `rev`) as the room's bubble. */
  "push.fire": { pushId: string; rev: number };
  /** Announces the "starts in" countdown of a scheduled push. */
  "push.countdown": { pushId: string; rev: number };
  /** Closes an order that was not paid in time (also an unpaid group-buy hold). */
  "order.timeout": { orderId: string };
  /** Ends a group buy at its deadline: complete if every place is paid, otherwise failed. */
  "group.expire": { groupId: string };
  /** Refunds every paid member of a failed group, each exactly once. */
  "group.settle": { groupId: string };
}
export type JobKind = keyof JobData;

type Handler<K extends JobKind> = (data: JobData[K], job: { attemptsMade: number; scheduledAt: number }) => Promise<void>;

export interface JobsOptions {
  redisUrl: string;
  /** BullMQ key prefix; must be one hash tag (`{pinlive}`) so each queue's keys share a cluster slot. */
  prefix: string;
  nodeId: string;
  log: Logger;
  metrics: Metrics;
  /** Run workers on this node (every node can enqueue). */
  work: boolean;
  concurrency: number;
  /** A job whose worker stops renewing its lock for this long (a killed process) runs again elsewhere. */
  lockMs: number;
}

/** Queue of a kind: the part before the dot. Each queue has its own worker and concurrency. */
const queueName = (kind: JobKind) => kind.slice(0, kind.indexOf("."));
/** BullMQ job ids may not contain ':'. */
const jobId = (kind: JobKind, key: string) => `${kind.replace(".", "-")}-${key}`;

const RETRY = { attempts: 12, backoff: { type: "exponential", delay: 1000 } } as const;

/**
 * Timers on BullMQ: at-least-once delivery, so every handler re-checks state in PostgreSQL before
 * acting and acts through conditional updates. Scheduling the same thing twice is one job (the id
 * derives from it); a job whose worker died is picked up again once its lock lapses.
 */
export function createJobs(opts: JobsOptions) {
  const { log, metrics } = opts;
  const connection = (role: string, blocking: boolean) =>
    new Redis(opts.redisUrl, { connectionName: `pinlive-jobs-${role}-${opts.nodeId}`, maxRetriesPerRequest: blocking ? null : 3 });
  const producer = connection("queue", false);
  producer.on("error", (err: Error) => log.warn({ err: err.message }, "jobs redis error"));
  const queues = new Map<string, Queue>();
  const handlers = new Map<JobKind, Handler<JobKind>>();
  const workers: Worker[] = [];

  function queue(kind: JobKind) {
    const name = queueName(kind);
    let q = queues.get(name);
    if (!q) queues.set(name, (q = new Queue(name, { connection: producer, prefix: opts.prefix })));
    return q;
  }

  async function run(job: Job) {
    const kind = job.name as JobKind;
    const handler = handlers.get(kind);
    if (!handler) throw new Error(`no handler for job ${kind}`);
    const scheduledAt = job.timestamp + (job.opts.delay ?? 0);
    if (job.attemptsMade === 0) metrics.jobLateness.observe({ kind }, Math.max(0, Date.now() - scheduledAt) / 1000);
    const end = metrics.jobDuration.startTimer({ kind });
    try {
      await handler(job.data as JobData[typeof kind], { attemptsMade: job.attemptsMade, scheduledAt });
      metrics.jobsRun.inc({ kind, outcome: "done" });
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      metrics.jobsRun.inc({ kind, outcome: last ? "gave_up" : "retry" });
      if (last) log.error({ err, kind, jobId: job.id }, "job gave up after its retries; the reconciler schedules it again");
      else log.warn({ err, kind, jobId: job.id, attempt: job.attemptsMade + 1 }, "job failed; it will be retried");
      throw err;
    } finally {
      end();
    }
  }

  return {
    /** Registers what a kind of job does. Register every kind before `start`. */
    handle<K extends JobKind>(kind: K, handler: Handler<K>) {
      handlers.set(kind, handler as unknown as Handler<JobKind>);
    },

    /**
     * Runs `kind` with `data` at `at` (ms; now or past: right away). `key` names what it acts on:
     * scheduling the same key again while the job waits is a no-op.
     */
    async schedule<K extends JobKind>(kind: K, key: string, data: JobData[K], at: number) {
      const q = queue(kind);
      const id = jobId(kind, key);
      const delay = Math.max(0, at - Date.now());
      // A job that ran out of retries is removed too: a kept one would block its id, and the
      // reconciler (the long-term retry) could never schedule it again.
      await q.add(kind, data, { jobId: id, delay, ...RETRY, removeOnComplete: true, removeOnFail: true });
    },

    /** Drops a waiting job (a moved or cancelled push). A job already running finishes, and re-checks state. */
    async unschedule(kind: JobKind, key: string) {
      const job = await queue(kind).getJob(jobId(kind, key));
      if (!job) return;
      try {
        await job.remove();
      } catch (err) {
        log.debug({ err, kind, key }, "job not removed (it is running)");
      }
    },

    /** The job waiting for `key`, if any: when it runs (for tests, the reconciler and the console). */
    async scheduledAt(kind: JobKind, key: string): Promise<number | null> {
      const job = await queue(kind).getJob(jobId(kind, key));
      if (!job || (await job.getState()) === "completed") return null;
      return job.timestamp + (job.opts.delay ?? 0);
    },

    /** Runs a waiting job now (an admin "expire now", tests). False when there is none waiting. */
    async runNow(kind: JobKind, key: string) {
      const job = await queue(kind).getJob(jobId(kind, key));
      if (!job || !(await job.isDelayed())) return false;
      await job.promote();
      return true;
    },

    /** Starts the workers of every queue that has handlers (when this node works). */
    start() {
      if (!opts.work) return;
      const names = new Set([...handlers.keys()].map(queueName));
      for (const name of names) {
        const worker = new Worker(name, run, {
          connection: connection(`worker-${name}`, true),
          prefix: opts.prefix,
          concurrency: opts.concurrency,
          lockDuration: opts.lockMs,
          stalledInterval: Math.max(1000, Math.floor(opts.lockMs / 2)),
          maxStalledCount: 5,
        });
        worker.on("error", (err) => log.warn({ err: err.message, queue: name }, "worker error"));
        workers.push(worker);
      }
    },

    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      producer.disconnect();
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
