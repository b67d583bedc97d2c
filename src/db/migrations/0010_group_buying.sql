CREATE TABLE "audit_log" (
	"id" serial PRIMARY KEY NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"details" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "group_activities" (
	"id" text PRIMARY KEY NOT NULL,
	"product_id" text NOT NULL,
	"sku_id" text NOT NULL,
	"stream_id" text,
	"group_size" integer NOT NULL,
	"group_price_fen" integer NOT NULL,
	"window_sec" integer NOT NULL,
	"per_user_limit" integer DEFAULT 1 NOT NULL,
	"simulate_on_expiry" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "group_activities_size" CHECK ("group_activities"."group_size" between 2 and 100),
	CONSTRAINT "group_activities_price" CHECK ("group_activities"."group_price_fen" > 0)
);
--> statement-breakpoint
CREATE TABLE "group_members" (
	"group_id" text NOT NULL,
	"user_id" text NOT NULL,
	"order_id" text NOT NULL,
	"leader" boolean DEFAULT false NOT NULL,
	"joined_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "group_members_group_id_user_id_pk" PRIMARY KEY("group_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "groups" (
	"id" text PRIMARY KEY NOT NULL,
	"activity_id" text NOT NULL,
	"product_id" text NOT NULL,
	"stream_id" text,
	"leader_user_id" text NOT NULL,
	"size" integer NOT NULL,
	"price_fen" integer NOT NULL,
	"sku_id" text NOT NULL,
	"window_sec" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"expires_at" timestamp with time zone,
	"simulated" boolean DEFAULT false NOT NULL,
	"fail_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"opened_at" timestamp with time zone,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "group_id" text;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "groups" ADD CONSTRAINT "groups_activity_id_group_activities_id_fk" FOREIGN KEY ("activity_id") REFERENCES "public"."group_activities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "group_activities_product_idx" ON "group_activities" USING btree ("product_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "group_members_order_idx" ON "group_members" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "groups_activity_idx" ON "groups" USING btree ("activity_id","status");--> statement-breakpoint
CREATE INDEX "groups_stream_idx" ON "groups" USING btree ("stream_id","status");