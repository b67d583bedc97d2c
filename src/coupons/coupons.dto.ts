import { z } from "zod";
import { LiveCoupon } from "../protocol/messages.js";

export const DropCoupon = z.object({
  title: z.string().trim().min(1).max(60),
  discountFen: z.number().int().min(1).max(100_000_000),
  minSpendFen: z.number().int().min(0).max(1_000_000_000).default(0),
  quantity: z.number().int().min(1).max(100_000),
  /** Claimable, and usable at checkout, for this long. */
  durationSec: z.number().int().min(10).max(7 * 24 * 3600).default(1800),
});
export type DropCoupon = z.infer<typeof DropCoupon>;

/** What an admin sets for one stream's coupons. */
export const CouponLimitsInput = z.object({
  /** The most one coupon may take off, in fen. */
  maxDiscountFen: z.number().int().min(1).max(100_000_000),
  /** How many coupons the stream may drop in all (ended ones count). */
  maxDrops: z.number().int().min(0).max(100_000),
});
export type CouponLimitsInput = z.infer<typeof CouponLimitsInput>;

/** A stream's coupon limits, and how many coupons it has dropped. */
export const CouponLimits = CouponLimitsInput.extend({ streamId: z.string(), dropped: z.number().int(), custom: z.boolean() });
export type CouponLimits = z.infer<typeof CouponLimits>;

/** A coupon with its stream and status (the room sees the LiveCoupon part). */
export const CouponDetail = LiveCoupon.extend({ streamId: z.string(), status: z.enum(["active", "ended"]) });
export type CouponDetail = z.infer<typeof CouponDetail>;

/** One user's claim: the coupon's terms and whether an order used it. Times are epoch ms. */
export const CouponClaim = z.object({
  couponId: z.string(),
  streamId: z.string(),
  title: z.string(),
  discountFen: z.number().int(),
  minSpendFen: z.number().int(),
  expiresAt: z.number().int(),
  claimedAt: z.number().int(),
  usedOrderId: z.string().nullable(),
});
export type CouponClaim = z.infer<typeof CouponClaim>;
