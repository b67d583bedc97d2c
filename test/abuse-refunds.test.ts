// Issue 11, finding 3: a refund WeChat Pay reports ABNORMAL (the money could not reach the buyer)
// still counts toward the order's refund cap until it is resolved: a later SUCCESS settles it, a
// CLOSED frees its amount. Before, ABNORMAL stopped counting and a new refund could pass what was paid.
import postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { sleep } from "./support/clients.js";
import { makeProduct } from "./support/http.js";
import { useShop } from "./support/shop.js";
import { payInSandbox, sandboxSecrets, signedNotification, wechatUser } from "./support/wechat.js";

type ErrorBody = { code: string };
type Refund = { out_refund_no: string; status: string; amount_fen: number };

describe("refund cap", () => {
  const shop = useShop();
  const call: typeof shop.call = (...args) => shop.call(...args);
  let secrets: Awaited<ReturnType<typeof sandboxSecrets>>;
  beforeAll(async () => {
    secrets = await sandboxSecrets(shop.services.databaseUrl);
  });

  async function query<T>(run: (sql: postgres.Sql) => Promise<T>) {
    const sql = postgres(shop.services.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      return await run(sql);
    } finally {
      await sql.end();
    }
  }
  const refundsOf = (orderId: string) => query((sql) => sql<Refund[]>`select out_refund_no, status, amount_fen from refunds where order_id = ${orderId} order by created_at`);
  const orderRow = (orderId: string) => query(async (sql) => (await sql<{ status: string; refunded_fen: number }[]>`select status, refunded_fen from orders where id = ${orderId}`)[0]!);

  async function paidOrder(priceFen: number) {
    const p = await makeProduct(call, shop.admin, { priceFen, stock: 10 });
    const u = await wechatUser(call, "Mei");
    const order = await call<{ id: string }>("POST", "/v1/orders", { token: u.token, headers: shop.key(), body: { items: [{ skuId: p.skuId, quantity: 1 }], addressId: u.addressId } });
    const params = (await call<Record<string, unknown>>("POST", `/v1/orders/${order.body.id}/pay`, { token: u.token })).body;
    expect(await payInSandbox(call, params)).toBe("requestPayment:ok");
    for (let i = 0; i < 200 && (await orderRow(order.body.id)).status !== "paid"; i++) await sleep(50);
    expect((await orderRow(order.body.id)).status).toBe("paid");
    return order.body.id;
  }
  const refund = (orderId: string, amountFen: number) =>
    call<ErrorBody & { status: string }>("POST", `/v1/admin/orders/${orderId}/refund`, { token: shop.admin, headers: shop.key(), body: { amountFen, reason: "returned" } });
  /** WeChat Pay's merchant API is down (or back): a refund asked for now stays PROCESSING on our side. */
  const outage = (durationMs: number) => call("POST", "/sandbox/wechat/outage", { body: { durationMs } });
  /** WeChat Pay tells us how a refund ended. */
  async function refundNotice(orderId: string, r: Refund, status: "ABNORMAL" | "CLOSED" | "SUCCESS") {
    const n = signedNotification(secrets, `REFUND.${status}`, "refund", {
      mchid: secrets.mchid,
      out_trade_no: orderId,
      transaction_id: `4200${Date.now()}`,
      out_refund_no: r.out_refund_no,
      refund_id: `50-${r.out_refund_no}`,
      refund_status: status,
      amount: { total: 10000, refund: r.amount_fen, payer_total: 10000, payer_refund: r.amount_fen },
    });
    const res = await fetch(`${shop.server.url}/v1/pay/refund-notify`, { method: "POST", headers: n.headers, body: n.body });
    expect(res.status).toBe(204);
  }

  /** A paid ¥100 order with a ¥60 refund that WeChat accepted but reported ABNORMAL. */
  async function abnormalRefund() {
    const orderId = await paidOrder(10000);
    await outage(60_000);
    await refund(orderId, 6000);
    await outage(0);
    const [first] = await refundsOf(orderId);
    expect(first).toMatchObject({ status: "PROCESSING", amount_fen: 6000 });
    await refundNotice(orderId, first!, "ABNORMAL");
    expect((await refundsOf(orderId))[0]!.status).toBe("ABNORMAL");
    return { orderId, first: first! };
  }

  it("keeps counting an ABNORMAL refund: a second ¥60 refund of a ¥100 order is refused, and nothing is asked of WeChat", async () => {
    const { orderId } = await abnormalRefund();
    expect(await refund(orderId, 6000)).toMatchObject({ status: 409, body: { code: "CONFLICT" } });
    expect(await refundsOf(orderId)).toHaveLength(1);
    // What is not held by it can still be refunded.
    expect((await refund(orderId, 4000)).status).toBe(200);
    await refundNotice(orderId, (await refundsOf(orderId))[1]!, "SUCCESS");
    expect(await orderRow(orderId)).toMatchObject({ refunded_fen: 4000 });
  });

  it("frees the amount once WeChat closes the abnormal refund", async () => {
    const { orderId, first } = await abnormalRefund();
    await refundNotice(orderId, first, "CLOSED");
    expect((await refundsOf(orderId))[0]!.status).toBe("CLOSED");
    expect((await refund(orderId, 6000)).status).toBe(200);
    expect(await refundsOf(orderId)).toHaveLength(2);
  });

  it("settles the abnormal refund when WeChat reports it succeeded after all, and the order's refunded sum follows", async () => {
    const { orderId, first } = await abnormalRefund();
    await refundNotice(orderId, first, "SUCCESS");
    expect((await refundsOf(orderId))[0]!.status).toBe("SUCCESS");
    expect(await orderRow(orderId)).toMatchObject({ status: "paid", refunded_fen: 6000 });
    expect(await refund(orderId, 6000)).toMatchObject({ status: 409, body: { code: "CONFLICT" } });
  });
});
