import { z } from "zod";
import { ORDER_STATUSES } from "../db/orders.schema.js";
import { MAX_LINE_QUANTITY } from "../shopping/shopping.dto.js";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only");

export const OrderLineInput = z.object({ skuId: id, quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY) });

/** Buy now (`items`) or check out the cart's selected lines (`fromCart`). */
export const PlaceOrder = z
  .object({
    items: z.array(OrderLineInput).min(1).max(50).optional(),
    fromCart: z.literal(true).optional(),
    addressId: id,
    /** What the client showed; a different server total is PRICE_CHANGED. */
    expectedTotalFen: z.number().int().min(0).optional(),
    /** The live room the purchase came from, if any. */
    streamId: id.optional(),
    /** A live coupon I claimed; the order takes its discount (COUPON_NOT_APPLICABLE when it cannot). */
    couponId: id.optional(),
  })
  .refine((o) => (o.items === undefined) !== (o.fromCart === undefined), { message: "give exactly one of items or fromCart" });

/** Buy now (`items`) or the cart's selected lines (`fromCart`), priced as placing them would be. */
export const QuoteOrder = z
  .object({
    items: z.array(OrderLineInput).min(1).max(50).optional(),
    fromCart: z.literal(true).optional(),
    /** A live coupon I claimed; COUPON_NOT_APPLICABLE when placing could not use it. */
    couponId: id.optional(),
    streamId: id.optional(),
  })
  .refine((o) => (o.items === undefined) !== (o.fromCart === undefined), { message: "give exactly one of items or fromCart" });

export const OrderItem = z.object({
  productId: z.string(),
  skuId: z.string(),
  name: z.string(),
  specs: z.record(z.string(), z.string()),
  cover: z.string(),
  unitPriceFen: z.number(),
  quantity: z.number(),
  subtotalFen: z.number(),
});

export const Order = z.object({
  id: z.string(),
  /** The same as id, for seed 001's order page (`res.data.orderId`). */
  orderId: z.string(),
  status: z.enum(ORDER_STATUSES),
  items: z.array(OrderItem),
  itemsFen: z.number(),
  /** Taken off by a live coupon: totalFen = itemsFen - discountFen, at least 1 fen. */
  discountFen: z.number(),
  couponId: z.string().nullable(),
  totalFen: z.number(),
  total: z.number(),
  address: z.object({ name: z.string(), phone: z.string(), province: z.string(), city: z.string(), district: z.string(), detail: z.string() }),
  streamId: z.string().nullable(),
  /** The group buy this order holds a place in: it ships once the group is complete. */
  groupId: z.string().nullable(),
  payDeadline: z.string(),
  createdAt: z.string(),
  paidAt: z.string().nullable(),
  courier: z.string().nullable(),
  trackingNo: z.string().nullable(),
  shippedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  cancelledAt: z.string().nullable(),
});
export type Order = z.infer<typeof Order>;

/** One of my claimed coupons at checkout: whether it applies to these items and what it would take off. */
export const QuoteCoupon = z.object({
  couponId: z.string(),
  streamId: z.string(),
  title: z.string(),
  /** The coupon's face value. */
  faceValueFen: z.number(),
  minSpendFen: z.number(),
  expiresAt: z.number(),
  claimedAt: z.number(),
  applicable: z.boolean(),
  /** What it would take off these items (0 when it does not apply). */
  discountFen: z.number(),
  /** Why it does not apply, or null. */
  reason: z.string().nullable(),
});

/** What POST /v1/orders would charge for the same input now (`items` as the order would list them). */
export const Quote = z.object({
  items: z.array(OrderItem),
  itemsFen: z.number(),
  discountFen: z.number(),
  totalFen: z.number(),
  total: z.number(),
  couponId: z.string().nullable(),
  streamId: z.string().nullable(),
  /** My unused, unexpired claims, soonest to expire first. */
  coupons: z.array(QuoteCoupon),
});
export type Quote = z.infer<typeof Quote>;

export const OrderQuery = z.object({
  status: z.enum(ORDER_STATUSES).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export const OrderPage = z.object({ items: z.array(Order), total: z.number(), page: z.number(), pageSize: z.number() });

export const CancelOrder = z.object({ reason: z.string().trim().max(200).default("cancelled by user") });
export const ShipOrder = z.object({ courier: z.string().trim().min(1).max(40), trackingNo: z.string().trim().min(4).max(40).regex(/^[A-Za-z0-9-]+$/) });

/** Seed 001's order page body: the cart items it showed, the address object, and its total in yuan. */
export const SeedPlaceOrder = z.object({
  items: z.array(z.object({ id, quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY) }).loose()).min(1).max(50),
  address: z.object({ id }).loose(),
  totalAmount: z.union([z.string(), z.number()]),
  paymentMethod: z.literal("wechat").default("wechat"),
  /** Not sent by the seed page; our live page adds the room the purchase came from. */
  streamId: id.optional(),
});

/** Exact yuan → fen for a decimal like "128.00" or 128; null when it is not an amount. */
export function yuanToFen(amount: string | number): number | null {
  const text = typeof amount === "number" ? amount.toFixed(2) : amount.trim();
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}
