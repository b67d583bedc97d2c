// WeChat Pay v3 end to end through the sandbox, with our real client code: pay, notify, refund.
import { generateKeyPairSync } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, sleep, WsClient } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { sandboxSecrets, signedNotification as signedNotificationOf, transactionResource, wechatUser as wechatUserOf, type NotificationOptions } from "./support/wechat.js";

type Order = { id: string; status: string; totalFen: number };
type PayParams = { orderId: string; timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string };

describe("WeChat Pay through the sandbox", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  let secrets: Awaited<ReturnType<typeof sandboxSecrets>>;
  const services = useTestServices();
  let n = 0;
  const key = () => ({ "idempotency-key": `pay-${Date.now()}-${n++}` });

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
    secrets = await sandboxSecrets(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const wechatUser = (nickname = "Mei") => wechatUserOf(call, nickname);

  async function unpaidOrder(priceFen = 12800, quantity = 1, streamId?: string) {
    const p = await makeProduct(call, admin, { priceFen, stock: 100 });
    const u = await wechatUser();
    const order = await call<Order>("POST", "/v1/orders", {
      token: u.token,
      headers: key(),
      body: { items: [{ skuId: p.skuId, quantity }], addressId: u.addressId, ...(streamId ? { streamId } : {}) },
    });
    return { ...u, product: p, order: order.body };
  }

  const statusOf = async (id: string) => (await call<{ items: Order[] }>("GET", "/v1/admin/orders?pageSize=100", { token: admin })).body.items.find((o) => o.id === id)!;

  it("takes the whole path with the seed pages' calls: login, cart, order, pay, notification, live room", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const viewer = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await viewer.next("snapshot");
    const p = await makeProduct(call, admin, { priceFen: 12800, stock: 10 }, "Longjing 250 g");
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
    const u = await wechatUser("Mei");

    await call("POST", "/v1/cart/items", { token: u.token, body: { skuId: p.skuId, quantity: 2 } });
    const cart = (await call<{ items: { id: string; price: number; quantity: number }[] }>("GET", "/api/cart", { token: u.token })).body;
    const addr = (await call<{ id: string }>("GET", "/api/user/address/default", { token: u.token })).body;
    const totalAmount = cart.items.reduce((s, i) => s + i.price * i.quantity, 0).toFixed(2);
    const placed = await call<Order & { orderId: string }>("POST", "/api/orders", {
      token: u.token,
      body: { items: cart.items, address: addr, totalAmount, paymentMethod: "wechat", streamId },
    });
    expect(placed.status).toBe(201);
    const params = (await call<PayParams>("POST", "/api/payment/create", { token: u.token, body: { orderId: placed.body.orderId, paymentMethod: "wechat" } })).body;
    expect(params).toMatchObject({ signType: "RSA", package: expect.stringMatching(/^prepay_id=wx/) as unknown });

    // wx.requestPayment({...params}) — WeChat checks paySign, charges, then notifies our server.
    const paid = await call<{ errMsg: string }>("POST", "/sandbox/wechat/pay", { body: params });
    expect(paid.body.errMsg).toBe("requestPayment:ok");
    let order: Order = placed.body;
    const deadline = Date.now() + 10_000;
    while (order.status !== "paid" && Date.now() < deadline) {
      await sleep(50);
      order = (await call<Order>("GET", `/v1/orders/${placed.body.id}`, { token: u.token })).body;
    }
    expect(order).toMatchObject({ status: "paid", totalFen: 25600 });
    const purchase = await viewer.next("purchase");
    expect(purchase.purchase).toMatchObject({ buyer: "M***", buyers: 1, productName: "Longjing 250 g", quantity: 2, productId: p.productId });
    expect((await call<{ sales: number }>("GET", `/v1/products/${p.productId}`)).body.sales).toBe(2);

    // Paying again is refused by WeChat; the order stays paid once.
    expect((await call<{ errMsg: string }>("POST", "/sandbox/wechat/pay", { body: params })).status).toBe(400);
    expect((await call("POST", `/v1/orders/${placed.body.id}/pay`, { token: u.token })).body).toMatchObject({ code: "ORDER_STATE" });
    viewer.close();
  });

  /** A notification as WeChat Pay would send it, signed with the sandbox's platform key. */
  function notification(orderId: string, totalFen: number, opts: NotificationOptions = {}) {
    return signedNotification("TRANSACTION.SUCCESS", "transaction", transactionResource(secrets, orderId, totalFen), opts);
  }
  const signedNotification = (eventType: string, originalType: string, resource: unknown, opts: NotificationOptions = {}) => signedNotificationOf(secrets, eventType, originalType, resource, opts);
  const post = (n: { body: string; headers: Record<string, string> }, body = n.body) =>
    fetch(`${server.url}/v1/pay/notify`, { method: "POST", headers: n.headers, body });

  it("applies the same notification sent 20 times at once exactly once, answering 2xx every time", async () => {
    const { order, product } = await unpaidOrder(5000, 3);
    const n = notification(order.id, order.totalFen);
    const replies = await Promise.all(Array.from({ length: 20 }, () => post(n)));
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(204));
    expect((await statusOf(order.id)).status).toBe("paid");
    expect((await call<{ sales: number }>("GET", `/v1/products/${product.productId}`)).body.sales).toBe(3);
  });

  it("rejects forged, tampered, wrong-amount, unknown-serial, probe and stale notifications, changing nothing", async () => {
    const { order, product } = await unpaidOrder(7000, 1);
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const valid = notification(order.id, order.totalFen);
    const cases: [string, Response][] = [
      ["forged signature", await post(notification(order.id, order.totalFen, { key: stranger.privateKey }))],
      ["tampered body", await post(valid, valid.body.replace('"summary":"通知"', '"summary":"通知 "'))],
      ["wrong amount", await post(notification(order.id, order.totalFen - 1))],
      ["unknown serial", await post(notification(order.id, order.totalFen, { serial: "PUB_KEY_ID_UNKNOWN" }))],
      ["SIGNTEST probe", await post(notification(order.id, order.totalFen, { signature: "WECHATPAY/SIGNTEST/abcdef" }))],
      ["stale timestamp", await post(notification(order.id, order.totalFen, { timestamp: Math.floor(Date.now() / 1000) - 600 }))],
      ["missing headers", await fetch(`${server.url}/v1/pay/notify`, { method: "POST", headers: { "content-type": "application/json" }, body: valid.body })],
    ];
    for (const [what, res] of cases) {
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expect(await res.json(), what).toMatchObject({ code: "FAIL" });
    }
    expect((await statusOf(order.id)).status).toBe("pending_payment");
    expect((await call<{ sales: number }>("GET", `/v1/products/${product.productId}`)).body.sales).toBe(0);
    expect((await post(valid)).status).toBe(204);
    expect((await statusOf(order.id)).status).toBe("paid");
  });

  async function paidOrder(priceFen: number) {
    const o = await unpaidOrder(priceFen, 1);
    const params = (await call<PayParams>("POST", `/v1/orders/${o.order.id}/pay`, { token: o.token })).body;
    await call("POST", "/sandbox/wechat/pay", { body: params });
    await waitForStatus(o.order.id, "paid");
    return o;
  }
  async function waitForStatus(id: string, status: string) {
    const deadline = Date.now() + 10_000;
    while ((await statusOf(id)).status !== status) {
      if (Date.now() > deadline) throw new Error(`order ${id} never became ${status}`);
      await sleep(50);
    }
  }
  const refundRows = async (orderId: string) => {
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      return await sql<{ status: string; amount_fen: number }[]>`select status, amount_fen from refunds where order_id = ${orderId} order by created_at`;
    } finally {
      await sql.end();
    }
  };

  it("refunds in part and in full through the sandbox, each refund applied once", async () => {
    const o = await paidOrder(10000);
    const partialKey = key();
    const partial = await call<{ outRefundNo: string; status: string }>("POST", `/v1/admin/orders/${o.order.id}/refund`, {
      token: admin,
      headers: partialKey,
      body: { amountFen: 3000, reason: "one item damaged" },
    });
    expect(partial.status).toBe(200);
    // The same request again (a retry) is the same refund.
    const retry = await call<{ outRefundNo: string }>("POST", `/v1/admin/orders/${o.order.id}/refund`, { token: admin, headers: partialKey, body: { amountFen: 3000, reason: "one item damaged" } });
    expect(retry.body.outRefundNo).toBe(partial.body.outRefundNo);
    const deadline = Date.now() + 10_000;
    while ((await refundRows(o.order.id)).some((r) => r.status !== "SUCCESS") && Date.now() < deadline) await sleep(50);
    expect(await refundRows(o.order.id)).toEqual([{ status: "SUCCESS", amount_fen: 3000 }]);
    expect((await statusOf(o.order.id)).status).toBe("paid");

    const tooMuch = await call("POST", `/v1/admin/orders/${o.order.id}/refund`, { token: admin, headers: key(), body: { amountFen: 7001, reason: "x" } });
    expect(tooMuch).toMatchObject({ status: 409, body: { code: "CONFLICT" } });

    await call("POST", `/v1/admin/orders/${o.order.id}/refund`, { token: admin, headers: key(), body: { amountFen: 7000, reason: "returned" } });
    await waitForStatus(o.order.id, "refunded");
    const rows = await refundRows(o.order.id);
    expect(rows.map((r) => [r.status, r.amount_fen])).toEqual([
      ["SUCCESS", 3000],
      ["SUCCESS", 7000],
    ]);
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const [order] = await sql<{ refunded_fen: number }[]>`select refunded_fen from orders where id = ${o.order.id}`;
    await sql.end();
    expect(order!.refunded_fen).toBe(10000);
  });

  it("gathers purchases of one product in a room into one conflated event", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const viewer = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await viewer.next("snapshot");
    const p = await makeProduct(call, admin, { priceFen: 990, stock: 50 }, "Fan");
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
    const buyers = await Promise.all(["Ann", "Bo", "Cai"].map((name) => wechatUser(name)));
    const placed = await Promise.all(
      buyers.map((u) =>
        call<Order>("POST", "/v1/orders", { token: u.token, headers: key(), body: { items: [{ skuId: p.skuId, quantity: 2 }], addressId: u.addressId, streamId } }),
      ),
    );
    const replies = await Promise.all(placed.map((o) => post(notification(o.body.id, o.body.totalFen))));
    expect(replies.map((r) => r.status)).toEqual([204, 204, 204]);
    const event = await viewer.next("purchase");
    expect(event.purchase).toMatchObject({ buyers: 3, quantity: 6, productId: p.productId, productName: "Fan" });
    await sleep(1000);
    expect(viewer.of("purchase")).toHaveLength(1);
    viewer.close();
  });

  it("applies a refund notification once however often it comes", async () => {
    const o = await paidOrder(6000);
    const r = await call<{ outRefundNo: string }>("POST", `/v1/admin/orders/${o.order.id}/refund`, { token: admin, headers: key(), body: { amountFen: 6000, reason: "returned" } });
    await waitForStatus(o.order.id, "refunded");
    const replay = signedNotification("REFUND.SUCCESS", "refund", {
      mchid: secrets.mchid,
      out_trade_no: o.order.id,
      out_refund_no: r.body.outRefundNo,
      refund_id: "50-replayed",
      refund_status: "SUCCESS",
      amount: { total: 6000, refund: 6000, payer_total: 6000, payer_refund: 6000 },
    });
    const replies = await Promise.all(Array.from({ length: 10 }, () => fetch(`${server.url}/v1/pay/refund-notify`, { method: "POST", headers: replay.headers, body: replay.body })));
    expect(replies.map((x) => x.status)).toEqual(Array(10).fill(204));
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const [order] = await sql<{ refunded_fen: number; status: string }[]>`select refunded_fen, status from orders where id = ${o.order.id}`;
    await sql.end();
    expect(order).toEqual({ refunded_fen: 6000, status: "refunded" });
  });

  it("queries and closes through our real client against the sandbox", async () => {
    const { createPayClient } = await import("../src/wechat/pay.client.js");
    const credentials = {
      mchid: secrets.mchid!,
      appId: secrets.appId,
      merchantSerial: secrets.merchantSerial!,
      merchantPrivateKey: secrets.merchantPrivateKey!,
      apiV3Key: secrets.apiV3Key!,
      platformKeys: { [secrets.platformKeyId!]: secrets.platformPublicKey! },
    };
    const client = createPayClient({ apiBase: () => `${server.url}/sandbox/wechat`, credentials });
    const paid = await paidOrder(3300);
    expect(await client.query(paid.order.id)).toMatchObject({ trade_state: "SUCCESS", amount: { total: 3300 } });
    const open = await unpaidOrder(1200, 1);
    await call("POST", `/v1/orders/${open.order.id}/pay`, { token: open.token });
    expect((await client.query(open.order.id)).trade_state).toBe("NOTPAY");
    await client.close(open.order.id);
    expect((await client.query(open.order.id)).trade_state).toBe("CLOSED");
    await expect(client.close(paid.order.id)).rejects.toMatchObject({ wechatCode: "ORDERPAID" });
    // A response WeChat did not sign is refused by our client.
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
    const forged = createPayClient({
      apiBase: () => `${server.url}/sandbox/wechat`,
      credentials: { ...credentials, platformKeys: { [secrets.platformKeyId!]: stranger.publicKey } },
    });
    await expect(forged.query(paid.order.id)).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE", message: "WeChat Pay's answer did not verify." });
  });

  it("a cancel that races a completed payment ends paid, not cancelled", async () => {
    const o = await unpaidOrder(4100, 1);
    const params = (await call<PayParams>("POST", `/v1/orders/${o.order.id}/pay`, { token: o.token })).body;
    // WeChat has charged the buyer but its notification is still on the way.
    expect((await call<{ errMsg: string }>("POST", "/sandbox/wechat/pay", { body: { ...params, notifyDelayMs: 2000 } })).body.errMsg).toBe("requestPayment:ok");
    const cancel = await call("POST", `/v1/orders/${o.order.id}/cancel`, { token: o.token, body: {} });
    expect(cancel).toMatchObject({ status: 409, body: { code: "ORDER_STATE", details: { status: "paid" } } });
    expect((await statusOf(o.order.id)).status).toBe("paid");
    await sleep(2500);
    expect((await statusOf(o.order.id)).status).toBe("paid");
    expect(await refundRows(o.order.id)).toEqual([]);
  });

  it("closes the WeChat transaction on cancel, and refunds a payment that still arrives", async () => {
    const o = await unpaidOrder(4200, 1);
    const params = (await call<PayParams>("POST", `/v1/orders/${o.order.id}/pay`, { token: o.token })).body;
    expect((await call<Order>("POST", `/v1/orders/${o.order.id}/cancel`, { token: o.token, body: {} })).body.status).toBe("cancelled");
    expect((await call<{ errMsg: string }>("POST", "/sandbox/wechat/pay", { body: params })).status).toBe(400);
    // Say WeChat charged it anyway (its close raced the buyer): the notification still comes.
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    await sql`update sandbox_transactions set state = 'SUCCESS', transaction_id = 'late-1' where out_trade_no = ${o.order.id}`;
    await sql.end();
    expect((await post(notification(o.order.id, o.order.totalFen))).status).toBe(204);
    const deadline = Date.now() + 10_000;
    while ((await refundRows(o.order.id)).every((r) => r.status !== "SUCCESS") && Date.now() < deadline) await sleep(50);
    expect(await refundRows(o.order.id)).toEqual([{ status: "SUCCESS", amount_fen: 4200 }]);
    expect((await statusOf(o.order.id)).status).toBe("cancelled");
  });

  it("serves only requests signed with the merchant key in the sandbox", async () => {
    const res = await fetch(`${server.url}/sandbox/wechat/v3/pay/transactions/jsapi`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "SIGN_ERROR" });
  });
});
