CREATE TABLE "flash_buyers" (
	"flash_sale_id" text NOT NULL,
	"user_id" text NOT NULL,
	"bought" integer NOT NULL,
	CONSTRAINT "flash_buyers_flash_sale_id_user_id_pk" PRIMARY KEY("flash_sale_id","user_id"),
	CONSTRAINT "flash_buyers_bought_nonnegative" CHECK ("flash_buyers"."bought" >= 0)
);
--> statement-breakpoint
CREATE TABLE "flash_sales" (
	"id" text PRIMARY KEY NOT NULL,
	"stream_id" text NOT NULL,
	"sku_id" text NOT NULL,
	"product_id" text NOT NULL,
	"price_fen" integer NOT NULL,
	"quantity" integer NOT NULL,
	"per_user_limit" integer NOT NULL,
	"sold" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flash_sales_sold_bounds" CHECK ("flash_sales"."sold" >= 0 and "flash_sales"."sold" <= "flash_sales"."quantity")
);
--> statement-breakpoint
ALTER TABLE "order_items" ADD COLUMN "flash_sale_id" text;--> statement-breakpoint
CREATE INDEX "flash_sales_stream_idx" ON "flash_sales" USING btree ("stream_id");