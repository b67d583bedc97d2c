import { Queue, Worker, type Job } from "bullmq";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { withTimeout } from "../unavailable.js";
import { createRedisClient, watchSilence, type RedisClient, type RedisTarget } from "../redis/connect.js";

/** Every timed job and the data it carries. A job's id derives from what it acts on. */
export interface JobData {
  /** Shows a scheduled product push (revision `rev`) as the room's bubble. */
  "push.fire": { pushId: string; rev: number };
  /** Announces the "starts in" countdown of a scheduled push. */
  "push.countdown": { pushId: string; rev: number };
  /** Closes an order that was not paid in time (also an unpaid group-buy hold). */
  "order.timeout": { orderId: string };
  /** The same for the orders one flash batch placed together (one deadline). */
  "order.timeouts": { orderIds: string[] };
  /** Ends a group buy at its deadline: complete if every place is paid, otherwise failed. */
  "group.expire": { groupId: string };
  /** Refunds every paid member of a failed group, each exactly once. */
  "group.settle": { groupId: string };
  /** Deletes expired sessions and old Idempotency-Key rows (repeating: `every`). */
  "maintenance.cleanup": Record<string, never>;
}
export type JobKind = keyof JobData;

type Handler<K extends JobKind> = (data: JobData[K], job: { attemptsMade: number; scheduledAt: number }) => Promise<void>;

export interface JobsOptions {
  /** A standalone Redis or a cluster (BullMQ runs on either). */
  redis: RedisTarget;
  /** BullMQ key prefix; must be one hash tag (`{pinlive:jobs}`) so each queue's keys share a cluster slot. */
  prefix: string;
  nodeId: string;
  log: Logger;
  metrics: Metrics;
  /** Run workers on this node (every node can enqueue). */
  work: boolean;
  concurrency: number;
  /** A job whose worker stops renewing its lock for this long (a killed process) runs again elsewhere. */
  lockMs: number;
  /**
   * Scheduling calls (schedule, unschedule, scheduledAt, every) fail with UNAVAILABLE when Redis has
   * not answered within this; the producer's commands time out alike. Unset: they wait for Redis.
   */
  commandTimeoutMs?: number;
}

/** Queue of a kind: the part before the dot. Each queue has its own worker and concurrency. */
const queueName = (kind: JobKind) => kind.slice(0, kind.indexOf("."));
/** BullMQ job ids may not contain ':'. */
const jobId = (kind: JobKind, key: string) => `${kind.replace(".", "-")}-${key}`;

const RETRY = { attempts: 12, backoff: { type: "exponential", delay: 1000 } } as const;
/** BullMQ blocks a worker's BZPOPMIN for at most 10 s; silence longer than this means the network is gone. */
const WORKER_SILENCE_MS = 12_000;
/** How long closing waits for workers and queues before cutting their connections. */
const CLOSE_WAIT_MS = 10_000;

/**
 * Timers on BullMQ: at-least-once delivery, so every handler re-checks state in PostgreSQL before
 * acting and acts through conditional updates. Scheduling the same thing twice is one job (the id
 * derives from it); a job whose worker died is picked up again once its lock lapses.
 */
export function createJobs(opts: JobsOptions) {
  const { log, metrics } = opts;
  if (opts.redis.cluster && !/^\{[^{}]+\}$/.test(opts.prefix)) throw new Error(`BullMQ on a Redis Cluster needs a prefix that is one hash tag, not "${opts.prefix}"`);
  const connection = (role: string, blocking: boolean) =>
    createRedisClient(opts.redis, {
      name: `jobs-${role}`,
      nodeId: opts.nodeId,
      blocking,
      ...(blocking || !opts.commandTimeoutMs ? {} : { commandTimeoutMs: opts.commandTimeoutMs }),
      // A worker's connections cannot be pinged (a PING waits behind BZPOPMIN): one silent longer
      // than the longest block is dropped and made again, or a black-holed network stops every timer.
      ...(blocking ? { socketTimeoutMs: WORKER_SILENCE_MS } : {}),
    });
  const producer = connection("queue", false);
  producer.on("error", (err: Error) => log.warn({ err: err.message }, "jobs redis error"));
  if (opts.commandTimeoutMs) watchSilence(producer, "jobs-queue", opts.commandTimeoutMs, log);
  /** Bounds a scheduling call: Redis away must not hold the caller (the reconciler repairs what is missed). */
  const bounded = <T>(what: string, work: Promise<T>): Promise<T> => (opts.commandTimeoutMs ? withTimeout(work, opts.commandTimeoutMs, `${what}: Redis`) : work);
  const queues = new Map<string, Queue>();
  const handlers = new Map<JobKind, Handler<JobKind>>();
  const workers: Worker[] = [];
  const workerConnections: RedisClient[] = [];

  function queue(kind: JobKind) {
    const name = queueName(kind);
    let q = queues.get(name);
    if (!q) {
      queues.set(name, (q = new Queue(name, { connection: producer, prefix: opts.prefix })));
      // The producer connection's own listener logs Redis errors; without this BullMQ prints them to stderr.
      q.on("error", (err: Error) => log.debug({ err: err.message, queue: name }, "queue error"));
    }
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
      await bounded("schedule", q.add(kind, data, { jobId: id, delay, ...RETRY, removeOnComplete: true, removeOnFail: true }));
    },

    /**
     * Runs `kind` every `everyMs`, once per period across all nodes (a BullMQ job scheduler named
     * after the kind; setting it again only changes its period).
     */
    async every<K extends JobKind>(kind: K, everyMs: number, data: JobData[K]) {
      await bounded("every", queue(kind).upsertJobScheduler(jobId(kind, "every"), { every: everyMs }, { name: kind, data, opts: { removeOnComplete: true, removeOnFail: true } }));
    },

    /** Drops a waiting job (a moved or cancelled push). A job already running finishes, and re-checks state. */
    async unschedule(kind: JobKind, key: string) {
      const job = await bounded("unschedule", queue(kind).getJob(jobId(kind, key)));
      if (!job) return;
      try {
        await bounded("unschedule", job.remove());
      } catch (err) {
        log.debug({ err, kind, key }, "job not removed (it is running)");
      }
    },

    /** The job waiting for `key`, if any: when it runs (for tests, the reconciler and the console). */
    async scheduledAt(kind: JobKind, key: string): Promise<number | null> {
      const job = await bounded("scheduledAt", queue(kind).getJob(jobId(kind, key)));
      if (!job || (await bounded("scheduledAt", job.getState())) === "completed") return null;
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
        const workerConnection = connection(`worker-${name}`, true);
        // BullMQ drops its own listener on close; a socket timeout after that must not go unhandled.
        workerConnection.on("error", (err: Error) => log.debug({ err: err.message, queue: name }, "worker connection error"));
        workerConnections.push(workerConnection);
        const worker = new Worker(name, run, {
          connection: workerConnection,
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

    /** Lets running jobs finish, then closes; with Redis silent it gives up after CLOSE_WAIT_MS and cuts the connections. */
    async close() {
      let timer: NodeJS.Timeout | undefined;
      const closed = (async () => {
        await Promise.allSettled(workers.map((w) => w.close()));
        await Promise.allSettled([...queues.values()].map((q) => q.close()));
      })().then(() => true);
      const inTime = await Promise.race([closed, new Promise<false>((r) => (timer = setTimeout(() => r(false), CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
      if (!inTime) log.warn({ waitedMs: CLOSE_WAIT_MS }, "jobs did not close in time (Redis silent?); disconnecting");
      for (const c of workerConnections) c.disconnect();
      producer.disconnect();
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
