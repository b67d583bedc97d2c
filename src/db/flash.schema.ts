import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * A live flash sale: a SKU at a live price, a quantity and a per-user limit, in one stream. `sold`
 * is the truth (never above `quantity`); Redis only gates the rush in front of it.
 */
export const flashSales = pgTable(
  "flash_sales",
  {
    id: text("id").primaryKey(),
    streamId: text("stream_id").notNull(),
    skuId: text("sku_id").notNull(),
    productId: text("product_id").notNull(),
    priceFen: integer("price_fen").notNull(),
    quantity: integer("quantity").notNull(),
    perUserLimit: integer("per_user_limit").notNull(),
    sold: integer("sold").notNull().default(0),
    status: text("status", { enum: ["active", "ended"] }).notNull().default("active"),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("flash_sales_stream_idx").on(t.streamId),
    check("flash_sales_sold_bounds", sql`${t.sold} >= 0 and ${t.sold} <= ${t.quantity}`),
  ],
);

/** Units each user holds in a flash sale (unpaid orders included); never above the limit. */
export const flashBuyers = pgTable(
  "flash_buyers",
  {
    flashSaleId: text("flash_sale_id").notNull(),
    userId: text("user_id").notNull(),
    bought: integer("bought").notNull(),
  },
  (t) => [primaryKey({ columns: [t.flashSaleId, t.userId] }), check("flash_buyers_bought_nonnegative", sql`${t.bought} >= 0`)],
);

/**
 * Flash units a cancelled order gave back in PostgreSQL and not yet to the Redis gate: written in
 * the cancel's transaction, deleted once the gate has them (each order's once, see GIVE in
 * flash-gate.redis.ts). A row left behind (Redis silent, the node gone) is retried by the flash
 * reconcile, so a unit is never lost to the gate.
 */
export const flashGiveBacks = pgTable(
  "flash_give_backs",
  {
    orderId: text("order_id").notNull(),
    flashSaleId: text("flash_sale_id").notNull(),
    userId: text("user_id").notNull(),
    quantity: integer("quantity").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.flashSaleId] }), index("flash_give_backs_created_idx").on(t.createdAt)],
);
