CREATE TABLE "dev_credentials" (
	"name" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "wechat_session_key" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "openid" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "unionid" text;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_openid_unique" UNIQUE("openid");