import { expect } from "vitest";
import { waitUntil } from "../support/clients.js";
import { faultCase } from "./fault-case.js";
import { faultServices } from "./support/services.js";
import { buyer, placeOrder, product, shopTruth } from "./support/shop.js";

const STOCK = 5;
const KEY = "checkout-1";

faultCase(8, "a backend terminated mid-transaction", async (log, ctx) => {
  const s = await faultServices(ctx);
  const node = await s.spawn();
  const truth = shopTruth(s.databaseUrl);
  s.defer(() => truth.close());
  const { skuId } = await product(node.url, s.databaseUrl, { priceFen: 1999, stock: STOCK });
  const u = await buyer(node.url, "Mei");

  // The case holds the SKU's row, so the order's transaction stops at taking stock, mid-way.
  const holder = await truth.sql.reserve();
  s.defer(() => holder.release());
  await holder`begin`;
  await holder`select 1 from skus where id = ${skuId} for update`;
  const answer = placeOrder(node.url, u, skuId, 2, KEY);
  let victim: { pid: number; query: string } | undefined;
  await waitUntil(async () => {
    [victim] = await truth.sql<{ pid: number; query: string }[]>`
      select pid, query from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and backend_type = 'client backend'`;
    return victim !== undefined;
  }, "the order's transaction waits on the SKU row", 15_000);
  // Tables it had written in this transaction (the SKU's is the one it is waiting on).
  const written = await truth.sql<{ relation: string }[]>`
    select c.relname as relation from pg_locks l join pg_class c on c.oid = l.relation
    where l.pid = ${victim!.pid} and l.mode = 'RowExclusiveLock' and c.relkind = 'r' and c.relname <> 'skus'`;
  const [terminated] = await truth.sql<{ ok: boolean }[]>`select pg_terminate_backend(${victim!.pid}) as ok`;
  expect(terminated!.ok).toBe(true);
  await holder`rollback`;
  log.injected(`pg_terminate_backend of the order's connection inside its transaction (it had written ${written.map((w) => w.relation).sort().join(", ") || "nothing yet"} and was waiting to take stock)`);

  const first = await answer;
  expect(first.status, JSON.stringify(first.body)).toBe(503);
  expect(first.body.code).toBe("UNAVAILABLE");
  expect(await truth.orders()).toEqual([]);
  expect(await truth.stock(skuId)).toBe(STOCK);
  expect(await truth.sql`select 1 from idempotency_keys where key = ${KEY}`).toHaveLength(0);
  log.checked("the request answered 503 UNAVAILABLE and the transaction rolled back: no order, no line, no key, stock untouched");

  const retry = await placeOrder(node.url, u, skuId, 2, KEY);
  expect(retry.status).toBe(201);
  const again = await placeOrder(node.url, u, skuId, 2, KEY);
  expect(again.status).toBe(201);
  expect(again.body.id).toBe(retry.body.id);
  const orders = await truth.orders();
  expect(orders.map((o) => [o.id, o.request_key])).toEqual([[retry.body.id, KEY]]);
  expect(await truth.stock(skuId)).toBe(STOCK - 2);
  log.checked("a retry with the same Idempotency-Key placed the order, a second retry returned the same one: one order, its stock taken once");
});
