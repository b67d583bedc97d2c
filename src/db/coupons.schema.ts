import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { liveStreams } from "./live.schema.js";

/**
 * A live coupon the host dropped into a stream: `quantity` claims, one per user, usable at checkout
 * until `expiresAt`. `claimed` is the truth and never goes above `quantity` (a CHECK backs the
 * conditional increment). Ending it stops claims; coupons already claimed stay usable until expiry.
 */
export const coupons = pgTable(
  "coupons",
  {
    id: text("id").primaryKey(),
    streamId: text("stream_id").notNull(),
    title: text("title").notNull(),
    discountFen: integer("discount_fen").notNull(),
    minSpendFen: integer("min_spend_fen").notNull().default(0),
    quantity: integer("quantity").notNull(),
    claimed: integer("claimed").notNull().default(0),
    status: text("status", { enum: ["active", "ended"] }).notNull().default("active"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("coupons_stream_idx").on(t.streamId, t.status),
    check("coupons_claimed_bounds", sql`${t.claimed} >= 0 and ${t.claimed} <= ${t.quantity}`),
    check("coupons_amounts", sql`${t.discountFen} > 0 and ${t.minSpendFen} >= 0 and ${t.quantity} > 0`),
  ],
);

/** One user's claim of a coupon (one each); `usedOrderId` is the order it discounts, null while unused. */
export const couponClaims = pgTable(
  "coupon_claims",
  {
    couponId: text("coupon_id")
      .notNull()
      .references(() => coupons.id),
    userId: text("user_id").notNull(),
    claimedAt: timestamp("claimed_at", { withTimezone: true }).notNull().defaultNow(),
    usedOrderId: text("used_order_id"),
  },
  (t) => [primaryKey({ columns: [t.couponId, t.userId] }), index("coupon_claims_user_idx").on(t.userId, t.claimedAt)],
);

/**
 * A stream's coupon limits as an admin set them: the most one coupon may take off (`maxDiscountFen`)
 * and how many coupons the stream may drop in all. A stream without a row has the defaults
 * (COUPON_MAX_DISCOUNT_FEN, COUPON_MAX_DROPS_PER_STREAM).
 */
export const couponLimits = pgTable(
  "coupon_limits",
  {
    streamId: text("stream_id")
      .primaryKey()
      .references(() => liveStreams.id, { onDelete: "cascade" }),
    maxDiscountFen: integer("max_discount_fen").notNull(),
    maxDrops: integer("max_drops").notNull(),
    setBy: text("set_by").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("coupon_limits_bounds", sql`${t.maxDiscountFen} > 0 and ${t.maxDrops} >= 0`)],
);
