CREATE TABLE "images" (
	"id" text PRIMARY KEY NOT NULL,
	"content_type" text NOT NULL,
	"bytes" integer NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"uploaded_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "avatar_url" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "live_streams" ADD COLUMN "cover_url" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "live_streams" ADD COLUMN "scheduled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "live_streams" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "live_streams" ADD COLUMN "ended_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "group_activities" ADD COLUMN "flow" text DEFAULT 'leader_pays' NOT NULL;--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "flow" text DEFAULT 'leader_pays' NOT NULL;