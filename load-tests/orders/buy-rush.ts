import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { cpuSeconds } from "../fanout/server-process.js";
import type { HttpClient } from "./http-client.js";
import { bump, Samples, type Latency } from "./latency.js";
import type { Sale } from "./sale-setup.js";

export type RushResult = {
  attempts: number;
  orders: number;
  soldOut: number;
  limited: number;
  /** Every unit ordered, or the server said SOLD_OUT. */
  soldOutAll: boolean;
  /** Every other answer, by `status code` (5xx, IDEMPOTENCY_IN_PROGRESS…) or transport error. */
  other: Record<string, number>;
  firstOther: string | null;
  sellOutSec: number;
  durationSec: number;
  ordersPerSec: number;
  attemptsPerSec: number;
  ok: Latency;
  refused: Latency;
  serverCpuPct: number;
  driverCpuPct: number;
};

/** Transport errors after which the server is taken to be gone. */
const MAX_ERRORS = 200;

/**
 * C virtual buyers POST buy-now (one unit) for a random buyer each, one request at a time, until
 * every unit is ordered or one of them is told SOLD_OUT (requests in flight then finish), capMs
 * passes or the signal aborts.
 */
export async function rush(http: HttpClient, sale: Sale, o: { concurrency: number; serverPid: number; capMs: number; signal: AbortSignal }): Promise<RushResult> {
  const run = randomBytes(4).toString("hex");
  const ok = new Samples();
  const refused = new Samples();
  const other: Record<string, number> = {};
  let [seq, soldOut, limited, errors] = [0, 0, 0, 0];
  let firstOther: string | null = null;
  let stop = false;
  const t0 = performance.now();
  let lastOrderAt = t0;
  const [cpu0, drv0] = [cpuSeconds(o.serverPid), process.cpuUsage()];

  const note = (key: string, detail: string) => {
    bump(other, key);
    firstOther ??= `${key}: ${detail.slice(0, 300)}`;
  };

  async function buyer(): Promise<void> {
    while (!stop && !o.signal.aborted && performance.now() - t0 < o.capMs) {
      const b = sale.buyers[Math.floor(Math.random() * sale.buyers.length)]!;
      try {
        const r = await http.post(`/v1/flash-sales/${sale.saleId}/buy`, { quantity: 1, addressId: b.addressId }, b.token, `${run}-${++seq}`);
        const code = (r.body as { code?: string } | null)?.code;
        if (r.status === 201) {
          ok.add(r.ms);
          lastOrderAt = performance.now();
          if (ok.count >= sale.quantity) stop = true;
        } else if (r.status === 409 && (code === "SOLD_OUT" || code === "LIMIT_EXCEEDED")) {
          refused.add(r.ms);
          if (code === "LIMIT_EXCEEDED") {
            limited += 1;
          } else {
            soldOut += 1;
            stop = true;
          }
        } else {
          note(`${r.status} ${code ?? ""}`.trim(), JSON.stringify(r.body));
        }
      } catch (err) {
        note("transport error", err instanceof Error ? err.message : String(err));
        if (++errors >= MAX_ERRORS) stop = true;
      }
    }
  }

  await Promise.all(Array.from({ length: o.concurrency }, buyer));
  const t1 = performance.now();
  const drv = process.cpuUsage(drv0);
  const durationSec = (t1 - t0) / 1000;
  const sellOutSec = (lastOrderAt - t0) / 1000;
  const attempts = ok.count + refused.count + Object.values(other).reduce((a, b) => a + b, 0);
  return {
    attempts,
    orders: ok.count,
    soldOut,
    limited,
    soldOutAll: soldOut > 0 || ok.count >= sale.quantity,
    other,
    firstOther,
    sellOutSec,
    durationSec,
    ordersPerSec: sellOutSec > 0 ? ok.count / sellOutSec : 0,
    attemptsPerSec: attempts / durationSec,
    ok: ok.summary(),
    refused: refused.summary(),
    serverCpuPct: ((cpuSeconds(o.serverPid) - cpu0) / durationSec) * 100,
    driverCpuPct: ((drv.user + drv.system) / 1e6 / durationSec) * 100,
  };
}
