import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { products } from "./catalog.schema.js";
import { users } from "./identity.schema.js";

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
    /** SHA-256 of the RTMP publish key; the key itself is shown to the host once. */
    streamKeyHash: text("stream_key_hash"),
    viewerPeak: integer("viewer_peak").notNull().default(0),
    /** Poster of the stream (lists, `live-player` before it plays); "" for none. */
    coverUrl: text("cover_url").notNull().default(""),
    /** When the host plans to go live ("coming up" lists); null: not announced. */
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    /** The host's own words masked in this room's comments, on top of SENSITIVE_WORDS. */
    sensitiveWords: jsonb("sensitive_words").$type<string[]>().notNull().default([]),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("live_streams_host_idx").on(t.hostUserId)],
);

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


/**
 * A product push the host scheduled: at `fireAt` it becomes the room's bubble. `rev` goes up on
 * every move, and the job that fires it carries the rev it was scheduled for: a job of an older
 * rev (or of a cancelled push) does nothing.
 */
export const scheduledPushes = pgTable(
  "scheduled_pushes",
  {
    id: text("id").primaryKey(),
    streamId: text("stream_id")
      .notNull()
      .references(() => liveStreams.id, { onDelete: "cascade" }),
    productId: text("product_id").notNull(),
    title: text("title").notNull(),
    priceFen: integer("price_fen"),
    imageUrl: text("image_url"),
    fireAt: timestamp("fire_at", { withTimezone: true }).notNull(),
    countdownSec: integer("countdown_sec").notNull().default(0),
    status: text("status", { enum: ["scheduled", "fired", "cancelled"] }).notNull().default("scheduled"),
    rev: integer("rev").notNull().default(1),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    firedAt: timestamp("fired_at", { withTimezone: true }),
    cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
  },
  (t) => [index("scheduled_pushes_stream_idx").on(t.streamId, t.status, t.fireAt)],
);
