// The unpaid-order timeout: asks WeChat Pay first, gives stock back once, refunds a payment that lands after the close.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { sleep, waitUntil } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { payInSandbox, wechatUser } from "./support/wechat.js";

const TIMEOUT_SEC = 2;
type Order = { id: string; status: string; totalFen: number; payDeadline: string };

describe("unpaid-order timeout", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  let sql: postgres.Sql;
  const services = useTestServices();
  let n = 0;

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { ORDER_PAY_TIMEOUT_SEC: String(TIMEOUT_SEC) });
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
    sql = postgres(services.databaseUrl, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await server?.stop();
    await sql?.end();
  });

  /** An order for 2 units of a product with 10 in stock, and its WeChat prepay (so WeChat knows it). */
  async function orderWithPrepay(priceFen: number) {
    const p = await makeProduct(call, admin, { priceFen, stock: 10 });
    const u = await wechatUser(call);
    const order = await call<Order>("POST", "/v1/orders", { token: u.token, headers: { "idempotency-key": `t-${n++}` }, body: { items: [{ skuId: p.skuId, quantity: 2 }], addressId: u.addressId } });
    expect(order.status).toBe(201);
    const params = (await call<Record<string, string>>("POST", `/v1/orders/${order.body.id}/pay`, { token: u.token })).body;
    return { ...u, ...p, order: order.body, params };
  }
  const stockOf = async (skuId: string) => (await sql<{ stock: number }[]>`select stock from skus where id = ${skuId}`)[0]!.stock;
  const orderOf = async (id: string) => (await sql<{ status: string; cancel_reason: string | null }[]>`select status, cancel_reason from orders where id = ${id}`)[0]!;
  const refundsOf = (id: string) => sql<{ status: string; amount_fen: number }[]>`select status, amount_fen from refunds where order_id = ${id}`;
  const until = (check: () => Promise<boolean>, what: string, ms = 15_000) => waitUntil(check, what, ms);

  it("closes an unpaid order at its deadline and gives its stock back exactly once", async () => {
    const o = await orderWithPrepay(1500);
    expect(await stockOf(o.skuId)).toBe(8);
    // BullMQ stores a delay from the time it was added: due within a few ms of the deadline.
    expect(Math.abs((await server.app.jobs.scheduledAt("order.timeout", o.order.id))! - Date.parse(o.order.payDeadline))).toBeLessThan(50);
    await until(async () => (await orderOf(o.order.id)).status === "cancelled", "the timeout");
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(o.order.payDeadline));
    expect(await orderOf(o.order.id)).toEqual({ status: "cancelled", cancel_reason: "payment timeout" });
    expect(await stockOf(o.skuId)).toBe(10);
    // The WeChat transaction was closed: the buyer can no longer pay it.
    expect(await payInSandbox(call, o.params)).toBe("requestPayment:fail order is not payable");
    // The job runs again (at-least-once delivery, the reconciler): nothing changes.
    await server.app.jobs.schedule("order.timeout", o.order.id, { orderId: o.order.id }, Date.now());
    await server.app.reconcile();
    await sleep(500);
    expect(await stockOf(o.skuId)).toBe(10);
    expect(await server.app.jobs.scheduledAt("order.timeout", o.order.id)).toBeNull();
  });

  it("applies a payment WeChat took before the deadline instead of closing (its notification was late)", async () => {
    const o = await orderWithPrepay(1600);
    expect(await payInSandbox(call, o.params, 6000)).toBe("requestPayment:ok");
    await until(async () => (await orderOf(o.order.id)).status !== "pending_payment", "the timeout");
    expect((await orderOf(o.order.id)).status).toBe("paid");
    expect(await stockOf(o.skuId)).toBe(8);
    expect(await refundsOf(o.order.id)).toEqual([]);
  });

  it("closes anyway while WeChat Pay is down, then refunds the payment that lands after the close", async () => {
    const o = await orderWithPrepay(1700);
    // The buyer pays just before the deadline; WeChat's notification and merchant API are both late.
    expect((await call("POST", "/sandbox/wechat/outage", { body: { durationMs: 4000 } })).status).toBe(200);
    expect(await payInSandbox(call, o.params, 3000)).toBe("requestPayment:ok");
    await until(async () => (await orderOf(o.order.id)).status === "cancelled", "the close during the outage");
    expect(await stockOf(o.skuId)).toBe(10);
    await until(async () => (await refundsOf(o.order.id)).some((r) => r.status === "SUCCESS"), "the automatic refund", 30_000);
    expect(await refundsOf(o.order.id)).toEqual([{ status: "SUCCESS", amount_fen: 3400 }]);
    expect((await orderOf(o.order.id)).status).toBe("cancelled");
    expect(await stockOf(o.skuId)).toBe(10);
    const [sandbox] = await sql<{ n: string; sum: string }[]>`select count(*) as n, sum(amount_fen) as sum from sandbox_refunds where out_trade_no = ${o.order.id}`;
    expect(sandbox).toEqual({ n: "1", sum: "3400" });
  });
});
