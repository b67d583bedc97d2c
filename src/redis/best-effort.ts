import type { Logger } from "../log.js";

/**
 * Waits for `work` at most `ms`, never failing: for Redis side effects after a commit (a timer, an
 * announcement) that something else repairs when they are lost (the reconciler, the next check).
 * Resolves true when it finished in time; a late `work` still runs to its end, unobserved.
 */
export async function bestEffort(work: Promise<unknown>, ms: number, log: Logger, what: Record<string, unknown> & { msg: string }): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const { msg, ...fields } = what;
  const outcome = await Promise.race([
    work.then(
      () => "done" as const,
      (err: unknown) => {
        log.warn({ ...fields, err }, msg);
        return "failed" as const;
      },
    ),
    new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms))),
  ]);
  clearTimeout(timer);
  if (outcome === "late") log.warn({ ...fields, waitedMs: ms }, `${msg} (timed out)`);
  return outcome === "done";
}
