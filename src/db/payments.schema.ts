import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** The JSAPI payment of an order: one prepay per order, reused until it expires. */
export const payments = pgTable("payments", {
  orderId: text("order_id").primaryKey(),
  prepayId: text("prepay_id").notNull(),
  amountFen: integer("amount_fen").notNull(),
  openid: text("openid").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Refunds by their stable out_refund_no: asking twice is the same refund. */
export const refunds = pgTable(
  "refunds",
  {
    outRefundNo: text("out_refund_no").primaryKey(),
    orderId: text("order_id").notNull(),
    amountFen: integer("amount_fen").notNull(),
    reason: text("reason").notNull(),
    status: text("status", { enum: ["PROCESSING", "SUCCESS", "CLOSED", "ABNORMAL"] }).notNull(),
    refundId: text("refund_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    succeededAt: timestamp("succeeded_at", { withTimezone: true }),
  },
  (t) => [index("refunds_order_idx").on(t.orderId)],
);

/** The sandbox's WeChat Pay transactions (only ever written by the sandbox). */
export const sandboxTransactions = pgTable("sandbox_transactions", {
  outTradeNo: text("out_trade_no").primaryKey(),
  mchid: text("mchid").notNull(),
  appid: text("appid").notNull(),
  description: text("description").notNull(),
  amountFen: integer("amount_fen").notNull(),
  openid: text("openid").notNull(),
  notifyUrl: text("notify_url").notNull(),
  prepayId: text("prepay_id").notNull().unique(),
  state: text("state", { enum: ["NOTPAY", "SUCCESS", "CLOSED", "REFUND"] }).notNull(),
  transactionId: text("transaction_id"),
  successTime: timestamp("success_time", { withTimezone: true }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** The sandbox's refunds. */
export const sandboxRefunds = pgTable("sandbox_refunds", {
  outRefundNo: text("out_refund_no").primaryKey(),
  refundId: text("refund_id").notNull(),
  outTradeNo: text("out_trade_no").notNull(),
  amountFen: integer("amount_fen").notNull(),
  status: text("status", { enum: ["PROCESSING", "SUCCESS"] }).notNull(),
  notifyUrl: text("notify_url").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
