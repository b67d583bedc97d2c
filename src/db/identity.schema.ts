import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

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

/** Credentials generated at first run for the WeChat sandbox, shared by every node. Never in production. */
export const devCredentials = pgTable("dev_credentials", {
  name: text("name").primaryKey(),
  value: jsonb("value").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
