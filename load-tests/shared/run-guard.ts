import { setTimeout as sleep } from "node:timers/promises";
import { children } from "../fanout/server-process.js";

const CLEANUP_MS = 20_000;

export const log = (msg: string) => process.stderr.write(`${msg}\n`);
export const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * One benchmark run's safety net: undo steps (run newest first, once, whatever ends the run), an
 * abort signal every phase watches, an overall deadline, and Ctrl-C / SIGTERM / a crash all ending
 * in the same clean-up, with child processes killed on exit.
 */
export function runGuard(name: string) {
  const steps: (() => Promise<unknown> | void)[] = [];
  let cleaning: Promise<void> | undefined;
  /** Aborted first thing on any abort, so no phase starts or keeps writing while the clean-up runs. */
  const stopAll = new AbortController();
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const step of steps.reverse()) {
        try {
          await step();
        } catch (err) {
          log(`cleanup: ${message(err)}`);
        }
      }
    })());

  async function abort(reason: string, code: number): Promise<void> {
    if (stopAll.signal.aborted) return;
    stopAll.abort();
    log(`${name} bench: ${reason}; cleaning up`);
    await Promise.race([cleanUp(), sleep(CLEANUP_MS)]);
    process.exit(code);
  }

  return {
    signal: stopAll.signal,
    /** Registers how to undo something the run just did. */
    undo: (step: () => Promise<unknown> | void) => void steps.push(step),
    cleanUp,
    /** Aborts the run (cleaning up) if it is still going after `ms`. */
    deadline(ms: number) {
      setTimeout(() => void abort(`overall deadline of ${Math.round(ms / 1000)} s passed`, 3), ms).unref();
    },
    /** Runs `main`, then exits; every way out goes through the clean-up. */
    run(main: () => Promise<void>) {
      process.on("exit", () => {
        for (const child of children) child.kill("SIGKILL");
      });
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void abort(signal, 130));
      main().then(
        () => process.exit(),
        async (err: unknown) => {
          if (stopAll.signal.aborted) return; // the abort under way exits
          log(`${name} bench failed: ${err instanceof Error ? err.stack : String(err)}`);
          await abort("failed", 1);
        },
      );
    },
  };
}
