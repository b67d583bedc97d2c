// WeChat Pay's notifications while PostgreSQL is unreachable: 503 UNAVAILABLE in WeChat's failure
// shape (WeChat sends it again), nothing half-written, and the retry after the heal applies once.
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { waitUntil } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { sandboxSecrets, signedNotification, transactionResource, wechatUser } from "./support/wechat.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

type Notice = { body: string; headers: Record<string, string> };

describe("WeChat Pay notifications while PostgreSQL is unreachable", () => {
  const services = useTestServices();
  let proxy: TcpProxy;
  let server: TestServer;
  let call: HttpClient;
  let sql: postgres.Sql;
  let admin: string;
  let secrets: Awaited<ReturnType<typeof sandboxSecrets>>;

  beforeAll(async () => {
    const url = new URL(services.databaseUrl);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    server = await startTestServer(url.toString(), services.redisPrefix, { DATABASE_CONNECT_TIMEOUT_SEC: "2", DATABASE_QUERY_TIMEOUT_MS: "2000" });
    call = httpClient(server.url);
    sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    admin = await adminToken(services.databaseUrl);
    secrets = await sandboxSecrets(services.databaseUrl);
  });
  afterEach(async () => {
    await proxy?.heal();
  });
  afterAll(async () => {
    await server?.stop();
    await sql?.end();
    await proxy?.close();
  });

  const post = (path: string, n: Notice) => fetch(`${server.url}${path}`, { method: "POST", headers: n.headers, body: n.body });
  const answer = async (res: Response) => ({ status: res.status, body: (await res.json()) as unknown });
  const paymentNotice = (orderId: string, totalFen: number) => signedNotification(secrets, "TRANSACTION.SUCCESS", "transaction", transactionResource(secrets, orderId, totalFen));
  const refundNotice = (orderId: string, outRefundNo: string, fen: number) =>
    signedNotification(secrets, "REFUND.SUCCESS", "refund", {
      mchid: secrets.mchid,
      out_trade_no: orderId,
      out_refund_no: outRefundNo,
      refund_id: `50-${outRefundNo}`,
      refund_status: "SUCCESS",
      amount: { total: fen, refund: fen, payer_total: fen, payer_refund: fen },
    });
  const orderRow = async (id: string) =>
    (await sql<{ status: string; refunded_fen: number; transaction_id: string | null }[]>`select status, refunded_fen, transaction_id from orders where id = ${id}`)[0]!;
  const salesOf = async (productId: string) => (await sql<{ sales: number }[]>`select sales from products where id = ${productId}`)[0]!.sales;
  const refundStatus = async (no: string) => (await sql<{ status: string }[]>`select status from refunds where out_refund_no = ${no}`)[0]!.status;
  /** Once queries go through the proxy again. */
  const healed = async () => {
    await proxy.heal();
    await waitUntil(async () => (await call("GET", "/v1/products")).status === 200, "queries work again", 20_000);
  };
  const UNAVAILABLE = { status: 503, body: { code: "UNAVAILABLE", message: expect.any(String) as unknown } };

  async function placeOrder(quantity: number) {
    const p = await makeProduct(call, admin, { priceFen: 2500, stock: 10 });
    const u = await wechatUser(call);
    const order = await call<{ id: string; totalFen: number }>("POST", "/v1/orders", {
      token: u.token,
      headers: { "idempotency-key": `outage-${p.skuId}` },
      body: { items: [{ skuId: p.skuId, quantity }], addressId: u.addressId },
    });
    expect(order.status).toBe(201);
    return { ...p, order: order.body };
  }

  it("answers a payment notification 503 UNAVAILABLE while PostgreSQL is down (connections refused), and applies the retry once", async () => {
    const { productId, order } = await placeOrder(2);
    const n = paymentNotice(order.id, order.totalFen);

    await proxy.cut();
    const refused = await answer(await post("/v1/pay/notify", n));
    expect(refused).toEqual(UNAVAILABLE);

    await healed();
    expect(await orderRow(order.id)).toMatchObject({ status: "pending_payment", transaction_id: null });
    expect(await salesOf(productId)).toBe(0);
    // WeChat sends it again: applied now, and a further copy changes nothing.
    expect((await post("/v1/pay/notify", n)).status).toBe(204);
    expect((await post("/v1/pay/notify", n)).status).toBe(204);
    expect((await orderRow(order.id)).status).toBe("paid");
    expect(await salesOf(productId)).toBe(2);
  });

  it("answers a refund notification 503 UNAVAILABLE while PostgreSQL is silent (black-holed), and applies the retry once", async () => {
    const { order } = await placeOrder(1);
    expect((await post("/v1/pay/notify", paymentNotice(order.id, order.totalFen))).status).toBe(204);
    // A refund asked of WeChat and not yet settled.
    const outRefundNo = `Rtest${order.id.slice(0, 20)}`;
    await sql`insert into refunds (out_refund_no, order_id, amount_fen, reason, status) values (${outRefundNo}, ${order.id}, ${order.totalFen}, 'returned', 'PROCESSING')`;
    const n = refundNotice(order.id, outRefundNo, order.totalFen);

    await proxy.blackhole();
    const refused = await answer(await post("/v1/pay/refund-notify", n));
    expect(refused).toEqual(UNAVAILABLE);

    await healed();
    expect(await refundStatus(outRefundNo)).toBe("PROCESSING");
    expect(await orderRow(order.id)).toMatchObject({ status: "paid", refunded_fen: 0 });
    expect((await post("/v1/pay/refund-notify", n)).status).toBe(204);
    expect((await post("/v1/pay/refund-notify", n)).status).toBe(204);
    expect(await refundStatus(outRefundNo)).toBe("SUCCESS");
    expect(await orderRow(order.id)).toMatchObject({ status: "refunded", refunded_fen: order.totalFen });
  });
});
