import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startTicker, type Ticker } from "./ticker.js";

/** Start times of the first `runs` runs (relative to the start), each run keeping the clock busy for busyMs(i). */
function runTimes(periodMs: number, runs: number, busyMs: (i: number) => number): number[] {
  const at: number[] = [];
  const t0 = Date.now();
  const ticker: Ticker = startTicker(
    periodMs,
    () => {
      at.push(Date.now() - t0);
      if (at.length === runs) ticker.stop();
      vi.advanceTimersByTime(busyMs(at.length - 1)); // the run itself keeps the event loop busy
    },
    () => Date.now(),
  );
  vi.advanceTimersByTime(periodMs * runs * 10);
  return at;
}

describe("ticker", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("keeps to its grid when each run takes part of the period (setInterval would drift to 80 ms)", () => {
    expect(runTimes(50, 5, () => 30)).toEqual([50, 100, 150, 200, 250]);
  });

  it("skips the slots a run overran instead of running twice to catch up", () => {
    expect(runTimes(50, 4, (i) => (i === 0 ? 120 : 0))).toEqual([50, 200, 250, 300]);
  });

  it("runs no more after stop, and goes on after a run throws", () => {
    let runs = 0;
    const ticker = startTicker(
      10,
      () => {
        runs++;
        if (runs === 1) throw new Error("boom");
      },
      () => Date.now(),
    );
    expect(() => vi.advanceTimersByTime(10)).toThrow("boom");
    vi.advanceTimersByTime(20);
    expect(runs).toBe(3);
    ticker.stop();
    vi.advanceTimersByTime(100);
    expect(runs).toBe(3);
  });
});
