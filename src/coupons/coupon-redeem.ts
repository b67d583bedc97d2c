import { and, asc, eq, gt, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { couponClaims, coupons } from "../db/coupons.schema.js";
import { streamProducts } from "../db/live.schema.js";
import { AppError } from "../protocol/errors.js";

type CouponRow = typeof coupons.$inferSelect;

/** What a coupon does for items worth `itemsFen`: its discount, or why it cannot be used. */
export type CouponOutcome =
  | { applicable: true; discountFen: number }
  | { applicable: false; discountFen: 0; reason: string; details?: unknown };

/** What is being bought: the items' worth, their products, and the live stream the order names (if any). */
export interface Basket {
  itemsFen: number;
  productIds: readonly string[];
  streamId?: string;
}

/**
 * The checkout rule of a live coupon, for placing and quoting alike: the coupon must exist and be
 * unexpired; the order must be from its stream (naming no other) and hold only products that
 * stream sells (`sold`); the items must reach its minimum spend; and the user must hold an unused
 * claim. The discount is at most `maxDiscountPercent` of the items and never leaves the order below 1 fen.
 */
export function couponOutcome(
  coupon: Pick<CouponRow, "discountFen" | "minSpendFen" | "expiresAt" | "streamId"> | null,
  claim: { usedOrderId: string | null } | null,
  basket: Basket & { sold: ReadonlySet<string> },
  now: Date,
  maxDiscountPercent: number,
): CouponOutcome {
  const no = (reason: string, details?: unknown): CouponOutcome => ({ applicable: false, discountFen: 0, reason, details });
  if (!coupon) return no("No such coupon.");
  if (coupon.expiresAt.getTime() <= now.getTime()) return no("The coupon has expired.");
  if (basket.streamId !== undefined && basket.streamId !== coupon.streamId) return no("The coupon is only for orders from its own live stream.", { streamId: coupon.streamId });
  const foreign = basket.productIds.find((p) => !basket.sold.has(p));
  if (foreign) return no("The coupon is only for products its live stream sells.", { streamId: coupon.streamId, productId: foreign });
  if (basket.itemsFen < coupon.minSpendFen) return no("The items do not reach the coupon's minimum spend.", { minSpendFen: coupon.minSpendFen, itemsFen: basket.itemsFen });
  if (!claim || claim.usedOrderId !== null) return no("You have not claimed this coupon, or it is already used.");
  const share = Math.floor((basket.itemsFen * maxDiscountPercent) / 100);
  return { applicable: true, discountFen: Math.max(0, Math.min(coupon.discountFen, share, basket.itemsFen - 1)) };
}

/** The products each of these streams sells. */
async function soldIn(db: Db, streamIds: readonly string[]): Promise<Map<string, Set<string>>> {
  const sold = new Map(streamIds.map((s) => [s, new Set<string>()]));
  if (streamIds.length === 0) return sold;
  const rows = await db.select().from(streamProducts).where(inArray(streamProducts.streamId, [...sold.keys()]));
  for (const r of rows) sold.get(r.streamId)!.add(r.productId);
  return sold;
}

/**
 * The discount `couponId` gives this user's basket now, and the stream the order is then from (the
 * coupon's), or COUPON_NOT_APPLICABLE saying why not. `sold`: what the basket's stream sells, when it names one.
 */
export async function couponDiscount(db: Db, input: { couponId: string; userId: string; basket: Basket; sold?: ReadonlySet<string>; maxDiscountPercent: number }) {
  const [[coupon], [claim]] = await Promise.all([
    db.select().from(coupons).where(eq(coupons.id, input.couponId)),
    db
      .select({ usedOrderId: couponClaims.usedOrderId })
      .from(couponClaims)
      .where(and(eq(couponClaims.couponId, input.couponId), eq(couponClaims.userId, input.userId))),
  ]);
  // A basket that names its stream: what it sells is known (and another stream's coupon is refused before it matters).
  const known = input.basket.streamId !== undefined ? input.sold : undefined;
  const sold = known ?? (coupon ? (await soldIn(db, [coupon.streamId])).get(coupon.streamId)! : new Set<string>());
  const outcome = couponOutcome(coupon ?? null, claim ?? null, { ...input.basket, sold }, new Date(), input.maxDiscountPercent);
  if (!outcome.applicable) throw new AppError("COUPON_NOT_APPLICABLE", outcome.reason, outcome.details);
  return { discountFen: outcome.discountFen, streamId: coupon!.streamId };
}

/** The user's unused, unexpired claims, soonest to expire first, each with what it would do for this basket. */
export async function claimsAtCheckout(db: Db, userId: string, basket: Basket, maxDiscountPercent: number) {
  const now = new Date();
  const rows = await db
    .select({ c: coupons, k: couponClaims })
    .from(couponClaims)
    .innerJoin(coupons, eq(coupons.id, couponClaims.couponId))
    .where(and(eq(couponClaims.userId, userId), isNull(couponClaims.usedOrderId), gt(coupons.expiresAt, now)))
    .orderBy(asc(coupons.expiresAt), asc(coupons.id));
  const sold = await soldIn(db, [...new Set(rows.map((r) => r.c.streamId))]);
  return rows.map(({ c, k }) => ({ coupon: c, claim: k, outcome: couponOutcome(c, k, { ...basket, sold: sold.get(c.streamId)! }, now, maxDiscountPercent) }));
}
