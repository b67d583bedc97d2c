import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** People who log in: viewers with WeChat, staff with a username and password. */
export const users = pgTable("users", {
  id: text("id").primaryKey(),
  /** The user's openid under our mini program's appid; null for users made by hand (dev, admin). */
  openid: text("openid").unique(),
  unionid: text("unionid"),
  nickname: text("nickname").notNull(),
  /** Profile picture URL (WeChat's avatar fill-in, uploaded to us); "" for none. */
  avatarUrl: text("avatar_url").notNull().default(""),
  /**
   * user: a viewer. host: staff who run the streams they host (`live_streams.host_user_id`).
   * admin: staff who may do everything, in every room.
   */
  role: text("role", { enum: ["user", "host", "admin"] }).notNull().default("user"),
  /** Staff sign-in name (lower case); null for viewers. */
  username: text("username").unique(),
  /** `scrypt$N$r$p$salt$hash` (base64url), parameters kept with the hash; null: no password sign-in. */
  passwordHash: text("password_hash"),
  /** A disabled account cannot sign in and its sessions are gone. */
  disabledAt: timestamp("disabled_at", { withTimezone: true }),
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
