import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { cpuSeconds } from "../fanout/server-process.js";
import { bump, Samples, type Latency } from "./latency.js";
import type { RawHttp } from "./raw-http.js";
import type { Sale } from "./sale-setup.js";

export type CartResult = {
  orders: number;
  durationSec: number;
  ordersPerSec: number;
  checkout: Latency;
  other: Record<string, number>;
  serverCpuPct: number;
  /** Units the 201s ordered (one each). */
  units: number;
};

/**
 * Checkout of a cart on one hot SKU, outside any flash sale: C buyers (one each, so carts do not
 * mix) put one unit in their cart and check it out (`POST /v1/orders {fromCart: true}` with an
 * Idempotency-Key), again and again for `seconds`. Only the checkout is timed.
 */
export async function cartRush(http: RawHttp, sale: Sale, o: { concurrency: number; seconds: number; serverPid: number; signal: AbortSignal }): Promise<CartResult> {
  const run = randomBytes(4).toString("hex");
  const checkout = new Samples();
  const other: Record<string, number> = {};
  let seq = 0;
  const t0 = performance.now();
  const endAt = t0 + o.seconds * 1000;
  const cpu0 = cpuSeconds(o.serverPid);
  const buyers = sale.buyers.slice(0, o.concurrency);
  await Promise.all(
    buyers.map(async (b) => {
      while (!o.signal.aborted && performance.now() < endAt) {
        try {
          const added = await http.post("/v1/cart/items", { skuId: sale.cartSkuId, quantity: 1 }, b.token);
          if (added.status !== 201) {
            bump(other, `cart ${added.status}`);
            continue;
          }
          const r = await http.post("/v1/orders", { fromCart: true, addressId: b.addressId }, b.token, `${run}-${++seq}`);
          if (r.status === 201) checkout.add(r.ms);
          else bump(other, `${r.status} ${(r.body as { code?: string } | null)?.code ?? ""}`.trim());
        } catch {
          bump(other, "transport error");
        }
      }
    }),
  );
  const durationSec = (performance.now() - t0) / 1000;
  return {
    orders: checkout.count,
    durationSec,
    ordersPerSec: checkout.count / durationSec,
    checkout: checkout.summary(),
    other,
    serverCpuPct: ((cpuSeconds(o.serverPid) - cpu0) / durationSec) * 100,
    units: checkout.count,
  };
}
