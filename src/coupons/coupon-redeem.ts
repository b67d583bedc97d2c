import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { couponClaims, coupons } from "../db/coupons.schema.js";
import { AppError } from "../protocol/errors.js";

/**
 * Uses the user's claim of a coupon for an order, inside the order's transaction: the claim must be
 * theirs, unused and unexpired, and the items reach the minimum spend. Returns the discount to take
 * (never more than leaves the order at 1 fen), or throws COUPON_NOT_APPLICABLE.
 */
export async function redeemClaim(tx: Db, input: { couponId: string; userId: string; orderId: string; itemsFen: number }) {
  const [coupon] = await tx
    .select({ discountFen: coupons.discountFen, minSpendFen: coupons.minSpendFen, expiresAt: coupons.expiresAt })
    .from(coupons)
    .where(eq(coupons.id, input.couponId));
  if (!coupon) throw new AppError("COUPON_NOT_APPLICABLE", "No such coupon.");
  if (coupon.expiresAt.getTime() <= Date.now()) throw new AppError("COUPON_NOT_APPLICABLE", "The coupon has expired.");
  if (input.itemsFen < coupon.minSpendFen) {
    throw new AppError("COUPON_NOT_APPLICABLE", "The items do not reach the coupon's minimum spend.", { minSpendFen: coupon.minSpendFen, itemsFen: input.itemsFen });
  }
  // The truth about "once": only an unused claim of this user can be marked, and only by one order.
  const [used] = await tx
    .update(couponClaims)
    .set({ usedOrderId: input.orderId })
    .where(and(eq(couponClaims.couponId, input.couponId), eq(couponClaims.userId, input.userId), isNull(couponClaims.usedOrderId)))
    .returning({ couponId: couponClaims.couponId });
  if (!used) throw new AppError("COUPON_NOT_APPLICABLE", "You have not claimed this coupon, or it is already used.");
  return Math.min(coupon.discountFen, Math.max(0, input.itemsFen - 1));
}

/** Inside a cancel's transaction: the order's claim is usable again, unless the coupon has expired. */
export async function releaseClaim(tx: Db, input: { couponId: string; userId: string; orderId: string }) {
  const [coupon] = await tx.select({ expiresAt: coupons.expiresAt }).from(coupons).where(eq(coupons.id, input.couponId));
  if (!coupon || coupon.expiresAt.getTime() <= Date.now()) return;
  await tx
    .update(couponClaims)
    .set({ usedOrderId: null })
    .where(and(eq(couponClaims.couponId, input.couponId), eq(couponClaims.userId, input.userId), eq(couponClaims.usedOrderId, input.orderId)));
}
