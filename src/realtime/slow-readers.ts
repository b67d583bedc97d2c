import type { Config } from "../config.js";
import type { Metrics } from "../metrics.js";
import { CLOSE_CODES } from "../protocol/errors.js";

/** A live-room socket as the sweep sees it, whatever its transport. */
export interface SweptSocket {
  readonly closed: boolean;
  /** On the critical-only feed. */
  readonly lagging: boolean;
  /** Bytes queued for this socket and not yet taken by the kernel. */
  bufferedAmount(): number;
  setLagging(lagging: boolean): void;
  close(code: number, reason: string): void;
}

/**
 * The one slow-reader sweep of a node (raw WebSocket and socket.io alike), every WS_SWEEP_MS: past
 * the soft limit a socket gets critical events only, back under a quarter of it everything again,
 * and at the hard limit it is closed with SLOW_CONSUMER. The only per-socket loop of the hub.
 */
export function createSlowReaderSweep(deps: { ws: Config["ws"]; metrics: Metrics }) {
  const { ws, metrics } = deps;
  const sockets = new Set<SweptSocket>();
  let peak = 0;
  const timer = setInterval(() => {
    let lagging = 0;
    for (const s of sockets) {
      if (s.closed) continue;
      const buffered = s.bufferedAmount();
      if (buffered > peak) metrics.sendBufferPeak.set((peak = buffered));
      if (buffered >= ws.maxBackpressureBytes) {
        metrics.slowConsumerClosed.inc();
        metrics.dropped.inc({ reason: "slow_consumer" });
        s.close(CLOSE_CODES.SLOW_CONSUMER.code, "slow consumer");
        continue;
      }
      if (buffered >= ws.softBackpressureBytes && !s.lagging) s.setLagging(true);
      else if (s.lagging && buffered < ws.softBackpressureBytes / 4) s.setLagging(false);
      if (s.lagging) lagging++;
    }
    metrics.lagging.set(lagging);
  }, ws.sweepMs);

  return {
    add: (s: SweptSocket) => void sockets.add(s),
    delete: (s: SweptSocket) => void sockets.delete(s),
    stop: () => clearInterval(timer),
  };
}

export type SlowReaderSweep = ReturnType<typeof createSlowReaderSweep>;
