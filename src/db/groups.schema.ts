import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/** How a group fills: the leader pays to open it, or members join first and all pay once it is full (seed 003). */
export const GROUP_FLOWS = ["leader_pays", "join_first"] as const;
export type GroupFlow = (typeof GROUP_FLOWS)[number];

/**
 * A group-buy activity (拼团): a product's SKU at a group price for groups of `groupSize` that fill
 * within `windowSec` (of the leader paying, or of opening in the join-first flow). Changes apply to
 * groups opened afterwards.
 */
export const groupActivities = pgTable(
  "group_activities",
  {
    id: text("id").primaryKey(),
    productId: text("product_id").notNull(),
    skuId: text("sku_id").notNull(),
    /** The live room its groups are announced in, if any. */
    streamId: text("stream_id"),
    groupSize: integer("group_size").notNull(),
    groupPriceFen: integer("group_price_fen").notNull(),
    windowSec: integer("window_sec").notNull(),
    flow: text("flow", { enum: GROUP_FLOWS }).notNull().default("leader_pays"),
    /** Groups one user may be in at once in this activity (paid or holding a place). */
    perUserLimit: integer("per_user_limit").notNull().default(1),
    /** At expiry, complete a group that has at least its leader paid, with simulated members (audited). */
    simulateOnExpiry: boolean("simulate_on_expiry").notNull().default(false),
    status: text("status", { enum: ["active", "ended"] }).notNull().default("active"),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("group_activities_product_idx").on(t.productId, t.status),
    check("group_activities_size", sql`${t.groupSize} between 2 and 100`),
    check("group_activities_price", sql`${t.groupPriceFen} > 0`),
  ],
);

/**
 * One group. `pending` until the leader pays, then `open` until `expiresAt`; it ends `complete`
 * (every place paid, or completed by simulation) or `failed` (every paid member refunded).
 */
export const groups = pgTable(
  "groups",
  {
    id: text("id").primaryKey(),
    activityId: text("activity_id")
      .notNull()
      .references(() => groupActivities.id),
    productId: text("product_id").notNull(),
    streamId: text("stream_id"),
    leaderUserId: text("leader_user_id").notNull(),
    /** The activity's terms when the group opened: later changes do not touch it. */
    size: integer("size").notNull(),
    priceFen: integer("price_fen").notNull(),
    skuId: text("sku_id").notNull(),
    windowSec: integer("window_sec").notNull(),
    flow: text("flow", { enum: GROUP_FLOWS }).notNull().default("leader_pays"),
    status: text("status", { enum: ["pending", "open", "complete", "failed"] }).notNull().default("pending"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    simulated: boolean("simulated").notNull().default(false),
    failReason: text("fail_reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    openedAt: timestamp("opened_at", { withTimezone: true }),
    endedAt: timestamp("ended_at", { withTimezone: true }),
  },
  (t) => [index("groups_activity_idx").on(t.activityId, t.status), index("groups_stream_idx").on(t.streamId, t.status)],
);

/**
 * A place in a group: the member's order holds it while unpaid and takes it for good once paid. A
 * place whose order was cancelled (an unpaid hold that lapsed) is free again.
 */
export const groupMembers = pgTable(
  "group_members",
  {
    groupId: text("group_id")
      .notNull()
      .references(() => groups.id),
    userId: text("user_id").notNull(),
    orderId: text("order_id").notNull(),
    leader: boolean("leader").notNull().default(false),
    joinedAt: timestamp("joined_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), uniqueIndex("group_members_order_idx").on(t.orderId)],
);

/** Who did what that bypasses the normal rules (a simulated group completion). Append-only. */
export const auditLog = pgTable("audit_log", {
  id: serial("id").primaryKey(),
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  target: text("target").notNull(),
  details: jsonb("details").$type<Record<string, unknown>>().notNull(),
  at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
});
