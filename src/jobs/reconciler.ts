import type { Logger } from "../log.js";

/** Recreates one kind of job from PostgreSQL; returns how many things it looked at. */
export type Reconcile = () => Promise<number>;

/**
 * PostgreSQL is the truth about what must happen when; Redis only holds the timers. On start and
 * then every `intervalSec`, each part re-schedules what its rows say is due. Scheduling is
 * idempotent (job ids derive from the rows), so every node may run this at the same time.
 */
export function startReconciler(parts: Record<string, Reconcile>, intervalSec: number, log: Logger) {
  let running: Promise<void> | null = null;
  const runAll = () =>
    (running ??= (async () => {
      for (const [name, reconcile] of Object.entries(parts)) {
        try {
          const n = await reconcile();
          log.debug({ part: name, checked: n }, "jobs reconciled");
        } catch (err) {
          log.warn({ err, part: name }, "reconcile failed; the next round retries");
        }
      }
    })().finally(() => (running = null)));
  void runAll();
  const timer = setInterval(() => void runAll(), intervalSec * 1000);
  timer.unref();
  return {
    /** Runs a round now (tests, after a Redis failover) and resolves when it is done. */
    runNow: runAll,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
