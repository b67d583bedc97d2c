import { and, desc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { flashBuyers, flashSales } from "../db/flash.schema.js";
import { groupActivities, groupMembers, groups } from "../db/groups.schema.js";
import { skus } from "../db/catalog.schema.js";
import { orderItems, orders } from "../db/orders.schema.js";
import { refunds } from "../db/payments.schema.js";
import { PAID, PLACE_HOLDING } from "../groups/group-progress.js";
import { AppError } from "../protocol/errors.js";

/** Groups one activity report lists at most (newest first). */
export const REPORT_MAX_GROUPS = 1000;

/**
 * What PostgreSQL holds about a flash sale: the sale's own counter, the orders that carry its
 * lines (live and cancelled), the per-buyer counts and the SKU's stock. Read-only; the numbers are
 * reported as they are, so a caller can judge (oversold, lost orders, counters that disagree).
 */
export async function flashSaleReport(db: Db, saleId: string) {
  const [sale] = await db.select().from(flashSales).where(eq(flashSales.id, saleId));
  if (!sale) throw new AppError("NOT_FOUND", "No such flash sale.");
  const lines = await db
    .select({ status: orders.status, orders: sql<number>`count(distinct ${orders.id})::int`, units: sql<number>`coalesce(sum(${orderItems.quantity}), 0)::int` })
    .from(orderItems)
    .innerJoin(orders, eq(orders.id, orderItems.orderId))
    .where(eq(orderItems.flashSaleId, saleId))
    .groupBy(orders.status);
  const [buyers] = await db
    .select({ count: sql<number>`count(*) filter (where ${flashBuyers.bought} > 0)::int`, units: sql<number>`coalesce(sum(${flashBuyers.bought}), 0)::int`, max: sql<number>`coalesce(max(${flashBuyers.bought}), 0)::int` })
    .from(flashBuyers)
    .where(eq(flashBuyers.flashSaleId, saleId));
  const [sku] = await db.select({ stock: skus.stock }).from(skus).where(eq(skus.id, sale.skuId));
  const byStatus: Record<string, { orders: number; units: number }> = {};
  for (const l of lines) byStatus[l.status] = { orders: Number(l.orders), units: Number(l.units) };
  const live = lines.filter((l) => l.status !== "cancelled");
  const units = live.reduce((n, l) => n + Number(l.units), 0);
  return {
    sale: { id: sale.id, streamId: sale.streamId, productId: sale.productId, skuId: sale.skuId, status: sale.status, quantity: sale.quantity, sold: sale.sold, perUserLimit: sale.perUserLimit, endsAt: sale.endsAt.toISOString() },
    orders: { count: live.reduce((n, l) => n + Number(l.orders), 0), units, byStatus },
    buyers: { count: Number(buyers?.count ?? 0), units: Number(buyers?.units ?? 0), maxBought: Number(buyers?.max ?? 0) },
    skuStock: sku ? sku.stock : null,
    oversoldUnits: Math.max(0, units - sale.quantity),
  };
}

/**
 * What PostgreSQL holds about a group-buy activity's groups: each group's status, places held and
 * paid (from its members' orders), and per member what was charged (orders of the group that were
 * paid) and refunded (done, and still in progress). Read-only.
 */
export async function groupActivityReport(db: Db, activityId: string) {
  const [a] = await db.select().from(groupActivities).where(eq(groupActivities.id, activityId));
  if (!a) throw new AppError("NOT_FOUND", "No such group-buy activity.");
  const list = await db.select().from(groups).where(eq(groups.activityId, activityId)).orderBy(desc(groups.createdAt), desc(groups.id)).limit(REPORT_MAX_GROUPS);
  const ids = list.map((g) => g.id);
  const places = ids.length
    ? await db
        .select({
          groupId: groupMembers.groupId,
          members: sql<number>`count(*)::int`,
          taken: sql<number>`count(*) filter (where ${inArray(orders.status, [...PLACE_HOLDING])})::int`,
          paid: sql<number>`count(*) filter (where ${inArray(orders.status, [...PAID])})::int`,
        })
        .from(groupMembers)
        .innerJoin(orders, eq(orders.id, groupMembers.orderId))
        .where(inArray(groupMembers.groupId, ids))
        .groupBy(groupMembers.groupId)
    : [];
  const pendingRefunds = sql<number>`coalesce((select sum(r.amount_fen) from ${refunds} r where r.order_id = ${orders.id} and r.status = 'PROCESSING'), 0)`;
  const charges = ids.length
    ? await db
        .select({
          groupId: orders.groupId,
          userId: orders.userId,
          orders: sql<number>`count(*)::int`,
          paidOrders: sql<number>`count(*) filter (where ${isNotNull(orders.paidAt)})::int`,
          chargedFen: sql<number>`coalesce(sum(${orders.totalFen}) filter (where ${isNotNull(orders.paidAt)}), 0)::int`,
          refundedFen: sql<number>`coalesce(sum(${orders.refundedFen}), 0)::int`,
          refundPendingFen: sql<number>`coalesce(sum(${pendingRefunds}), 0)::int`,
        })
        .from(orders)
        .where(and(inArray(orders.groupId, ids)))
        .groupBy(orders.groupId, orders.userId)
    : [];
  return {
    activity: { id: a.id, status: a.status, flow: a.flow, groupSize: a.groupSize, groupPriceFen: a.groupPriceFen, perUserLimit: a.perUserLimit },
    groups: list.map((g) => {
      const p = places.find((x) => x.groupId === g.id);
      return {
        id: g.id,
        status: g.status,
        flow: g.flow,
        size: g.size,
        priceFen: g.priceFen,
        simulated: g.simulated,
        leaderUserId: g.leaderUserId,
        members: Number(p?.members ?? 0),
        taken: Number(p?.taken ?? 0),
        paid: Number(p?.paid ?? 0),
        charges: charges
          .filter((c) => c.groupId === g.id)
          .map((c) => ({ userId: c.userId, orders: Number(c.orders), paidOrders: Number(c.paidOrders), chargedFen: Number(c.chargedFen), refundedFen: Number(c.refundedFen), refundPendingFen: Number(c.refundPendingFen) })),
      };
    }),
  };
}
