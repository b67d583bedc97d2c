import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { Samples, type Latency } from "./latency.js";

export type PgResult = {
  updates: number;
  refused: number;
  durationSec: number;
  updatesPerSec: number;
  latency: Latency;
  stockBefore: number;
  stockAfter: number;
  /** The lowest stock any update returned; never below 0. */
  minReturned: number | null;
  /** stockBefore − updates = stockAfter: every decrement accounted for. */
  consistent: boolean;
};

/**
 * The truth's own ceiling: C connections each run, one after the other, the conditional decrement
 * buying does on one hot SKU row, for `seconds`; autocommit, so each is one transaction.
 */
export async function postgresCeiling(databaseUrl: string, skuId: string, o: { concurrency: number; seconds: number; signal: AbortSignal }): Promise<PgResult> {
  const sql = postgres(databaseUrl, { max: o.concurrency, onnotice: () => {}, connect_timeout: 10 });
  const latency = new Samples();
  let refused = 0;
  let minReturned: number | null = null;
  try {
    await Promise.all(Array.from({ length: o.concurrency }, () => sql`select 1`));
    const [before] = await sql<{ stock: number }[]>`select stock from skus where id = ${skuId}`;
    const t0 = performance.now();
    const endAt = t0 + o.seconds * 1000;
    const conn = async () => {
      while (!o.signal.aborted && performance.now() < endAt) {
        const start = performance.now();
        const rows = await sql<{ stock: number }[]>`update skus set stock = stock - 1 where id = ${skuId} and stock >= 1 returning stock`;
        latency.add(performance.now() - start);
        if (rows.length === 0) refused += 1;
        else minReturned = Math.min(minReturned ?? Infinity, rows[0]!.stock);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, conn));
    const durationSec = (performance.now() - t0) / 1000;
    const [after] = await sql<{ stock: number }[]>`select stock from skus where id = ${skuId}`;
    const updates = latency.count - refused;
    return {
      updates,
      refused,
      durationSec,
      updatesPerSec: updates / durationSec,
      latency: latency.summary(),
      stockBefore: before!.stock,
      stockAfter: after!.stock,
      minReturned,
      consistent: before!.stock - updates === after!.stock,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
