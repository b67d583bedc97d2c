/** Every table, for drizzle and drizzle-kit. One file per area. */
export * from "./identity.schema.js";
export * from "./catalog.schema.js";
export * from "./live.schema.js";
export * from "./shopping.schema.js";
export * from "./orders.schema.js";
export * from "./payments.schema.js";
export * from "./flash.schema.js";
export * from "./groups.schema.js";
export * from "./coupons.schema.js";
export * from "./moderation.schema.js";
