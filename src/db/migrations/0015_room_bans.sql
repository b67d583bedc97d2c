CREATE TABLE "room_bans" (
	"id" text PRIMARY KEY NOT NULL,
	"stream_id" text,
	"user_id" text NOT NULL,
	"banned_by" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"lifted_at" timestamp with time zone,
	"lifted_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "room_bans" ADD CONSTRAINT "room_bans_stream_id_live_streams_id_fk" FOREIGN KEY ("stream_id") REFERENCES "public"."live_streams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "room_bans" ADD CONSTRAINT "room_bans_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "room_bans_active_idx" ON "room_bans" USING btree (coalesce("stream_id", ''),"user_id") WHERE "room_bans"."lifted_at" is null;--> statement-breakpoint
CREATE INDEX "room_bans_stream_idx" ON "room_bans" USING btree ("stream_id","created_at");--> statement-breakpoint
CREATE INDEX "room_bans_updated_idx" ON "room_bans" USING btree ("updated_at");