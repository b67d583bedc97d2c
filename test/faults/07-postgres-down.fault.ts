import { expect } from "vitest";
import { sleep, waitUntil } from "../support/clients.js";
import { httpClient } from "../support/http.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { payInSandbox, wechatUser } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { liveRoom } from "./support/live-room.js";
import { faultServices } from "./support/services.js";
import { product, shopTruth } from "./support/shop.js";

const STOCK = 5;
/** WeChat's notification leaves after this; PostgreSQL is cut before it arrives. */
const NOTIFY_DELAY_MS = 1500;

faultCase(7, "PostgreSQL down", async (log, ctx) => {
  const s = await faultServices(ctx);
  // The node reaches PostgreSQL only through a proxy the case cuts; the case reads it directly.
  const target = new URL(s.databaseUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  s.defer(() => proxy.close());
  const viaProxy = new URL(s.databaseUrl);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  const node = await s.spawn({ DATABASE_URL: viaProxy.toString(), DATABASE_CONNECT_TIMEOUT_SEC: "2", DATABASE_QUERY_TIMEOUT_MS: "2000" });
  const call = httpClient(node.url);
  const truth = shopTruth(s.databaseUrl);
  s.defer(() => truth.close());

  const { productId, skuId } = await product(node.url, s.databaseUrl, { priceFen: 700, stock: STOCK });
  const u = await wechatUser(call, "Mei");
  const order = await call<{ id: string }>("POST", "/v1/orders", { token: u.token, headers: { "idempotency-key": "paid-1" }, body: { items: [{ skuId, quantity: 2 }], addressId: u.addressId } });
  expect(order.status).toBe(201);
  const params = await call<Record<string, unknown>>("POST", `/v1/orders/${order.body.id}/pay`, { token: u.token });
  expect(params.status).toBe(200);
  const room = await liveRoom(node.url, { viewers: 3, viewerNode: () => () => node.ws, hostNode: () => node.ws, everyMs: 50 });
  await room.sender.ackedAtLeast(5);

  // The buyer pays; WeChat's notification is on its way when PostgreSQL goes.
  expect(await payInSandbox(call, params.body, NOTIFY_DELAY_MS)).toBe("requestPayment:ok");
  await proxy.cut();
  const ackedAtCut = room.sender.acked.length;
  log.injected("PostgreSQL cut off from the node (connections closed, new ones refused) while a payment notification was on its way");

  const read = await call<{ code: string }>("GET", "/v1/products", { token: u.token });
  const write = await call<{ code: string }>("POST", "/v1/orders", { token: u.token, headers: { "idempotency-key": "during-1" }, body: { items: [{ skuId, quantity: 1 }], addressId: u.addressId } });
  expect([read.status, read.body.code]).toEqual([503, "UNAVAILABLE"]);
  expect([write.status, write.body.code]).toEqual([503, "UNAVAILABLE"]);
  await room.sender.ackedAtLeast(ackedAtCut + 20);
  const last = room.sender.lastSeq;
  await Promise.all(room.viewers.map((v) => v.reached(last)));
  log.checked(`a read and an order answered 503 UNAVAILABLE; chat went on (${room.sender.acked.length - ackedAtCut} comments acknowledged and delivered while PostgreSQL was away)`);

  const notifyFailed = () => node.output().split("\n").filter((l) => l.includes("/v1/pay/notify") && /"level":(40|50)/.test(l)).length;
  await waitUntil(() => Promise.resolve(notifyFailed() > 0), "WeChat's notification is refused while PostgreSQL is away", 15_000);
  const refusals = notifyFailed();
  await proxy.heal();
  await waitUntil(async () => (await truth.sql`select 1 from orders where id = ${order.body.id} and status = 'paid'`).length === 1, "a retried notification applies the payment", 45_000);
  log.checked(`the notification was refused ${refusals} time(s) while PostgreSQL was away; WeChat's retry after the heal marked the order paid`);

  await sleep(2000);
  const orders = await truth.orders();
  expect(orders.map((o) => [o.request_key, o.status])).toEqual([["paid-1", "paid"]]);
  expect(await truth.sql`select 1 from idempotency_keys where key = 'during-1'`).toHaveLength(0);
  expect(await truth.stock(skuId)).toBe(STOCK - 2);
  const [p] = await truth.sql<{ sales: number }[]>`select sales from products where id = ${productId}`;
  expect(p!.sales).toBe(2);
  log.checked("no partial rows (no order, no key for the refused request, stock untouched by it); the payment applied once (sales counted once)");
  room.close();
});
