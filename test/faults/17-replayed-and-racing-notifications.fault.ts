// Case 17: payment notifications racing the unpaid-order close job at the deadline, then replayed.
// Whatever wins, money and stock end consistent: a charge is either a paid order or refunded once in
// full; an order never charged is cancelled with its stock back once; replays change nothing.
import { randomInt } from "node:crypto";
import { expect } from "vitest";
import { adminToken } from "../support/admin.js";
import { sleep, waitUntil } from "../support/clients.js";
import { httpClient } from "../support/http.js";
import { wechatPayNotifier, type Notification } from "./app-support/notifier.js";
import { payInSandbox, sandboxSecrets } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";
import { buyerAndProduct, orderTruth, placeOrder } from "./app-support/orders.js";

const TIMEOUT_SEC = 5;
/** Orders per kind of race. */
const ROUNDS = 8;
const PRICE = 3300;
const STOCK = 10;

const ctx = useCaseServer({ ORDER_PAY_TIMEOUT_SEC: String(TIMEOUT_SEC) });

faultCase(17, "replayed notifications and a notification racing the close job", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const truth = orderTruth(services.databaseUrl);
  try {
    const admin = await adminToken(services.databaseUrl);
    const notifier = wechatPayNotifier(server.url, await sandboxSecrets(services.databaseUrl));
    /** WeChat retries a notification until it gets a 2xx. */
    const deliver = async (n: Notification) => {
      for (let i = 0; i < 20; i++) {
        if ((await notifier.post(n)).status === 204) return;
        await sleep(250);
      }
      throw new Error("notification never accepted");
    };
    const fixtures = await Promise.all(Array.from({ length: 2 * ROUNDS }, () => buyerAndProduct(call, admin, { priceFen: PRICE, stock: STOCK })));
    const placed = await Promise.all(fixtures.map((f) => placeOrder(call, f, { prepay: true })));
    const sent = new Map<string, Notification>();

    // Half: the buyer taps pay in WeChat around the close, its notification a little late. Half: WeChat
    // charged anyway (its close raced the buyer), its notification posted around the close. The close
    // job runs at the deadline plus its own lateness, so the taps spread from just before the deadline
    // to well after it. The last order is charged only once it is seen closed: a notification that lost.
    const lateCharge = placed.at(-1)!;
    const charge = async (p: (typeof placed)[number], i: number) => {
      const transactionId = `4200race${i}${Date.now()}`;
      await truth.sql`update sandbox_transactions set state = 'SUCCESS', transaction_id = ${transactionId}, success_time = now() where out_trade_no = ${p.order.id}`;
      await sleep(randomInt(0, 300));
      const n = notifier.paid(p.order.id, p.order.totalFen, {}, { transaction_id: transactionId });
      sent.set(p.order.id, n);
      await deliver(n);
    };
    await Promise.all(
      placed.map(async (p, i) => {
        const deadline = Date.parse(p.order.payDeadline);
        if (p === lateCharge) {
          await waitUntil(async () => (await truth.order(p.order.id)).status === "cancelled", "the last order closed", 20_000);
          return charge(p, i);
        }
        await sleep(Math.max(0, deadline + randomInt(-300, 2500) - Date.now()));
        if (i % 2 === 0) await payInSandbox(call, p.payParams!, randomInt(0, 400));
        else await charge(p, i);
      }),
    );
    log.injected(
      `${2 * ROUNDS} orders reached their deadline (ORDER_PAY_TIMEOUT_SEC ${TIMEOUT_SEC}) with a payment landing from 0.3 s before to 2.5 s after it, across the close job: ` +
        "half paid by the buyer through the sandbox (notification up to 0.4 s late), half charged by WeChat regardless with its notification posted around the close; one charged only after it was closed",
    );

    const charged = (state: string | null) => state === "SUCCESS" || state === "REFUND";
    /** Closed or paid; a charge that landed on a closed order refunded. */
    const settled = async (id: string) => {
      const o = await truth.order(id);
      if (o.status === "pending_payment") return false;
      if (o.status !== "cancelled" || !charged((await truth.wechat(id)).state)) return true;
      return (await truth.refunds(id)).some((r) => r.status === "SUCCESS");
    };
    await waitUntil(async () => (await Promise.all(placed.map((p) => settled(p.order.id)))).every(Boolean), "every order settled", 30_000);
    await sleep(500);

    const outcomes = { paid: 0, refundedAfterClose: 0, closedUncharged: 0 };
    const snapshot = async () =>
      Promise.all(
        placed.map(async (p) => ({
          id: p.order.id,
          order: await truth.order(p.order.id),
          wechat: await truth.wechat(p.order.id),
          refunds: await truth.refunds(p.order.id),
          stock: await truth.stock(p.product.skuId),
          sales: await truth.sales(p.product.productId),
        })),
      );
    const before = await snapshot();
    for (const s of before) {
      if (!charged(s.wechat.state)) {
        expect(s, "never charged: cancelled, stock back, no refund").toMatchObject({ order: { status: "cancelled" }, refunds: [], stock: STOCK, sales: 0, wechat: { refunds: 0 } });
        outcomes.closedUncharged++;
      } else if (s.order.status === "paid") {
        expect(s, "charged and paid: no refund").toMatchObject({ refunds: [], stock: STOCK - 1, sales: 1, wechat: { refunds: 0 } });
        outcomes.paid++;
      } else {
        expect(s, "charged after the close: refunded once in full").toMatchObject({
          order: { status: "cancelled", refunded_fen: PRICE },
          refunds: [{ status: "SUCCESS", amount_fen: PRICE }],
          stock: STOCK,
          sales: 0,
          wechat: { refunds: 1, refundedFen: PRICE },
        });
        outcomes.refundedAfterClose++;
      }
    }
    expect(before.find((x) => x.id === lateCharge.order.id)).toMatchObject({ order: { status: "cancelled" }, refunds: [{ status: "SUCCESS" }] });
    log.checked(
      `every order consistent: ${outcomes.paid} paid (charged, no refund, 1 unit sold), ${outcomes.refundedAfterClose} closed then charged (refunded once in full, stock back), ${outcomes.closedUncharged} closed before any charge (cancelled, stock back once)`,
    );

    // Replays: every notification again, 10 times at once each, and each paid order's as WeChat would resend it.
    for (const p of placed.filter((_, i) => i % 2 === 0)) {
      const s = before.find((x) => x.id === p.order.id)!;
      if (charged(s.wechat.state)) sent.set(p.order.id, notifier.paid(p.order.id, p.order.totalFen));
    }
    const refundNotices = await Promise.all(
      before
        .filter((s) => s.refunds.length > 0)
        .map(async (s) => {
          const [r] = await truth.sql<{ out_refund_no: string; refund_id: string }[]>`select out_refund_no, refund_id from refunds where order_id = ${s.id}`;
          return notifier.signed("REFUND.SUCCESS", "refund", {
            mchid: notifier.transaction(s.id, PRICE).mchid,
            out_trade_no: s.id,
            out_refund_no: r!.out_refund_no,
            refund_id: r!.refund_id,
            refund_status: "SUCCESS",
            amount: { total: PRICE, refund: PRICE, payer_total: PRICE, payer_refund: PRICE },
          });
        }),
    );
    const replies = await Promise.all([
      ...[...sent.values()].flatMap((n) => Array.from({ length: 10 }, () => notifier.post(n))),
      ...refundNotices.flatMap((n) => Array.from({ length: 10 }, () => fetch(`${server.url}/v1/pay/refund-notify`, { method: "POST", headers: n.headers, body: n.body }).then((r) => ({ status: r.status })))),
    ]);
    log.injected(`${replies.length} replays: each payment notification 10 times at once (paid and refunded orders alike), each refund notification 10 times`);
    expect(new Set(replies.map((r) => r.status))).toEqual(new Set([204]));
    await sleep(1500);
    expect(await snapshot()).toEqual(before);
    log.checked("every replay answered 204 and nothing moved: statuses, refunds (ours and WeChat's), stock and sales exactly as before");
  } finally {
    await truth.close();
  }
}, 120_000);
