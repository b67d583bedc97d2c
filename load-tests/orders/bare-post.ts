import { performance } from "node:perf_hooks";
import { startServer } from "../fanout/server-process.js";
import { cpuSeconds } from "../fanout/server-process.js";
import { Samples, type Latency } from "./latency.js";
import { rawHttp } from "./raw-http.js";
import type { Sale } from "./sale-setup.js";

/** Posts before the measured seconds, not counted: the server's warm-up (JIT, sessions, prepared statements). */
const WARM_UP_SEC = 1;

export type BareResult = { posts: number; failed: number; durationSec: number; postsPerSec: number; latency: Latency; serverCpuPct: number };

/**
 * The ceiling of a bare authenticated POST that writes one row (bare-post.server.ts: the server's own
 * router, API layer, route limit, PostgreSQL pool and Redis connection, from the server's `env`): C
 * buyers POST for `seconds` after a WARM_UP_SEC warm-up, one request at a time each.
 */
export async function barePostCeiling(root: string, env: Record<string, string>, sale: Sale, o: { concurrency: number; seconds: number; signal: AbortSignal }): Promise<BareResult> {
  const server = await startServer(root, "load-tests/orders/bare-post.server.ts", env, 60_000);
  const http = rawHttp(server.base, o.concurrency);
  const latency = new Samples();
  let failed = 0;
  let n = 0;
  const post = (seconds: number, measured: boolean) => {
    const endAt = performance.now() + seconds * 1000;
    return Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (!o.signal.aborted && performance.now() < endAt) {
          const b = sale.buyers[Math.floor(Math.random() * sale.buyers.length)]!;
          const r = await http.post("/bench/rows", { n: ++n }, b.token).catch(() => null);
          if (!measured) continue;
          if (r?.status === 201) latency.add(r.ms);
          else failed += 1;
        }
      }),
    );
  };
  try {
    await post(WARM_UP_SEC, false);
    const t0 = performance.now();
    const cpu0 = cpuSeconds(server.pid);
    await post(o.seconds, true);
    const durationSec = (performance.now() - t0) / 1000;
    return { posts: latency.count, failed, durationSec, postsPerSec: latency.count / durationSec, latency: latency.summary(), serverCpuPct: ((cpuSeconds(server.pid) - cpu0) / durationSec) * 100 };
  } finally {
    http.close();
    await server.stop();
  }
}
