// Buyers, products and orders for the fault cases, through the public API, and what PostgreSQL
// and the order timers say about them afterwards.
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import postgres from "postgres";
import { redisKeys } from "../../../src/redis/keys.js";
import { adminToken } from "../../support/admin.js";
import { devSession } from "../../support/clients.js";
import { httpClient, makeProduct, testAddress } from "../../support/http.js";

export type Buyer = { token: string; userId: string; addressId: string };

/** A signed-in buyer with a shipping address. */
export async function buyer(baseUrl: string, nickname: string): Promise<Buyer> {
  const u = await devSession(baseUrl, nickname);
  const addr = await httpClient(baseUrl)<{ id: string }>("POST", "/v1/addresses", { token: u.token, body: testAddress });
  if (addr.status !== 201) throw new Error(`address: ${addr.status} ${JSON.stringify(addr.body)}`);
  return { token: u.token, userId: u.userId, addressId: addr.body.id };
}

/** A listed product with one SKU of `stock` units, made by an admin. */
export async function product(baseUrl: string, databaseUrl: string, sku: { priceFen: number; stock: number }) {
  return makeProduct(httpClient(baseUrl), await adminToken(databaseUrl), sku);
}

export type Order = { id: string; status: string; totalFen: number; payDeadline: string };

/** Places an order for `quantity` of one SKU with a fresh (or the given) Idempotency-Key. */
export function placeOrder(baseUrl: string, b: Buyer, skuId: string, quantity = 1, key: string = randomUUID()) {
  return httpClient(baseUrl)<Order & { code?: string }>("POST", "/v1/orders", {
    token: b.token,
    headers: { "idempotency-key": key },
    body: { items: [{ skuId, quantity }], addressId: b.addressId },
  });
}

/** PostgreSQL's view of orders and stock (the truth a case checks). */
export function shopTruth(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  return {
    sql,
    orders: () => sql<{ id: string; user_id: string; request_key: string; status: string; cancel_reason: string | null }[]>`select id, user_id, request_key, status, cancel_reason from orders order by created_at`,
    async stock(skuId: string) {
      const [row] = await sql<{ stock: number }[]>`select stock from skus where id = ${skuId}`;
      return row!.stock;
    },
    async pending() {
      return (await sql<{ id: string }[]>`select id from orders where status = 'pending_payment'`).map((r) => r.id);
    },
    /** Unpaid orders with their pay deadline (ms). */
    async deadlines() {
      const rows = await sql<{ id: string; pay_deadline: Date }[]>`select id, pay_deadline from orders where status = 'pending_payment'`;
      return rows.map((r) => ({ id: r.id, at: r.pay_deadline.getTime() }));
    },
    close: () => sql.end(),
  };
}

/** The nodes' order timers in BullMQ: one job per order, or one per flash batch (its data lists the batch's orders). */
export function orderTimers(redisUrl: string, redisPrefix: string) {
  const { hostname, port } = new URL(redisUrl);
  const queue = new Queue("order", { connection: { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: 1 }, prefix: redisKeys(redisPrefix).jobs });
  queue.on("error", () => {});
  /** The job that closes the order: its own, or its flash batch's. */
  async function timerOf(orderId: string) {
    const own = await queue.getJob(`order-timeout-${orderId}`);
    if (own) return own;
    const batches = await queue.getJobs(["delayed", "waiting", "prioritized", "active", "failed"]);
    return batches.find((j) => j?.name === "order.timeouts" && (j.data as { orderIds: string[] }).orderIds.includes(orderId)) ?? null;
  }
  return {
    /** The state of the order's timer job ("delayed", "active", …), or null when it has none. */
    async state(orderId: string) {
      const job = await timerOf(orderId);
      return job ? await job.getState() : null;
    },
    /** When the order's timer was set and when it runs (ms), or null when it has none. */
    async timing(orderId: string) {
      const job = await timerOf(orderId);
      return job ? { setAt: job.timestamp, runsAt: job.timestamp + (job.opts.delay ?? 0) } : null;
    },
    close: () => queue.close(),
  };
}
