import { and, eq, lte } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { orders } from "../db/orders.schema.js";
import type { Jobs } from "../jobs/jobs.js";
import type { Logger } from "../log.js";
import type { Payments } from "../payments/payments.service.js";
import { AppError } from "../protocol/errors.js";

/** How far ahead the reconciler looks: orders due later get their timer when they are placed. */
const RECONCILE_BATCH = 5000;

/**
 * The unpaid-order timeout: at an order's pay deadline a job closes it through WeChat Pay (close,
 * then query: a payment that landed meanwhile is applied instead) and gives its stock back, once.
 * A payment that still arrives after the close is refunded automatically (payments).
 */
export function createOrderTimeouts(deps: { db: Db; jobs: Jobs; payments: Payments; log: Logger }) {
  const { db, jobs, log } = deps;

  const schedule = (order: { id: string; payDeadline: Date }) =>
    jobs.schedule("order.timeout", order.id, { orderId: order.id }, order.payDeadline.getTime());

  return {
    schedule,

    /** Job: closes the order if it is still unpaid at its deadline. */
    async run({ orderId }: { orderId: string }) {
      const [o] = await db.select({ status: orders.status, payDeadline: orders.payDeadline }).from(orders).where(eq(orders.id, orderId));
      if (!o || o.status !== "pending_payment") return;
      if (o.payDeadline.getTime() > Date.now()) {
        // Early (a clock step, or the deadline moved): wait for the real one.
        throw new AppError("ORDER_STATE", "Not due yet.");
      }
      try {
        await deps.payments.cancelOrder(null, orderId, "payment timeout");
        log.info({ orderId }, "unpaid order closed at its deadline");
      } catch (err) {
        // Paid meanwhile (applied by cancelOrder): nothing left to do. The buyer paying right now: try again.
        if (err instanceof AppError && err.code === "ORDER_STATE" && (err.details as { status?: string } | undefined)?.status !== "pending_payment") return;
        throw err;
      }
    },

    /** Gives every unpaid order its timer back (after a Redis loss, or a crash between commit and schedule). */
    async reconcile() {
      const due = await db
        .select({ id: orders.id, payDeadline: orders.payDeadline })
        .from(orders)
        .where(and(eq(orders.status, "pending_payment"), lte(orders.payDeadline, new Date(Date.now() + 24 * 3600 * 1000))))
        .limit(RECONCILE_BATCH);
      for (const o of due) await schedule(o);
      return due.length;
    },
  };
}
