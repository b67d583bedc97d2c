import { sql } from "drizzle-orm";
import { index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { users } from "./identity.schema.js";
import { liveStreams } from "./live.schema.js";

/**
 * Bans from live rooms: a host's from one stream's room, an admin's (no stream) from every room.
 * At most one unlifted row per (room, user); banning again renews it. Rows are lifted, never
 * deleted, and `updated_at` moves on every change, so each node fetches what changed since it last
 * looked.
 */
export const roomBans = pgTable(
  "room_bans",
  {
    id: text("id").primaryKey(),
    /** null: every room. */
    streamId: text("stream_id").references(() => liveStreams.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    bannedBy: text("banned_by").notNull(),
    reason: text("reason").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** null: until lifted. */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    liftedAt: timestamp("lifted_at", { withTimezone: true }),
    liftedBy: text("lifted_by"),
    /** clock_timestamp() of the last change, taken under the row's lock: later changes of a row have later values. */
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("room_bans_active_idx")
      .on(sql`coalesce(${t.streamId}, '')`, t.userId)
      .where(sql`${t.liftedAt} is null`),
    index("room_bans_stream_idx").on(t.streamId, t.createdAt),
    index("room_bans_updated_idx").on(t.updatedAt),
  ],
);
