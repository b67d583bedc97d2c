// What BullMQ says happened to a node's timers while a case ran: jobs that stalled (their worker
// stopped renewing the lock: a dead process), failed, or completed.
import { QueueEvents } from "bullmq";
import { redisKeys } from "../../../src/redis/keys.js";

/** Listens to the events of `queues` (`order`, `group`, `push`) under the nodes' Redis prefix until `close`. */
export async function watchJobs(redisUrl: string, redisPrefix: string, queues: string[]) {
  const stalled: string[] = [];
  const failed: { jobId: string; reason: string }[] = [];
  let completed = 0;
  const { hostname, port } = new URL(redisUrl);
  const events = queues.map((name) => new QueueEvents(name, { connection: { host: hostname, port: Number(port || 6379) }, prefix: redisKeys(redisPrefix).jobs }));
  for (const e of events) {
    e.on("stalled", ({ jobId }) => stalled.push(jobId));
    e.on("failed", ({ jobId, failedReason }) => failed.push({ jobId, reason: failedReason }));
    e.on("completed", () => completed++);
    e.on("error", () => {});
  }
  await Promise.all(events.map((e) => e.waitUntilReady()));
  return {
    stalled,
    failed,
    get completed() {
      return completed;
    },
    close: () => Promise.all(events.map((e) => e.close())),
  };
}
