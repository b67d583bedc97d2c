// A flash sale set up through the public API, a rush of buyers against it, and the truth read
// straight from PostgreSQL and Redis (for the crash and outage tests).
import { Redis } from "ioredis";
import postgres from "postgres";
import type { RedisClient } from "../../src/redis/connect.js";
import { redisKeys } from "../../src/redis/keys.js";
import { adminToken } from "./admin.js";
import { devSession, devStream, sleep } from "./clients.js";
import { redisUrl } from "./env.js";
import { httpClient, makeProduct, testAddress } from "./http.js";

export type Buyer = { token: string; userId: string; addressId: string };
export type FlashSetup = { saleId: string; skuId: string; quantity: number; limit: number; buyers: Buyer[] };

/** A product attached to a stream, a flash sale of `quantity` units (`limit` each), and buyers with an address. */
export async function setUpFlashSale(baseUrl: string, databaseUrl: string, o: { quantity: number; limit: number; buyers: number }): Promise<FlashSetup> {
  const call = httpClient(baseUrl);
  const admin = await adminToken(databaseUrl);
  const host = await devSession(baseUrl, "Host");
  const streamId = await devStream(baseUrl, host.token);
  const p = await makeProduct(call, admin, { priceFen: 9900, stock: o.quantity * 2 }, "Rush item");
  await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
  const sale = await call<{ id: string }>("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { skuId: p.skuId, priceFen: 1990, quantity: o.quantity, perUserLimit: o.limit } });
  if (sale.status !== 201) throw new Error(`flash sale: ${sale.status} ${JSON.stringify(sale.body)}`);
  return { saleId: sale.body.id, skuId: p.skuId, quantity: o.quantity, limit: o.limit, buyers: await makeBuyers(baseUrl, o.buyers) };
}

/** `count` signed-in buyers, each with an address. */
export async function makeBuyers(baseUrl: string, count: number): Promise<Buyer[]> {
  const call = httpClient(baseUrl);
  const buyers: Buyer[] = [];
  for (let i = 0; i < count; i += 25) {
    buyers.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(25, count - i) }, async (_, j) => {
          const u = await devSession(baseUrl, `fan${i + j}`);
          const a = await call<{ id: string }>("POST", "/v1/addresses", { token: u.token, body: testAddress });
          return { token: u.token, userId: u.userId, addressId: a.body.id };
        }),
      )),
    );
  }
  return buyers;
}

/** One buy request and what came of it: an HTTP answer, or a transport error (outcome unknown to the buyer). */
export type Attempt = { key: string; buyer: Buyer; status: number | null; code: string | null; orderId: string | null; error?: string };

/** One buy-now request (one unit) with its own Idempotency-Key. */
export async function buyOnce(baseUrl: string, saleId: string, buyer: Buyer, key: string): Promise<Attempt> {
  try {
    const res = await fetch(`${baseUrl}/v1/flash-sales/${saleId}/buy`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${buyer.token}`, "idempotency-key": key },
      body: JSON.stringify({ quantity: 1, addressId: buyer.addressId }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json().catch(() => null)) as { id?: string; code?: string } | null;
    return { key, buyer, status: res.status, code: body?.code ?? null, orderId: res.status === 201 ? (body?.id ?? null) : null };
  } catch (err) {
    return { key, buyer, status: null, code: null, orderId: null, error: String((err as { cause?: unknown }).cause ?? err) };
  }
}

/**
 * `workers` buyers rush the sale, one request at a time each, with fresh keys, until `stop`
 * says so (it sees every attempt so far) or the sale is sold out.
 */
export async function rush(baseUrl: string, s: FlashSetup, o: { workers: number; tag: string; stop: (attempts: Attempt[]) => boolean }): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let n = 0;
  let done = false;
  await Promise.all(
    Array.from({ length: o.workers }, async () => {
      while (!done) {
        const buyer = s.buyers[Math.floor(Math.random() * s.buyers.length)]!;
        const a = await buyOnce(baseUrl, s.saleId, buyer, `${o.tag}-${++n}`);
        attempts.push(a);
        if (a.code === "SOLD_OUT" || o.stop(attempts)) done = true;
      }
    }),
  );
  return attempts;
}

/**
 * A read of the gate, tried again for a few seconds when it fails: just after a cluster failover a
 * client's redirect can meet a connection it is still closing ("Connection is closed"). Reads only.
 */
async function reading<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(250);
    }
  }
}

/** What PostgreSQL and the Redis gate hold about a sale; the gate is read at a Redis URL (the machine's by default) or through a given client (a cluster's). */
export function flashTruth(databaseUrl: string, redisPrefix: string, at: string | RedisClient = redisUrl) {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const redis = typeof at === "string" ? new Redis(at) : at;
  const keys = redisKeys(redisPrefix).flash;

  async function read(saleId: string) {
    const [sale] = await sql<{ sold: number; quantity: number; sku_id: string }[]>`select sold, quantity, sku_id from flash_sales where id = ${saleId}`;
    const orders = await sql<{ id: string; user_id: string; request_key: string; status: string; units: number; lines: number; answers: number }[]>`
      select o.id, o.user_id, o.request_key, o.status, coalesce(sum(i.quantity), 0)::int as units, count(i.*)::int as lines,
        (select count(*)::int from idempotency_keys k where k.key = o.request_key and k.scope like o.user_id || ' %') as answers
      from orders o join order_items i on i.order_id = o.id where i.flash_sale_id = ${saleId} group by o.id`;
    const buyers = await sql<{ user_id: string; bought: number }[]>`select user_id, bought from flash_buyers where flash_sale_id = ${saleId}`;
    const [sku] = await sql<{ stock: number }[]>`select stock from skus where id = ${sale!.sku_id}`;
    const left = await reading(() => redis.get(keys.left(saleId)));
    const pending = Object.keys(await reading(() => redis.hgetall(keys.pending(saleId)))).filter((k) => k !== "_");
    const bought = Object.fromEntries(Object.entries(await reading(() => redis.hgetall(keys.bought(saleId)))).filter(([u]) => u !== "_").map(([u, b]) => [u, Number(b)]));
    const live = orders.filter((o) => o.status !== "cancelled");
    const units = live.reduce((n, o) => n + o.units, 0);
    const perUser = new Map<string, number>();
    for (const o of live) perUser.set(o.user_id, (perUser.get(o.user_id) ?? 0) + o.units);
    const buyersAgree =
      buyers.every((b) => b.bought === (perUser.get(b.user_id) ?? 0) && b.bought === (bought[b.user_id] ?? 0)) &&
      Object.entries(bought).every(([u, n]) => n === (buyers.find((b) => b.user_id === u)?.bought ?? 0));
    return {
      sale: sale!,
      orders,
      skuStock: sku!.stock,
      units,
      perUser,
      gateLeft: left === null ? null : Number(left),
      pending,
      /** The gate and PostgreSQL agree, with nothing pending. */
      agree: pending.length === 0 && left !== null && Number(left) === sale!.quantity - sale!.sold && buyersAgree && units === sale!.sold,
    };
  }

  return {
    read,
    /** Waits until the gate and PostgreSQL agree (the reconcile has run), or fails with what it saw last. */
    async agreed(saleId: string, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = await read(saleId);
      while (!last.agree && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        last = await read(saleId);
      }
      if (!last.agree) throw new Error(`gate and database disagree: sold ${last.sale.sold}, units ${last.units}, gate left ${last.gateLeft}, pending ${last.pending.length}`);
      return last;
    },
    async close() {
      redis.disconnect();
      await sql.end({ timeout: 5 });
    },
  };
}
