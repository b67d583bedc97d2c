ALTER TABLE "products" DROP COLUMN "picture_url";--> statement-breakpoint
ALTER TABLE "products" DROP COLUMN "price_fen";--> statement-breakpoint
ALTER TABLE "products" DROP COLUMN "stock";