import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const ORDER_STATUSES = ["pending_payment", "paid", "shipped", "completed", "cancelled", "refunding", "refunded"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** What the address was when the order was placed. */
export interface AddressSnapshot {
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  detail: string;
}

/**
 * An order, an archive of the sale: prices and the address are copied in, and there are no foreign
 * keys into tables that change (catalog, addresses, users), as seed 000 asks. `id` doubles as
 * WeChat Pay's out_trade_no (32 characters).
 */
export const orders = pgTable(
  "orders",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    itemsFen: integer("items_fen").notNull(),
    totalFen: integer("total_fen").notNull(),
    /** Taken off itemsFen by a live coupon: totalFen = itemsFen - discountFen (at least 1 fen). */
    discountFen: integer("discount_fen").notNull().default(0),
    couponId: text("coupon_id"),
    address: jsonb("address").$type<AddressSnapshot>().notNull(),
    source: text("source", { enum: ["cart", "buy_now", "flash", "group"] }).notNull(),
    /** The group buy this order holds (or took) a place in. */
    groupId: text("group_id"),
    streamId: text("stream_id"),
    /** The flash batch that placed it: the batch's orders share one payment timer, named after this. Null: a timer of its own. */
    flashBatch: text("flash_batch"),
    /** The Idempotency-Key it was created with: one order per (user, key), whatever retries do. */
    requestKey: text("request_key"),
    payDeadline: timestamp("pay_deadline", { withTimezone: true }).notNull(),
    paidAt: timestamp("paid_at", { withTimezone: true }),
    transactionId: text("transaction_id"),
    /** Refunded so far (successful refunds only). */
    refundedFen: integer("refunded_fen").notNull().default(0),
    courier: text("courier"),
    trackingNo: text("tracking_no"),
    shippedAt: timestamp("shipped_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
    cancelReason: text("cancel_reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("orders_user_idx").on(t.userId, t.createdAt),
    uniqueIndex("orders_request_key_idx").on(t.userId, t.requestKey),
    check("orders_total_nonnegative", sql`${t.totalFen} >= 0`),
    check("orders_discount_nonnegative", sql`${t.discountFen} >= 0`),
  ],
);

/** The lines of an order, copied from the catalog at the moment of sale. */
export const orderItems = pgTable(
  "order_items",
  {
    orderId: text("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    line: integer("line").notNull(),
    productId: text("product_id").notNull(),
    skuId: text("sku_id").notNull(),
    name: text("name").notNull(),
    specs: jsonb("specs").$type<Record<string, string>>().notNull(),
    cover: text("cover").notNull(),
    unitPriceFen: integer("unit_price_fen").notNull(),
    quantity: integer("quantity").notNull(),
    /** Set when the line was bought in a live flash sale (at its live price). */
    flashSaleId: text("flash_sale_id"),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.line] }), check("order_items_quantity_positive", sql`${t.quantity} > 0`)],
);
