import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { createFlashGate, requestField } from "../../src/orders/flash-gate.redis.js";
import { redisKeys } from "../../src/redis/keys.js";
import { Samples, type Latency } from "./latency.js";

export type GateResult = {
  units: number;
  ops: number;
  taken: number;
  limited: number;
  soldOut: number;
  /** Units the gate still held at the end (0 once sold out). */
  left: number | null;
  durationSec: number;
  opsPerSec: number;
  takesPerSec: number;
  latency: Latency;
  driverCpuPct: number;
};

/**
 * The server's own gate script on one ioredis connection (C callers pipeline on it): random buyers
 * take one unit each until the gate says sold out, capMs passes or the signal aborts. Buyers are plentiful enough
 * (2 × units / limit) that the per-user limit refuses only some takes, as in a real rush.
 */
export async function gateCeiling(
  redisUrl: string,
  prefix: string,
  o: { units: number; limit: number; concurrency: number; capMs: number; signal: AbortSignal },
): Promise<GateResult> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000, commandTimeout: 10_000 });
  redis.on("error", () => undefined);
  const gate = createFlashGate(redis, redisKeys(prefix));
  const id = "gate-ceiling";
  const users = Math.max(1, Math.ceil((2 * o.units) / o.limit));
  const latency = new Samples();
  let [taken, limited, soldOut] = [0, 0, 0];
  let stop = false;
  try {
    await gate.drop(id);
    o.signal.throwIfAborted();
    await gate.load(id, 10 * 60_000, o.units, []);
    const t0 = performance.now();
    const drv0 = process.cpuUsage();
    let lastTakeAt = t0;
    let seq = 0;
    const caller = async () => {
      while (!stop && !o.signal.aborted && performance.now() - t0 < o.capMs) {
        const start = performance.now();
        const n = ++seq;
        const user = `u${Math.floor(Math.random() * users)}`;
        // A fresh request each call, as every buyer's tap is: the script records its answer and the take.
        const r = await gate.take(id, user, 1, o.limit, { field: requestField(user, `k${n}`), hash: "h" }, `o${n}`);
        latency.add(performance.now() - start);
        if (r.kind === "taken") {
          taken += 1;
          lastTakeAt = performance.now();
          if (r.left === 0) stop = true;
        } else if (r.kind === "limit") {
          limited += 1;
        } else if (r.kind === "soldOut") {
          soldOut += 1;
          stop = true;
        } else {
          throw new Error(`gate answered ${JSON.stringify(r)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, caller));
    const durationSec = (performance.now() - t0) / 1000;
    const drv = process.cpuUsage(drv0);
    const left = await gate.left(id);
    return {
      units: o.units,
      ops: latency.count,
      taken,
      limited,
      soldOut,
      left,
      durationSec,
      opsPerSec: latency.count / durationSec,
      takesPerSec: taken / ((lastTakeAt - t0) / 1000),
      latency: latency.summary(),
      driverCpuPct: ((drv.user + drv.system) / 1e6 / durationSec) * 100,
    };
  } finally {
    stop = true;
    await gate.drop(id).catch(() => undefined);
    redis.disconnect();
  }
}
