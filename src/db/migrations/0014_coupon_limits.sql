CREATE TABLE "coupon_limits" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"max_discount_fen" integer NOT NULL,
	"max_drops" integer NOT NULL,
	"set_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "coupon_limits_bounds" CHECK ("coupon_limits"."max_discount_fen" > 0 and "coupon_limits"."max_drops" >= 0)
);
--> statement-breakpoint
ALTER TABLE "coupon_limits" ADD CONSTRAINT "coupon_limits_stream_id_live_streams_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."live_streams"("id") ON DELETE cascade ON UPDATE no action;