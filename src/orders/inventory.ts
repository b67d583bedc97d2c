import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { sendNow, type Db } from "../db/client.js";
import { products, skus } from "../db/catalog.schema.js";
import { couponClaims, coupons } from "../db/coupons.schema.js";
import { flashBuyers, flashSales } from "../db/flash.schema.js";
import { orderItems, orders } from "../db/orders.schema.js";
import { AppError } from "../protocol/errors.js";

// The effects of the order lifecycle on what is for sale: SKU stock, a flash sale's units (the
// sale's `sold` and each buyer's `bought`) and a claimed coupon's use. Only `lifecycle.ts` calls
// these, inside the transaction of the transition that moves them, so each happens once.

/** What one user may hold unpaid at once (`ORDER_MAX_UNPAID_*`). */
export interface HoldLimits {
  maxUnpaidOrders: number;
  maxUnpaidUnitsPerSku: number;
}

const HOLD_LOCK = 7_406_003;

/**
 * Refuses an order that would leave its user holding more than `limits` unpaid: one more order
 * than `maxUnpaidOrders` (UNPAID_ORDERS_LIMIT), or more than `maxUnpaidUnitsPerSku` units of one
 * SKU (UNPAID_UNITS_LIMIT). Counted under the user's lock, held until commit, so a user's
 * concurrent orders are counted one after another. The three statements go out together.
 */
export async function limitHolds(tx: Db, userId: string, lines: readonly (readonly [skuId: string, quantity: number])[], limits: HoldLimits) {
  const unpaid = and(eq(orders.userId, userId), eq(orders.status, "pending_payment"));
  const [, [count], units] = await Promise.all([
    tx.execute(sql`select pg_advisory_xact_lock(${HOLD_LOCK}, hashtext(${userId}))`),
    tx.select({ n: sql<number>`count(*)::int` }).from(orders).where(unpaid),
    tx
      .select({ skuId: orderItems.skuId, held: sql<number>`sum(${orderItems.quantity})::int` })
      .from(orderItems)
      .innerJoin(orders, eq(orders.id, orderItems.orderId))
      .where(and(unpaid, inArray(orderItems.skuId, lines.map(([skuId]) => skuId))))
      .groupBy(orderItems.skuId),
  ]);
  if (Number(count?.n ?? 0) >= limits.maxUnpaidOrders) throw new AppError("UNPAID_ORDERS_LIMIT", `At most ${limits.maxUnpaidOrders} unpaid orders at once.`, { limit: limits.maxUnpaidOrders });
  const held = new Map(units.map((u) => [u.skuId, Number(u.held)]));
  for (const [skuId, quantity] of lines) {
    const already = held.get(skuId) ?? 0;
    if (already + quantity > limits.maxUnpaidUnitsPerSku) {
      throw new AppError("UNPAID_UNITS_LIMIT", `At most ${limits.maxUnpaidUnitsPerSku} unpaid units of one item at once.`, { skuId, limit: limits.maxUnpaidUnitsPerSku, held: already });
    }
  }
}

const listed = sql`exists (select 1 from products p where p.id = ${skus.productId} and p.listed)`;

/**
 * Takes stock for each line: `stock = stock - q WHERE stock >= q` (and a CHECK constraint), SKUs
 * in id order. Returns each SKU's price as it stood under the row lock. Call it last in a
 * transaction: the row stays locked until commit.
 */
export async function takeStock(tx: Db, lines: readonly (readonly [skuId: string, quantity: number])[]): Promise<Map<string, number>> {
  const prices = new Map<string, number>();
  for (const [skuId, quantity] of lines) {
    const [taken] = await sendNow(
      tx
        .update(skus)
        .set({ stock: sql`${skus.stock} - ${quantity}` })
        .where(and(eq(skus.id, skuId), sql`${skus.stock} >= ${quantity}`, listed))
        .returning({ priceFen: skus.priceFen }),
    );
    if (!taken) {
      const [exists] = await tx.select({ id: skus.id }).from(skus).innerJoin(products, eq(products.id, skus.productId)).where(and(eq(skus.id, skuId), eq(products.listed, true)));
      throw exists ? new AppError("OUT_OF_STOCK", "Not enough stock left.", { skuId }) : new AppError("NOT_FOUND", "No such SKU on sale.", { skuId });
    }
    prices.set(skuId, taken.priceFen);
  }
  return prices;
}

/** Puts the units of these lines back on sale. */
export async function returnStock(tx: Db, items: readonly { skuId: string; quantity: number }[]) {
  for (const i of [...items].sort((a, b) => (a.skuId < b.skuId ? -1 : 1))) {
    await tx.update(skus).set({ stock: sql`${skus.stock} + ${i.quantity}` }).where(eq(skus.id, i.skuId));
  }
}

/** Paid units count as sales of their products. */
export async function countSales(tx: Db, items: readonly { productId: string; quantity: number }[]) {
  for (const i of items) await tx.update(products).set({ sales: sql`${products.sales} + ${i.quantity}` }).where(eq(products.id, i.productId));
}

/** A flash sale's terms as taking units needs them. */
export type SaleTerms = { id: string; perUserLimit: number };

/**
 * Takes flash units for users in PostgreSQL, the truth: each buyer's `bought + q <= limit`, then
 * the sale's `sold + n <= quantity` while it is active. Buyers in id order (lock order). Returns
 * why not, without throwing: the users over their limit, or the sale that could not take them.
 */
export async function takeFlashUnits(
  tx: Db,
  sale: SaleTerms,
  perUser: ReadonlyMap<string, number>,
): Promise<{ ok: true } | { ok: false; overLimit: string[] } | { ok: false; sale: "sold_out" }> {
  const users = [...perUser.keys()].sort();
  const total = [...perUser.values()].reduce((a, b) => a + b, 0);
  const buyers = () =>
    tx
      .insert(flashBuyers)
      .values(users.map((userId) => ({ flashSaleId: sale.id, userId, bought: perUser.get(userId)! })))
      .onConflictDoUpdate({
        target: [flashBuyers.flashSaleId, flashBuyers.userId],
        set: { bought: sql`${flashBuyers.bought} + excluded.bought` },
        setWhere: sql`${flashBuyers.bought} + excluded.bought <= ${sale.perUserLimit}`,
      })
      .returning({ userId: flashBuyers.userId, bought: flashBuyers.bought });
  const sold = () =>
    tx
      .update(flashSales)
      .set({ sold: sql`${flashSales.sold} + ${total}` })
      .where(and(eq(flashSales.id, sale.id), eq(flashSales.status, "active"), sql`${flashSales.sold} + ${total} <= ${flashSales.quantity}`))
      .returning({ id: flashSales.id });
  const overLimitOf = (rows: { userId: string; bought: number }[]) => {
    const within = new Set(rows.filter((r) => r.bought <= sale.perUserLimit).map((r) => r.userId));
    return users.filter((u) => !within.has(u));
  };
  const overLimit = overLimitOf(await buyers());
  if (overLimit.length > 0) return { ok: false, overLimit };
  return (await sold()).length > 0 ? { ok: true } : { ok: false, sale: "sold_out" };
}

/** Gives a cancelled order's flash units back to its buyer and its sale (same lock order as taking). */
export async function returnFlashUnits(tx: Db, userId: string, units: readonly { flashSaleId: string; quantity: number }[]) {
  for (const u of units) {
    await tx
      .update(flashBuyers)
      .set({ bought: sql`${flashBuyers.bought} - ${u.quantity}` })
      .where(and(eq(flashBuyers.flashSaleId, u.flashSaleId), eq(flashBuyers.userId, userId)));
    await tx.update(flashSales).set({ sold: sql`${flashSales.sold} - ${u.quantity}` }).where(eq(flashSales.id, u.flashSaleId));
  }
}

/**
 * Marks the user's claim used by an order. The truth about "once": only an unused claim of this
 * user can be marked, and only by one order; a lost race is COUPON_NOT_APPLICABLE.
 */
export async function useCoupon(tx: Db, input: { couponId: string; userId: string; orderId: string }) {
  const [used] = await tx
    .update(couponClaims)
    .set({ usedOrderId: input.orderId })
    .where(and(eq(couponClaims.couponId, input.couponId), eq(couponClaims.userId, input.userId), isNull(couponClaims.usedOrderId)))
    .returning({ couponId: couponClaims.couponId });
  if (!used) throw new AppError("COUPON_NOT_APPLICABLE", "You have not claimed this coupon, or it is already used.");
}

/** A cancelled order's claim is usable again, unless the coupon has expired. */
export async function freeCoupon(tx: Db, input: { couponId: string; userId: string; orderId: string }) {
  const [coupon] = await tx.select({ expiresAt: coupons.expiresAt }).from(coupons).where(eq(coupons.id, input.couponId));
  if (!coupon || coupon.expiresAt.getTime() <= Date.now()) return;
  await tx
    .update(couponClaims)
    .set({ usedOrderId: null })
    .where(and(eq(couponClaims.couponId, input.couponId), eq(couponClaims.userId, input.userId), eq(couponClaims.usedOrderId, input.orderId)));
}
