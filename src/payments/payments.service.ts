import { createHash } from "node:crypto";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { users } from "../db/identity.schema.js";
import { orders } from "../db/orders.schema.js";
import { payments, refunds } from "../db/payments.schema.js";
import type { Logger } from "../log.js";
import type { Lifecycle } from "../orders/lifecycle.js";
import type { OrderEventBus } from "../orders/order-events.js";
import type { Orders } from "../orders/orders.service.js";
import { AppError } from "../protocol/errors.js";
import type { UnsequencedEvent } from "../protocol/messages.js";
import { createPurchaseFeed } from "./purchase-feed.js";
import { RefundNotice, Transaction, type NotifyHeaders, type PayClient } from "../wechat/pay.client.js";

/**
 * Refunds that hold part of an order's money: being paid out, paid out, or ABNORMAL (WeChat could
 * not pay it out; it may still succeed, until it is CLOSED). Together they never exceed the order's total.
 */
const HOLDING = ["PROCESSING", "SUCCESS", "ABNORMAL"] as const;
/** Refund states WeChat may still move on from. */
const UNSETTLED = ["PROCESSING", "ABNORMAL"] as const;

/** A prepay_id is valid for two hours at WeChat; reuse it a little less long. */
const PREPAY_REUSE_MS = 110 * 60 * 1000;

export interface PaymentsDeps {
  db: Db;
  orders: Orders;
  /** Pays, refunds and cancels orders (the only writer of their state). */
  lifecycle: Lifecycle;
  /** Where payments hears what followed (to announce a purchase, to refund a payment for a closed order). */
  events: OrderEventBus;
  pay: PayClient;
  log: Logger;
  /** Where WeChat Pay posts notifications (our own public URL). */
  notifyUrl: () => string;
  refundNotifyUrl: () => string;
  /** Publishes an event to a live room (the hub). */
  publish: (roomId: string, event: UnsequencedEvent) => Promise<unknown>;
}

const maskName = (name: string) => `${[...name][0] ?? "*"}***`;

/**
 * Payments and refunds through WeChat Pay v3. A payment notification is applied at most once (the
 * lifecycle's conditional `pay`); a payment for an order that was already cancelled is refunded
 * automatically; refunds have stable out_refund_no values so retries are the same refund.
 */
export function createPayments(deps: PaymentsDeps) {
  const { db, pay, log, lifecycle } = deps;
  const purchases = createPurchaseFeed(deps.publish, log);
  // A first payment is announced in its live room; a payment that landed on a closed order goes back.
  deps.events.on("paid", async (e) => {
    if (!e.replay && e.order.streamId) await announcePurchase(e.order.streamId, e.order.userId, e.items);
  });
  deps.events.on("paidAfterClose", async (e) => {
    await refund(e.order.id, e.order.totalFen, "order was closed before payment arrived", `auto-${e.order.id}`);
  });

  /** wx.requestPayment parameters for one of the user's unpaid orders. */
  async function jsapiParams(userId: string, orderId: string) {
    const order = await deps.orders.get(userId, orderId);
    if (order.status !== "pending_payment") throw new AppError("ORDER_STATE", `The order is ${order.status}.`, { status: order.status });
    await deps.events.ask("payable", { id: order.id, groupId: order.groupId, payDeadline: new Date(order.payDeadline) });
    const [user] = await db.select({ openid: users.openid }).from(users).where(eq(users.id, userId));
    if (!user?.openid) throw new AppError("FORBIDDEN", "Log in with WeChat to pay.");
    const [existing] = await db.select().from(payments).where(eq(payments.orderId, orderId));
    let prepayId = existing && existing.expiresAt > new Date() && existing.amountFen === order.totalFen ? existing.prepayId : null;
    if (!prepayId) {
      prepayId = await pay.prepayJsapi({
        description: order.items.map((i) => i.name).join(", ").slice(0, 120) || "pinlive order",
        outTradeNo: order.id,
        amountFen: order.totalFen,
        openid: user.openid,
        notifyUrl: deps.notifyUrl(),
        timeExpire: new Date(order.payDeadline),
      });
      const row = { orderId, prepayId, amountFen: order.totalFen, openid: user.openid, expiresAt: new Date(Date.now() + PREPAY_REUSE_MS) };
      await db.insert(payments).values(row).onConflictDoUpdate({ target: payments.orderId, set: row });
    }
    return { orderId, ...pay.requestPaymentParams(prepayId) };
  }

  /** Applies a TRANSACTION.SUCCESS resource once. Throws INVALID_PARAMS when it does not match our order. */
  async function applyTransaction(resource: unknown) {
    const t = Transaction.safeParse(resource);
    if (!t.success) throw new AppError("INVALID_PARAMS", "Not a transaction resource.");
    const tx = t.data;
    if (tx.mchid !== pay.mchid || tx.appid !== pay.appId) throw new AppError("INVALID_PARAMS", "mchid or appid is not ours.");
    if (tx.trade_state !== "SUCCESS") return;
    const [order] = await db.select().from(orders).where(eq(orders.id, tx.out_trade_no));
    if (!order) {
      log.error({ outTradeNo: tx.out_trade_no }, "payment for an unknown order");
      return;
    }
    if (tx.amount?.total !== order.totalFen) throw new AppError("INVALID_PARAMS", "The amount does not match the order.");
    // Unpaid: paid now. Paid: a replay, told again. Closed: the money goes back (paidAfterClose).
    await lifecycle.pay(order.id, { paidAt: tx.success_time ? new Date(tx.success_time) : new Date(), transactionId: tx.transaction_id ?? null });
  }

  async function announcePurchase(streamId: string, userId: string, items: { productId: string; name: string; quantity: number }[]) {
    const [buyer] = await db.select({ nickname: users.nickname }).from(users).where(eq(users.id, userId));
    for (const i of items) purchases.add(streamId, i.productId, i.name, maskName(buyer?.nickname ?? ""), i.quantity);
  }

  /**
   * Refunds part or all of a paid order. `key` makes the out_refund_no: the same key is the same
   * refund at WeChat, however often it is sent.
   */
  const outRefundNoOf = (orderId: string, key: string) => `R${createHash("sha256").update(`${orderId}\n${key}`).digest("hex").slice(0, 31)}`;

  /**
   * Refunds whatever of the order is not refunded or being refunded yet (a failed group buy), as
   * one refund under `key`: asked again, it drives that same refund to its end and never adds one.
   * Null when nothing is left to refund.
   */
  async function refundRest(orderId: string, reason: string, key: string) {
    const [mine] = await db.select({ amountFen: refunds.amountFen }).from(refunds).where(eq(refunds.outRefundNo, outRefundNoOf(orderId, key)));
    if (mine) return refund(orderId, mine.amountFen, reason, key);
    const [o] = await db.select({ total: orders.totalFen }).from(orders).where(eq(orders.id, orderId));
    const [open] = await db
      .select({ sum: sql<string>`coalesce(sum(${refunds.amountFen}), 0)` })
      .from(refunds)
      .where(and(eq(refunds.orderId, orderId), inArray(refunds.status, HOLDING)));
    const rest = (o?.total ?? 0) - Number(open?.sum ?? 0);
    return rest > 0 ? refund(orderId, rest, reason, key) : null;
  }

  async function refund(orderId: string, amountFen: number, reason: string, key: string) {
    const outRefundNo = outRefundNoOf(orderId, key);
    const [existing] = await db.select().from(refunds).where(eq(refunds.outRefundNo, outRefundNo));
    const order = await deps.orders.get(null, orderId);
    if (!existing) {
      if (!["paid", "shipped", "completed", "refunding", "cancelled"].includes(order.status)) {
        throw new AppError("ORDER_STATE", `The order is ${order.status}.`, { status: order.status });
      }
      if (order.status === "cancelled" && !order.paidAt) {
        const [paid] = await db.select({ t: orders.transactionId }).from(orders).where(eq(orders.id, orderId));
        if (!paid?.t && !key.startsWith("auto-")) throw new AppError("ORDER_STATE", "The order was never paid.", { status: order.status });
      }
      await lifecycle.run(async (w) => {
        const t = w.tx;
        // Lock the order first, then sum what is already refunding: concurrent refunds queue here.
        const [fresh] = await t.select({ total: orders.totalFen }).from(orders).where(eq(orders.id, orderId)).for("update");
        const [open] = await t
          .select({ sum: sql<string>`coalesce(sum(${refunds.amountFen}), 0)` })
          .from(refunds)
          .where(and(eq(refunds.orderId, orderId), inArray(refunds.status, HOLDING)));
        if (Number(open?.sum ?? 0) + amountFen > fresh!.total) throw new AppError("CONFLICT", "The refund exceeds what was paid and not yet refunded.");
        await t.insert(refunds).values({ outRefundNo, orderId, amountFen, reason, status: "PROCESSING" });
        // The whole amount is being refunded: a paid, shipped or completed order is refunding.
        if (Number(open?.sum ?? 0) + amountFen === fresh!.total) await lifecycle.refundAll(w, orderId);
      });
    } else if (existing.amountFen !== amountFen) {
      throw new AppError("IDEMPOTENCY_KEY_REUSED", "This refund was asked for with another amount.");
    }
    const row = existing ?? (await db.select().from(refunds).where(eq(refunds.outRefundNo, outRefundNo)))[0]!;
    if (row.status === "PROCESSING") {
      const out = await pay.refund({ outTradeNo: orderId, outRefundNo, refundFen: amountFen, totalFen: order.totalFen, reason, notifyUrl: deps.refundNotifyUrl() });
      if (out.status === "SUCCESS") await applyRefund({ out_refund_no: outRefundNo, refund_id: out.refund_id, refund_status: "SUCCESS" });
      else await db.update(refunds).set({ refundId: out.refund_id }).where(eq(refunds.outRefundNo, outRefundNo));
    }
    return (await db.select().from(refunds).where(eq(refunds.outRefundNo, outRefundNo)))[0]!;
  }

  /**
   * Applies a refund result once: PROCESSING → ABNORMAL (still holding its amount), PROCESSING or
   * ABNORMAL → CLOSED (its amount is free again) or → SUCCESS (the order's refunded sum follows).
   */
  async function applyRefund(r: { out_refund_no: string; refund_id: string; refund_status: string }) {
    if (r.refund_status !== "SUCCESS") {
      const closed = r.refund_status === "CLOSED";
      await db
        .update(refunds)
        .set({ status: closed ? "CLOSED" : "ABNORMAL" })
        .where(and(eq(refunds.outRefundNo, r.out_refund_no), inArray(refunds.status, closed ? UNSETTLED : ["PROCESSING"])));
      return;
    }
    await lifecycle.run(async (w) => {
      const [done] = await w.tx
        .update(refunds)
        .set({ status: "SUCCESS", refundId: r.refund_id, succeededAt: new Date() })
        .where(and(eq(refunds.outRefundNo, r.out_refund_no), inArray(refunds.status, UNSETTLED)))
        .returning();
      if (done) await lifecycle.refundSettled(w, done.orderId, done.amountFen);
    });
  }

  /** A notification from WeChat Pay: verified, decrypted, applied once. */
  async function onNotification(headers: NotifyHeaders, rawBody: string) {
    const n = pay.openNotification(headers, rawBody);
    if (n.eventType === "TRANSACTION.SUCCESS") return applyTransaction(n.resource);
    if (n.eventType.startsWith("REFUND.")) {
      const r = RefundNotice.safeParse(n.resource);
      if (!r.success || r.data.mchid !== pay.mchid) throw new AppError("INVALID_PARAMS", "Not our refund.");
      return applyRefund(r.data);
    }
    log.info({ eventType: n.eventType }, "notification ignored");
  }

  /**
   * Cancels an unpaid order. If WeChat Pay already has a transaction for it, that transaction is
   * closed first; if WeChat says it was paid meanwhile, the payment is applied and the cancel
   * refused. When WeChat cannot be reached the cancel goes ahead: a payment that still arrives
   * is refunded automatically.
   */
  async function cancelOrder(userId: string | null, orderId: string, reason: string) {
    // Ownership and state first: nothing is closed at WeChat for someone else's order.
    const order = await deps.orders.get(userId, orderId);
    if (order.status !== "pending_payment") throw new AppError("ORDER_STATE", `The order is ${order.status}.`, { status: order.status });
    const [p] = await db.select({ orderId: payments.orderId }).from(payments).where(eq(payments.orderId, orderId));
    if (p) {
      // Close, then ask what WeChat now holds (close answers the same for paid and unpaid orders).
      let state: string | null = null;
      try {
        await pay.close(orderId).catch((err: unknown) => log.info({ err, orderId }, "close refused; asking for the state"));
        const tx = await pay.query(orderId);
        state = tx.trade_state;
        if (state === "SUCCESS" || state === "REFUND") await applyTransaction(tx);
      } catch (err) {
        log.warn({ err, orderId }, "WeChat Pay unreachable; cancelling anyway (a late payment is refunded)");
      }
      if (state === "USERPAYING") throw new AppError("ORDER_STATE", "The buyer is paying right now.", { status: "pending_payment" });
      if (state === "SUCCESS" || state === "REFUND") {
        const now = await deps.orders.get(userId, orderId);
        throw new AppError("ORDER_STATE", `The order is ${now.status}.`, { status: now.status });
      }
      await db.delete(payments).where(eq(payments.orderId, orderId));
    }
    return deps.orders.cancel(userId, orderId, reason);
  }

  return { jsapiParams, onNotification, refund, refundRest, applyTransaction, cancelOrder, flushAnnouncements: () => purchases.flush() };
}

export type Payments = ReturnType<typeof createPayments>;
