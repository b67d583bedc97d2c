// One numbered fault case: what it injected and what it checked, kept on the test's meta so the
// suite's reporter prints one line per case.
import { it, type TestContext } from "vitest";

export type FaultLog = {
  /** What this case did to the system (a kill, a cut, a forged request). */
  injected(what: string): void;
  /** What this case then verified held. */
  checked(what: string): void;
};

declare module "vitest" {
  interface TaskMeta {
    fault?: { number: number; injected: string[]; checked: string[] };
  }
}

/** Declares case `number` of the fault suite. */
export function faultCase(number: number, title: string, run: (log: FaultLog, ctx: TestContext) => Promise<void>, timeoutMs?: number) {
  it(`${String(number).padStart(2, "0")} ${title}`, async (ctx) => {
    const fault = { number, injected: [] as string[], checked: [] as string[] };
    ctx.task.meta.fault = fault;
    await run({ injected: (what) => fault.injected.push(what), checked: (what) => fault.checked.push(what) }, ctx);
  }, timeoutMs);
}
