CREATE TABLE "scheduled_pushes" (
	"id" text PRIMARY KEY NOT NULL,
	"stream_id" text NOT NULL,
	"product_id" text NOT NULL,
	"title" text NOT NULL,
	"price_fen" integer,
	"image_url" text,
	"fire_at" timestamp with time zone NOT NULL,
	"countdown_sec" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"rev" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"fired_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "scheduled_pushes" ADD CONSTRAINT "scheduled_pushes_stream_id_live_streams_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."live_streams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "scheduled_pushes_stream_idx" ON "scheduled_pushes" USING btree ("stream_id","status","fire_at");