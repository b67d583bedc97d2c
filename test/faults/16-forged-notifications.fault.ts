// Case 16: forged WeChat Pay notifications for a real unpaid order. Each is refused (4xx, so
// WeChat would retry a genuine one), logged, and changes nothing; the genuine payment then applies once.
import { generateKeyPairSync } from "node:crypto";
import { expect } from "vitest";
import { adminToken } from "../support/admin.js";
import { devSession, devStream, sleep, WsClient } from "../support/clients.js";
import { httpClient } from "../support/http.js";
import { logRecords } from "../support/logs.js";
import { payInSandbox, sandboxSecrets } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { wechatPayNotifier } from "./app-support/notifier.js";
import { buyerAndProduct, orderTruth, placeOrder } from "./app-support/orders.js";

const ctx = useCaseServer();

faultCase(16, "forged notifications", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const truth = orderTruth(services.databaseUrl);
  try {
    const admin = await adminToken(services.databaseUrl);
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const room = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await room.next("snapshot");
    const who = await buyerAndProduct(call, admin, { priceFen: 7000 });
    expect((await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [who.product.productId] } })).status).toBe(200);
    const { order, product, buyer, payParams } = await placeOrder(call, who, { quantity: 2, streamId, prepay: true });
    const n = wechatPayNotifier(server.url, await sandboxSecrets(services.databaseUrl));
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const now = Math.floor(Date.now() / 1000);
    const genuine = n.paid(order.id, order.totalFen);
    const refusedBefore = logRecords(server.output()).filter((r) => r.msg === "notification refused").length;

    /** `genuine`'s body with one change (which must take). */
    const altered = (from: string | RegExp, to: string) => {
      const body = genuine.body.replace(from, to);
      expect(body).not.toBe(genuine.body);
      return body;
    };
    const forgeries: [string, Promise<{ status: number; body: { code?: string } | null }>][] = [
      ["signed with a stranger's key", n.post(n.paid(order.id, order.totalFen, { key: stranger.privateKey }))],
      ["body changed after signing", n.post(genuine, altered('"summary":"通知"', '"summary":"通知 "'))],
      ["headers of another body", n.post(n.paid(order.id, order.totalFen), altered(/"id":"evt-[^"]+"/, '"id":"evt-other"'))],
      ["resource under a wrong APIv3 key", n.post(n.paid(order.id, order.totalFen, { apiV3Key: "x".repeat(32) }))],
      ["amount 1 fen", n.post(n.paid(order.id, 1))],
      ["another merchant's mchid", n.post(n.paid(order.id, order.totalFen, {}, { mchid: "1999999999" }))],
      ["another app's appid", n.post(n.paid(order.id, order.totalFen, {}, { appid: "wx_not_ours" }))],
      ["unknown Wechatpay-Serial", n.post(n.paid(order.id, order.totalFen, { serial: "PUB_KEY_ID_FORGED" }))],
      ["SIGNTEST probe signature", n.post(n.paid(order.id, order.totalFen, { signature: "WECHATPAY/SIGNTEST/abcdef" }))],
      ["timestamp 10 minutes old", n.post(n.paid(order.id, order.totalFen, { timestamp: now - 600 }))],
      ["timestamp 10 minutes ahead", n.post(n.paid(order.id, order.totalFen, { timestamp: now + 600 }))],
      ["no Wechatpay-* headers", n.post(genuine, genuine.body, { "content-type": "application/json" })],
      ["a resource that is not a transaction", n.post(n.signed("TRANSACTION.SUCCESS", "transaction", { out_trade_no: order.id }))],
    ];
    const answers = await Promise.all(forgeries.map(async ([what, res]) => [what, await res] as const));
    log.injected(`${forgeries.length} forged notifications for a real unpaid order: ${forgeries.map(([w]) => w).join(", ")}`);
    for (const [what, res] of answers) {
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expect(res.body, what).toMatchObject({ code: "FAIL" });
    }
    log.checked("each answered 4xx {code: FAIL} (WeChat would retry a real one)");

    await sleep(500);
    expect(await truth.order(order.id)).toMatchObject({ status: "pending_payment", paid_at: null, transaction_id: null });
    expect(await truth.sales(product.productId)).toBe(0);
    expect(await truth.refunds(order.id)).toEqual([]);
    expect(room.of("purchase")).toEqual([]);
    const refusedLogs = logRecords(server.output()).filter((r) => r.msg === "notification refused").length - refusedBefore;
    expect(refusedLogs).toBeGreaterThanOrEqual(forgeries.length);
    log.checked(`nothing changed: the order is still unpaid, 0 sales, no refund, no purchase in the room; ${refusedLogs} 'notification refused' log lines`);

    expect(await payInSandbox(call, payParams!)).toBe("requestPayment:ok");
    const deadline = Date.now() + 10_000;
    while ((await truth.order(order.id)).status !== "paid" && Date.now() < deadline) await sleep(100);
    expect(await truth.order(order.id)).toMatchObject({ status: "paid" });
    expect((await call<{ status: string }>("GET", `/v1/orders/${order.id}`, { token: buyer.token })).body.status).toBe("paid");
    expect(await truth.sales(product.productId)).toBe(2);
    await room.next("purchase");
    await sleep(1000);
    expect(room.of("purchase")).toHaveLength(1);
    log.checked("the genuine payment through WeChat (the sandbox) then applied once: paid, 2 sales, one purchase in the room");
    room.close();
  } finally {
    await truth.close();
  }
});
