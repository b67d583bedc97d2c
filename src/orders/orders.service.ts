import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { orderItems, orders, type OrderStatus } from "../db/orders.schema.js";
import { claimsAtCheckout } from "../coupons/coupon-redeem.js";
import { AppError } from "../protocol/errors.js";
import { cartRepo } from "../shopping/cart.repo.js";
import type { Lifecycle, PlaceInput } from "./lifecycle.js";
import { orderView } from "./order-view.js";
import type { Order, Quote } from "./orders.dto.js";
import { mergeLines, priceOrder, type PricingRules } from "./pricing.js";

/** Lines to price or place: given, or the cart's selected lines (`fromCart`). */
export type Lines = { items: { skuId: string; quantity: number }[] } | { fromCart: true };

/**
 * Orders as buyers and admins see them: reading, quoting and the requests that change an order,
 * each handed to the order lifecycle (`lifecycle.ts`), which alone changes order state and stock.
 */
export function createOrders(deps: { db: Db; lifecycle: Lifecycle; pricing: PricingRules }) {
  const { db, lifecycle } = deps;

  async function load(where: ReturnType<typeof and>): Promise<Order | null> {
    const [o] = await db.select().from(orders).where(where);
    if (!o) return null;
    const items = await db.select().from(orderItems).where(eq(orderItems.orderId, o.id));
    return orderView(o, items);
  }

  async function get(userId: string | null, id: string): Promise<Order> {
    const order = await load(userId ? and(eq(orders.id, id), eq(orders.userId, userId)) : eq(orders.id, id));
    if (!order) throw new AppError("NOT_FOUND", "No such order.");
    return order;
  }

  /** The cart's selected lines, or INVALID_PARAMS when none are. */
  async function cartLines(userId: string) {
    const lines = (await cartRepo.lines(db, userId)).filter((l) => l.selected);
    if (lines.length === 0) throw new AppError("INVALID_PARAMS", "No selected items in the cart.");
    return lines.map((l) => ({ skuId: l.skuId, quantity: l.quantity }));
  }
  const linesOf = async (userId: string, lines: Lines) => ("items" in lines ? lines.items : cartLines(userId));

  /**
   * What placing these lines (with this coupon) would charge now, priced by the same rule as
   * placing, with the user's claimed coupons and what each would take off. Takes no stock and
   * writes nothing; refuses what placing would refuse (NOT_FOUND, OUT_OF_STOCK, COUPON_NOT_APPLICABLE).
   */
  async function quote(userId: string, input: Lines & { couponId?: string; streamId?: string }): Promise<Quote> {
    const priced = await priceOrder(db, { userId, lines: mergeLines(await linesOf(userId, input)), rules: deps.pricing, streamId: input.streamId, couponId: input.couponId, checkStock: true });
    const basket = { itemsFen: priced.itemsFen, productIds: priced.items.map((i) => i.productId), streamId: input.streamId };
    const claims = await claimsAtCheckout(db, userId, basket, deps.pricing.couponMaxDiscountPercent);
    return {
      ...priced,
      total: priced.totalFen / 100,
      couponId: input.couponId ?? null,
      coupons: claims.map(({ coupon, claim, outcome }) => ({
        couponId: coupon.id,
        streamId: coupon.streamId,
        title: coupon.title,
        faceValueFen: coupon.discountFen,
        minSpendFen: coupon.minSpendFen,
        expiresAt: coupon.expiresAt.getTime(),
        claimedAt: claim.claimedAt.getTime(),
        applicable: outcome.applicable,
        discountFen: outcome.discountFen,
        reason: outcome.applicable ? null : outcome.reason,
      })),
    };
  }

  /** Seed 001's order page sends cart line ids: the cart's lines, at the quantities it showed. */
  async function seedCartLines(userId: string, shown: { id: string; quantity: number }[]) {
    const cart = await cartRepo.lines(db, userId);
    return shown.map((item) => {
      const line = cart.find((l) => l.id === item.id);
      if (!line) throw new AppError("NOT_FOUND", "An item is no longer in the cart.", { id: item.id });
      return { skuId: line.skuId, quantity: item.quantity };
    });
  }

  async function list(userId: string | null, q: { status?: OrderStatus; streamId?: string; page: number; pageSize: number }) {
    const cond = and(userId ? eq(orders.userId, userId) : undefined, q.status ? eq(orders.status, q.status) : undefined, q.streamId ? eq(orders.streamId, q.streamId) : undefined);
    const rows = await db
      .select()
      .from(orders)
      .where(cond)
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(q.pageSize)
      .offset((q.page - 1) * q.pageSize);
    const items = rows.length ? await db.select().from(orderItems).where(inArray(orderItems.orderId, rows.map((r) => r.id))) : [];
    const [count] = await db.select({ n: sql<string>`count(*)` }).from(orders).where(cond);
    return {
      items: rows.map((o) => orderView(o, items.filter((i) => i.orderId === o.id))),
      total: Number(count?.n ?? 0),
      page: q.page,
      pageSize: q.pageSize,
    };
  }

  return {
    get,
    list,
    quote,
    /** Places an order (buy now, a cart checkout, a group place); one order per (user, request key). */
    place: (userId: string, input: PlaceInput) => lifecycle.place(userId, input),
    /** Places the given lines or the cart's selected ones. */
    placeLines: async (userId: string, lines: Lines, input: Omit<PlaceInput, "lines" | "source">) =>
      lifecycle.place(userId, { ...input, lines: await linesOf(userId, lines), source: "items" in lines ? "buy_now" : "cart" }),
    seedCartLines,
    /** Cancels an unpaid order in PostgreSQL only; payments' `cancelOrder` closes WeChat's side first. */
    cancel: async (userId: string | null, id: string, reason: string) => get(userId, (await lifecycle.cancel(userId, id, reason)).id),
    ship: async (id: string, courier: string, trackingNo: string) => get(null, (await lifecycle.ship(id, courier, trackingNo)).id),
    confirm: async (userId: string | null, id: string) => get(userId, (await lifecycle.confirm(userId, id)).id),
  };
}

export type Orders = ReturnType<typeof createOrders>;
