// Case 18: the buyer pays, but WeChat's notification never reaches us (its notify URL is a dead
// port). At the deadline the close job asks WeChat first, finds the payment and applies it instead
// of closing: the order is paid once, its stock stays sold, nothing is refunded.
import { expect } from "vitest";
import { adminToken } from "../support/admin.js";
import { sleep, waitUntil } from "../support/clients.js";
import { httpClient } from "../support/http.js";
import { payInSandbox } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { buyerAndProduct, orderTruth, placeOrder } from "./app-support/orders.js";
import { deadPort } from "./app-support/ports.js";

const TIMEOUT_SEC = 4;
const STOCK = 10;

const lostNotifyBase = `http://127.0.0.1:${await deadPort()}`;

// Where WeChat sends notifications: nowhere.
const ctx = useCaseServer({ ORDER_PAY_TIMEOUT_SEC: String(TIMEOUT_SEC), PUBLIC_BASE_URL: lostNotifyBase });

faultCase(18, "a missing notification (the close job queries WeChat first)", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const truth = orderTruth(services.databaseUrl);
  try {
    const admin = await adminToken(services.databaseUrl);
    const [payer, idler] = await Promise.all([buyerAndProduct(call, admin, { priceFen: 4500, stock: STOCK }), buyerAndProduct(call, admin, { priceFen: 4500, stock: STOCK })]);
    const paid = await placeOrder(call, payer, { quantity: 2, prepay: true });
    const idle = await placeOrder(call, idler, { quantity: 2, prepay: true });
    expect(await payInSandbox(call, paid.payParams!)).toBe("requestPayment:ok");
    log.injected(`the buyer paid in WeChat (the sandbox) ${Math.round((Date.parse(paid.order.payDeadline) - Date.now()) / 1000)} s before the deadline, and every notification went to a dead port (${lostNotifyBase}); another order was never paid`);

    // Until the deadline nobody told us: the order is still unpaid.
    await sleep(Math.max(0, Date.parse(paid.order.payDeadline) - Date.now() - 500));
    expect(await truth.wechat(paid.order.id)).toMatchObject({ state: "SUCCESS" });
    expect((await truth.order(paid.order.id)).status).toBe("pending_payment");
    log.checked("half a second before the deadline WeChat holds the payment and our order is still pending (no notification arrived)");

    await waitUntil(async () => (await truth.order(paid.order.id)).status !== "pending_payment" && (await truth.order(idle.order.id)).status !== "pending_payment", "the close job", 20_000);
    await sleep(1000);
    expect(await truth.order(paid.order.id)).toMatchObject({ status: "paid", transaction_id: expect.any(String) as unknown });
    expect(await truth.stock(payer.product.skuId)).toBe(STOCK - 2);
    expect(await truth.sales(payer.product.productId)).toBe(2);
    expect(await truth.refunds(paid.order.id)).toEqual([]);
    expect(await truth.wechat(paid.order.id)).toMatchObject({ state: "SUCCESS", refunds: 0 });
    log.checked("at the deadline the close job asked WeChat, found the payment and applied it: paid with WeChat's transaction id, 2 units stay sold, 2 sales, no refund, WeChat's transaction left as paid");

    expect(await truth.order(idle.order.id)).toMatchObject({ status: "cancelled", cancel_reason: "payment timeout" });
    expect(await truth.stock(idler.product.skuId)).toBe(STOCK);
    expect(await truth.wechat(idle.order.id)).toMatchObject({ state: "CLOSED" });
    expect(await payInSandbox(call, idle.payParams!)).toBe("requestPayment:fail order is not payable");
    log.checked("the unpaid order was closed instead: cancelled, stock back, its WeChat transaction closed so it can no longer be paid");
  } finally {
    await truth.close();
  }
});
