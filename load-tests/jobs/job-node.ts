// A benchmark node, one per process: a producer that schedules at the given rate, or a worker that runs jobs.
import type { ChildCommand, Role } from "./protocol.js";
import { produce } from "./pacing.js";
import { openProducer, openWorkers, type Producer, type Workers } from "./queues.js";
import { Recorder } from "./recorder.js";

const rec = new Recorder();
let role: Role | undefined;
let producer: Producer | undefined;
let workers: Workers | undefined;

async function handle(msg: ChildCommand): Promise<object> {
  switch (msg.cmd) {
    case "start":
      role = msg.role;
      if (role === "producer") producer = openProducer(msg, rec);
      else workers = await openWorkers(msg, rec);
      return { ready: true };
    case "produce":
      if (!producer) throw new Error("not a producer");
      return produce(producer.add, msg, msg.t0);
    case "count":
      return { fired: rec.count };
    case "report":
      return rec.report();
    case "close":
      await Promise.allSettled([producer?.close(), workers?.close()]);
      setTimeout(() => process.exit(0), 100).unref();
      return { closed: true };
  }
}

process.on("disconnect", () => process.exit(0));
process.on("message", (msg: { id: number } & ChildCommand) => {
  handle(msg).then(
    (reply) => process.send?.({ id: msg.id, ...reply }),
    (err: unknown) => process.send?.({ id: msg.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
