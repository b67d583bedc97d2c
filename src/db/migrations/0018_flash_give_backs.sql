CREATE TABLE "flash_give_backs" (
	"order_id" text NOT NULL,
	"flash_sale_id" text NOT NULL,
	"user_id" text NOT NULL,
	"quantity" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flash_give_backs_order_id_flash_sale_id_pk" PRIMARY KEY("order_id","flash_sale_id")
);
--> statement-breakpoint
CREATE INDEX "flash_give_backs_created_idx" ON "flash_give_backs" USING btree ("created_at");