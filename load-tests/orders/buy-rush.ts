import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { cpuSeconds } from "../fanout/server-process.js";
import { bump, Samples, type Latency } from "./latency.js";
import type { RawHttp } from "./raw-http.js";
import type { Buyer, Sale } from "./sale-setup.js";

/** A request whose answer was not a definite one (a transport error, a 5xx, a key still in progress): retried after the rush. */
export type Unresolved = { buyer: Buyer; key: string };

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
  /** The order id of every 201, by Idempotency-Key. */
  answered: Map<string, string>;
  unresolved: Unresolved[];
};

/** Transport errors after which the server is taken to be gone. */
const MAX_ERRORS = 200;
const isRefusal = (status: number, code: string | undefined) => status === 409 && (code === "SOLD_OUT" || code === "LIMIT_EXCEEDED");

/**
 * C virtual buyers POST buy-now (one unit) for a random buyer each, one request at a time, until
 * every unit is ordered or one of them is told SOLD_OUT (requests in flight then finish), capMs
 * passes or the signal aborts.
 */
export async function rush(http: RawHttp, sale: Sale, o: { concurrency: number; serverPid: number; capMs: number; signal: AbortSignal }): Promise<RushResult> {
  const run = randomBytes(4).toString("hex");
  const ok = new Samples();
  const refused = new Samples();
  const other: Record<string, number> = {};
  const answered = new Map<string, string>();
  const unresolved: Unresolved[] = [];
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
      const key = `${run}-${++seq}`;
      try {
        const r = await http.post(`/v1/flash-sales/${sale.saleId}/buy`, { quantity: 1, addressId: b.addressId }, b.token, key);
        const body = r.body as { code?: string; id?: string } | null;
        if (r.status === 201) {
          ok.add(r.ms);
          answered.set(key, body?.id ?? "");
          lastOrderAt = performance.now();
          if (ok.count >= sale.quantity) stop = true;
        } else if (isRefusal(r.status, body?.code)) {
          refused.add(r.ms);
          if (body?.code === "LIMIT_EXCEEDED") {
            limited += 1;
          } else {
            soldOut += 1;
            stop = true;
          }
        } else {
          if (r.status >= 500 || body?.code === "IDEMPOTENCY_IN_PROGRESS") unresolved.push({ buyer: b, key });
          note(`${r.status} ${body?.code ?? ""}`.trim(), JSON.stringify(r.body));
        }
      } catch (err) {
        unresolved.push({ buyer: b, key });
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
    answered,
    unresolved,
  };
}

export type RefusalResult = { refusals: number; other: Record<string, number>; durationSec: number; refusalsPerSec: number; latency: Latency; serverCpuPct: number; driverCpuPct: number };

/**
 * The crowd that keeps tapping once the sale is sold out: C buyers POST buy-now with fresh keys
 * for `seconds`. Every answer should be a refusal (409 SOLD_OUT or LIMIT_EXCEEDED), from the gate.
 */
export async function refusalRush(http: RawHttp, sale: Sale, o: { concurrency: number; seconds: number; serverPid: number; signal: AbortSignal }): Promise<RefusalResult> {
  const run = randomBytes(4).toString("hex");
  const latency = new Samples();
  const other: Record<string, number> = {};
  let seq = 0;
  const t0 = performance.now();
  const endAt = t0 + o.seconds * 1000;
  const [cpu0, drv0] = [cpuSeconds(o.serverPid), process.cpuUsage()];
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (!o.signal.aborted && performance.now() < endAt) {
        const b = sale.buyers[Math.floor(Math.random() * sale.buyers.length)]!;
        try {
          const r = await http.post(`/v1/flash-sales/${sale.saleId}/buy`, { quantity: 1, addressId: b.addressId }, b.token, `${run}-${++seq}`);
          const code = (r.body as { code?: string } | null)?.code;
          if (isRefusal(r.status, code)) latency.add(r.ms);
          else bump(other, `${r.status} ${code ?? ""}`.trim());
        } catch {
          bump(other, "transport error");
        }
      }
    }),
  );
  const durationSec = (performance.now() - t0) / 1000;
  const drv = process.cpuUsage(drv0);
  return {
    refusals: latency.count,
    other,
    durationSec,
    refusalsPerSec: latency.count / durationSec,
    latency: latency.summary(),
    serverCpuPct: ((cpuSeconds(o.serverPid) - cpu0) / durationSec) * 100,
    driverCpuPct: ((drv.user + drv.system) / 1e6 / durationSec) * 100,
  };
}

/** Asks again, with the same key and body, every request whose answer was lost: the order ids they return, by key. */
export async function retryUnresolved(http: RawHttp, sale: Sale, unresolved: Unresolved[]): Promise<{ returned: Map<string, string>; stillUnresolved: number }> {
  const returned = new Map<string, string>();
  let still = 0;
  for (const u of unresolved) {
    let answer: { status: number; body: unknown } | null = null;
    // A key whose take is still being decided answers IDEMPOTENCY_IN_PROGRESS for a few seconds.
    for (let attempt = 0; attempt < 20; attempt++) {
      answer = await http.post(`/v1/flash-sales/${sale.saleId}/buy`, { quantity: 1, addressId: u.buyer.addressId }, u.buyer.token, u.key).catch(() => null);
      const code = (answer?.body as { code?: string } | null)?.code;
      if (answer && answer.status < 500 && code !== "IDEMPOTENCY_IN_PROGRESS") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (answer?.status === 201) returned.set(u.key, (answer.body as { id: string }).id);
    else if (!answer || answer.status >= 500) still += 1;
  }
  return { returned, stillUnresolved: still };
}
