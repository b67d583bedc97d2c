import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** People who log in. `role` admin may act as host in every room. */
export const users = pgTable("users", {
  id: text("id").primaryKey(),
  /** The user's openid under our mini program's appid; null for users made by hand (dev, admin). */
  openid: text("openid").unique(),
  unionid: text("unionid"),
  nickname: text("nickname").notNull(),
  role: text("role", { enum: ["user", "admin"] }).notNull().default("user"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Opaque session tokens, stored as SHA-256 hashes only. */
export const sessions = pgTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    /** WeChat's session_key from jscode2session; server-side only, never sent to a client. */
    wechatSessionKey: text("wechat_session_key"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/** A live stream is a room; its host is the only non-admin who may run it. */
export const liveStreams = pgTable(
  "live_streams",
  {
    id: text("id").primaryKey(),
    hostUserId: text("host_user_id")
      .notNull()
      .references(() => users.id),
    title: text("title").notNull(),
    status: text("status", { enum: ["idle", "live", "ended"] }).notNull().default("idle"),
    viewerPeak: integer("viewer_peak").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("live_streams_host_idx").on(t.hostUserId)],
);

/** Catalog products; price in integer fen. SKUs, categories and stock rules grow here with commerce. */
export const products = pgTable("products", {
  id: text("id").primaryKey(),
  sn: text("sn").notNull().unique(),
  name: text("name").notNull(),
  brief: text("brief").notNull().default(""),
  pictureUrl: text("picture_url").notNull().default(""),
  priceFen: integer("price_fen").notNull(),
  stock: integer("stock").notNull().default(0),
  listed: boolean("listed").notNull().default(true),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Products a stream sells, in the host's order. */
export const streamProducts = pgTable(
  "stream_products",
  {
    streamId: text("stream_id")
      .notNull()
      .references(() => liveStreams.id, { onDelete: "cascade" }),
    productId: text("product_id")
      .notNull()
      .references(() => products.id),
    position: integer("position").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.streamId, t.productId] })],
);

/** Credentials generated at first run for the WeChat sandbox, shared by every node. Never in production. */
export const devCredentials = pgTable("dev_credentials", {
  name: text("name").primaryKey(),
  value: jsonb("value").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
