/** A running ticker; stop() cancels the next run. */
export interface Ticker {
  stop(): void;
}

/**
 * Calls `fn` every `periodMs` on a fixed grid counted from the start. setInterval re-arms from the
 * moment its callback ran, so every late run (a busy event loop) pushes all later runs back and a
 * 50 ms tick becomes 50 ms plus the lag; here a late run is followed by the next grid point, and a
 * slot missed entirely is skipped, never run twice in a row to catch up.
 */
export function startTicker(periodMs: number, fn: () => void, now: () => number = () => performance.now()): Ticker {
  const start = now();
  let slot = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const t = now();
    slot = Math.max(slot + 1, Math.floor((t - start) / periodMs) + 1);
    timer = setTimeout(run, Math.max(1, Math.ceil(start + slot * periodMs - t)));
  };
  const run = () => {
    if (stopped) return;
    try {
      fn();
    } finally {
      if (!stopped) arm();
    }
  };
  arm();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
