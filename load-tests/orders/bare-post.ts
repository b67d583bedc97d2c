import { performance } from "node:perf_hooks";
import { buildAgainstServer } from "../../scripts/build-server.js";
import { cpuSeconds, startServer } from "../fanout/server-process.js";
import { Samples, type Latency } from "./latency.js";
import { rawHttp, type RawHttp } from "./raw-http.js";
import type { Sale } from "./sale-setup.js";

/** Requests before the measured seconds, not counted: the server's warm-up (JIT, sessions, prepared statements). */
const WARM_UP_SEC = 1;

/** One ceiling: its answers of the expected status, the rest (`failed`), and the server's CPU meanwhile. */
export type Ceiling = { answers: number; failed: number; durationSec: number; perSec: number; latency: Latency; serverCpuPct: number };
export type StackResult = {
  /** An authenticated POST that writes one row. */
  post: Ceiling;
  /** The buy route answering SOLD_OUT without the gate: the stack's own cost of a refusal. */
  refusal: Ceiling;
  /** uWS alone answering a fixed 409 (the driver and uWS, no pinlive code). */
  uws: Ceiling;
};

/**
 * The server's request stack alone (bare-post.server.ts, compiled against the server's build, from
 * the server's `env`), three ceilings
 * one after the other in one process, C requests in flight, each for `seconds` after a WARM_UP_SEC
 * warm-up: a bare authenticated POST that writes one row, the buy route refusing every buy before
 * the gate, and uWS alone.
 */
export async function stackCeilings(root: string, env: Record<string, string>, sale: Sale, o: { concurrency: number; seconds: number; signal: AbortSignal }): Promise<StackResult> {
  const server = await startServer(root, await buildAgainstServer("load-tests/orders/bare-post.server.ts", root), env, 60_000);
  const http = rawHttp(server.base, o.concurrency);
  let n = 0;
  const buyer = () => sale.buyers[Math.floor(Math.random() * sale.buyers.length)]!;
  const tap = (path: string) => {
    const b = buyer();
    return http.post(path, { quantity: 1, addressId: b.addressId }, b.token, `stack-${++n}`);
  };
  try {
    const post = await ceiling(server.pid, http, o, 201, () => http.post("/bench/rows", { n: ++n }, buyer().token));
    const refusal = await ceiling(server.pid, http, o, 409, () => tap(`/v1/flash-sales/${sale.saleId}/buy`));
    const uws = await ceiling(server.pid, http, o, 409, () => tap("/bench/uws"));
    return { post, refusal, uws };
  } finally {
    http.close();
    await server.stop();
  }
}

async function ceiling(pid: number, http: RawHttp, o: { concurrency: number; seconds: number; signal: AbortSignal }, status: number, send: () => ReturnType<RawHttp["post"]>): Promise<Ceiling> {
  const latency = new Samples();
  let failed = 0;
  const run = (seconds: number, measured: boolean) => {
    const endAt = performance.now() + seconds * 1000;
    return Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (!o.signal.aborted && performance.now() < endAt) {
          const r = await send().catch(() => null);
          if (!measured) continue;
          if (r?.status === status) latency.add(r.ms);
          else failed += 1;
        }
      }),
    );
  };
  await run(WARM_UP_SEC, false);
  const t0 = performance.now();
  const cpu0 = cpuSeconds(pid);
  await run(o.seconds, true);
  const durationSec = (performance.now() - t0) / 1000;
  return { answers: latency.count, failed, durationSec, perSec: latency.count / durationSec, latency: latency.summary(), serverCpuPct: ((cpuSeconds(pid) - cpu0) / durationSec) * 100 };
}
