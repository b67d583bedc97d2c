import { writeFileSync } from "node:fs";

/** The monotonic clock in µs: the one V8 stamps a CPU profile's samples with, on Linux. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** Marks the measured phase beside a `node --cpu-prof` profile, for `load-tests/fanout/profile-summary.ts`. */
export function writeProfileWindow(dir: string, window: { fromUs: number; toUs: number }, name = "window.json") {
  writeFileSync(`${dir}/${name}`, `${JSON.stringify(window)}\n`);
}
