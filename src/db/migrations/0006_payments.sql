CREATE TABLE "payments" (
	"order_id" text PRIMARY KEY NOT NULL,
	"prepay_id" text NOT NULL,
	"amount_fen" integer NOT NULL,
	"openid" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"out_refund_no" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"amount_fen" integer NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"refund_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"succeeded_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sandbox_refunds" (
	"out_refund_no" text PRIMARY KEY NOT NULL,
	"refund_id" text NOT NULL,
	"out_trade_no" text NOT NULL,
	"amount_fen" integer NOT NULL,
	"status" text NOT NULL,
	"notify_url" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sandbox_transactions" (
	"out_trade_no" text PRIMARY KEY NOT NULL,
	"mchid" text NOT NULL,
	"appid" text NOT NULL,
	"description" text NOT NULL,
	"amount_fen" integer NOT NULL,
	"openid" text NOT NULL,
	"notify_url" text NOT NULL,
	"prepay_id" text NOT NULL,
	"state" text NOT NULL,
	"transaction_id" text,
	"success_time" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sandbox_transactions_prepay_id_unique" UNIQUE("prepay_id")
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "refunded_fen" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "refunds_order_idx" ON "refunds" USING btree ("order_id");