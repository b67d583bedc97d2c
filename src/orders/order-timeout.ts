import { and, eq, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { orders } from "../db/orders.schema.js";
import type { Jobs } from "../jobs/jobs.js";
import type { Logger } from "../log.js";
import { AppError } from "../protocol/errors.js";
import { bestEffort } from "../redis/best-effort.js";
import type { OrderEventBus } from "./order-events.js";

/** Timers one reconcile round looks at (each an order's own, or a flash batch's). */
const RECONCILE_BATCH = 5000;
/** How far ahead the reconciler looks: orders due later get their timer when they are placed. */
const RECONCILE_AHEAD_MS = 24 * 3600 * 1000;
/** Setting a timer after a commit waits at most this for Redis: the answer is not held, the reconciler sets missed ones. */
const TIMER_WAIT_MS = 1000;

/**
 * The unpaid-order timeout: at an order's pay deadline a job closes it (`close`: through WeChat Pay,
 * close then query, so a payment that landed meanwhile is applied instead) and its stock comes
 * back, once. A payment that still arrives after the close is refunded automatically (payments).
 * Timers start when orders are placed and move when deadlines are brought forward (order events).
 * Every unpaid order has one timer: its own, or its flash batch's (`orders.flash_batch`), which the
 * reconciler rebuilds as the same job.
 */
export function createOrderTimeouts(deps: { db: Db; jobs: Jobs; events: OrderEventBus; close: (orderId: string, reason: string) => Promise<unknown>; log: Logger }) {
  const { db, jobs, log } = deps;

  const schedule = (order: { id: string; payDeadline: Date }) =>
    jobs.schedule("order.timeout", order.id, { orderId: order.id }, order.payDeadline.getTime());
  /** One timer for the orders of a flash batch, at the latest of their deadlines (they share one). */
  const scheduleBatch = (flashBatch: string, orderIds: string[], at: number) => jobs.schedule("order.timeouts", `batch-${flashBatch}`, { orderIds }, at);

  /** Moves timers whose deadline was brought forward. A timer already at or before the deadline stays; a running one re-checks itself. */
  async function move(list: { id: string; payDeadline: Date }[]) {
    for (const o of list) {
      const at = await jobs.scheduledAt("order.timeout", o.id);
      if (at !== null && at <= o.payDeadline.getTime()) continue;
      await jobs.unschedule("order.timeout", o.id);
      await schedule(o);
    }
  }

  /** Closes the order if it is still unpaid at its deadline. */
  async function run({ orderId }: { orderId: string }) {
    const [o] = await db.select({ status: orders.status, payDeadline: orders.payDeadline }).from(orders).where(eq(orders.id, orderId));
    if (!o || o.status !== "pending_payment") return;
    if (o.payDeadline.getTime() > Date.now()) {
      // Early (a clock step, or the deadline moved): wait for the real one.
      throw new AppError("ORDER_STATE", "Not due yet.");
    }
    try {
      await deps.close(orderId, "payment timeout");
      log.info({ orderId }, "unpaid order closed at its deadline");
    } catch (err) {
      // Paid meanwhile (applied by the close): nothing left to do. The buyer paying right now: try again.
      if (err instanceof AppError && err.code === "ORDER_STATE" && (err.details as { status?: string } | undefined)?.status !== "pending_payment") return;
      throw err;
    }
  }

  // One timer per placed order; a flash batch's orders share one (same deadline, one job instead of hundreds).
  deps.events.on("placed", async ({ orders: placed, flashBatch }) => {
    if (placed.length === 0) return;
    const set = flashBatch
      ? scheduleBatch(flashBatch, placed.map((o) => o.id), Math.max(...placed.map((o) => o.payDeadline.getTime())))
      : Promise.all(placed.map(schedule));
    await bestEffort(set, TIMER_WAIT_MS, log, { orders: placed.map((o) => o.id), msg: "payment timer not set; the reconciler will" });
  });
  deps.events.on("deadlinesMoved", async ({ orders: moved }) => {
    await bestEffort(move(moved), TIMER_WAIT_MS, log, { orders: moved.map((o) => o.id), msg: "payment timers not moved; the reconciler will" });
  });

  return {
    schedule,
    move,
    /** Job: closes the order if it is still unpaid at its deadline. */
    run,
    /** Job: the same for each order of a flash batch; one that fails makes the job retry (the others are then no-ops). */
    async runBatch({ orderIds }: { orderIds: string[] }) {
      const failures: unknown[] = [];
      for (const orderId of orderIds) await run({ orderId }).catch((err: unknown) => failures.push(err));
      if (failures.length > 0) throw failures[0];
    },

    /**
     * Gives every unpaid order its one timer back (after a Redis loss, or a crash between commit and
     * schedule): its own, or its flash batch's for the batch's unpaid orders. Scheduling a timer that
     * waits is a no-op, so a round adds nothing where nothing was lost.
     */
    async reconcile() {
      const timers = await db
        .select({
          flashBatch: orders.flashBatch,
          orderIds: sql<string[]>`array_agg(${orders.id} order by ${orders.id})`,
          at: sql<Date>`max(${orders.payDeadline})`.mapWith(orders.payDeadline),
        })
        .from(orders)
        .where(and(eq(orders.status, "pending_payment"), lte(orders.payDeadline, new Date(Date.now() + RECONCILE_AHEAD_MS))))
        .groupBy(orders.flashBatch, sql`case when ${orders.flashBatch} is null then ${orders.id} end`)
        .limit(RECONCILE_BATCH);
      let n = 0;
      for (const t of timers) {
        if (t.flashBatch) await scheduleBatch(t.flashBatch, t.orderIds, t.at.getTime());
        else await schedule({ id: t.orderIds[0]!, payDeadline: t.at });
        n += t.orderIds.length;
      }
      return n;
    },
  };
}
