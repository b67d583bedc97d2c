import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Product categories, two levels deep at most (parent null = top level). */
export const categories = pgTable("categories", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  parentId: text("parent_id"),
  iconUrl: text("icon_url").notNull().default(""),
  sort: integer("sort").notNull().default(0),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Catalog products. Prices and stock live on the SKUs. */
export const products = pgTable("products", {
  id: text("id").primaryKey(),
  sn: text("sn").notNull().unique(),
  name: text("name").notNull(),
  brief: text("brief").notNull().default(""),
  /** The product page's long text. */
  description: text("description").notNull().default(""),
  categoryId: text("category_id").references(() => categories.id),
  /** Picture URLs, the first is the cover. */
  pictures: jsonb("pictures").$type<string[]>().notNull().default([]),
  /** Units sold, for "hot" lists; counted when orders are paid. */
  sales: integer("sales").notNull().default(0),
  listed: boolean("listed").notNull().default(true),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});


/** A sellable variant of a product: its specs, price in fen and stock. Stock never goes below 0. */
export const skus = pgTable(
  "skus",
  {
    id: text("id").primaryKey(),
    productId: text("product_id")
      .notNull()
      .references(() => products.id, { onDelete: "cascade" }),
    /** Spec name → value, e.g. {"颜色": "青", "容量": "300 ml"}. */
    specs: jsonb("specs").$type<Record<string, string>>().notNull().default({}),
    priceFen: integer("price_fen").notNull(),
    stock: integer("stock").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("skus_product_idx").on(t.productId),
    check("skus_stock_nonnegative", sql`${t.stock} >= 0`),
    check("skus_price_nonnegative", sql`${t.priceFen} >= 0`),
  ],
);

/** Uploaded images, stored by content hash (`id` is the SHA-256 hex) under DATA_DIR; served immutable. */
export const images = pgTable("images", {
  id: text("id").primaryKey(),
  contentType: text("content_type").notNull(),
  bytes: integer("bytes").notNull(),
  width: integer("width").notNull(),
  height: integer("height").notNull(),
  uploadedBy: text("uploaded_by").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Home-page banners (seed 001's /api/banners). */
export const banners = pgTable("banners", {
  id: text("id").primaryKey(),
  imageUrl: text("image_url").notNull(),
  link: text("link").notNull().default(""),
  sort: integer("sort").notNull().default(0),
  active: boolean("active").notNull().default(true),
});
