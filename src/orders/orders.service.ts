import { randomBytes } from "node:crypto";
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { products, skus } from "../db/catalog.schema.js";
import { orderItems, orders, type OrderStatus } from "../db/orders.schema.js";
import { flashBuyers, flashSales } from "../db/flash.schema.js";
import { cartItems } from "../db/shopping.schema.js";
import { redeemClaim, releaseClaim } from "../coupons/coupon-redeem.js";
import { AppError } from "../protocol/errors.js";
import { addressRepo } from "../shopping/address.repo.js";
import type { Order } from "./orders.dto.js";

type OrderRow = typeof orders.$inferSelect;
type ItemRow = typeof orderItems.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function view(o: OrderRow, items: ItemRow[]): Order {
  return {
    id: o.id,
    orderId: o.id,
    status: o.status,
    items: items
      .sort((a, b) => a.line - b.line)
      .map((i) => ({
        productId: i.productId,
        skuId: i.skuId,
        name: i.name,
        specs: i.specs,
        cover: i.cover,
        unitPriceFen: i.unitPriceFen,
        quantity: i.quantity,
        subtotalFen: i.unitPriceFen * i.quantity,
      })),
    itemsFen: o.itemsFen,
    discountFen: o.discountFen,
    couponId: o.couponId,
    totalFen: o.totalFen,
    total: o.totalFen / 100,
    address: o.address,
    streamId: o.streamId,
    groupId: o.groupId,
    payDeadline: o.payDeadline.toISOString(),
    createdAt: o.createdAt.toISOString(),
    paidAt: iso(o.paidAt),
    courier: o.courier,
    trackingNo: o.trackingNo,
    shippedAt: iso(o.shippedAt),
    completedAt: iso(o.completedAt),
    cancelledAt: iso(o.cancelledAt),
  };
}

/** An order id that is also a valid WeChat Pay out_trade_no: 32 hex characters. */
const newOrderId = () => randomBytes(16).toString("hex");

const isUniqueViolation = (err: unknown) =>
  ((err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code) === "23505";

export interface PlaceInput {
  lines: { skuId: string; quantity: number }[];
  addressId: string;
  source: "cart" | "buy_now" | "flash" | "group";
  streamId?: string;
  expectedTotalFen?: number;
  /** The request's Idempotency-Key: a second order with the same key returns the first. */
  requestKey?: string;
  /** A live flash sale: one line, at the live price, within the sale's quantity and per-user limit. */
  flash?: { id: string; priceFen: number; perUserLimit: number };
  /**
   * A place in a group buy, at the group price: `claim` runs first inside the order's transaction
   * (it locks the group and takes the place, or throws) and the order pays by `payDeadline`.
   */
  group?: { id: string; priceFen: number; payDeadline: Date; claim: (tx: Db, orderId: string) => Promise<void> };
  /** A live coupon the user claimed: used by this order (once) or COUPON_NOT_APPLICABLE. */
  couponId?: string;
}

/** Flash units given back by a cancelled order, for whoever gates the sale (Redis). */
export type FlashRelease = { flashSaleId: string; userId: string; quantity: number };

/**
 * Orders: the only place that takes stock for a sale and gives it back. Every state change is a
 * conditional update on the current status, so it happens once however often it is asked for.
 */
export function createOrders(deps: { db: Db; payTimeoutSec: number }) {
  const { db } = deps;
  const hooks: {
    /** After an order committed: its payment timer starts (the reconciler covers a failure here). */
    placed: (order: { id: string; payDeadline: Date }) => Promise<void>;
    /** After a cancel committed, with the flash units it gave back. */
    flashReleased: (released: FlashRelease[]) => Promise<void>;
    /** After a cancel committed (a group-buy place it held is free again). */
    cancelled: (order: { id: string; groupId: string | null }) => Promise<void>;
    /** Whether a paid order may ship (a group-buy order only once its group is complete). */
    shippable: (order: { id: string; groupId: string | null }) => Promise<boolean>;
  } = { placed: () => Promise.resolve(), flashReleased: () => Promise.resolve(), cancelled: () => Promise.resolve(), shippable: () => Promise.resolve(true) };

  async function load(where: ReturnType<typeof and>): Promise<Order | null> {
    const [o] = await db.select().from(orders).where(where);
    if (!o) return null;
    const items = await db.select().from(orderItems).where(eq(orderItems.orderId, o.id));
    return view(o, items);
  }

  async function get(userId: string | null, id: string): Promise<Order> {
    const order = await load(userId ? and(eq(orders.id, id), eq(orders.userId, userId)) : eq(orders.id, id));
    if (!order) throw new AppError("NOT_FOUND", "No such order.");
    return order;
  }

  async function place(userId: string, input: PlaceInput): Promise<Order> {
    if (input.requestKey) {
      const existing = await load(and(eq(orders.userId, userId), eq(orders.requestKey, input.requestKey)));
      if (existing) return existing;
    }
    const address = await addressRepo.get(db, userId, input.addressId);
    const merged = new Map<string, number>();
    for (const l of input.lines) merged.set(l.skuId, (merged.get(l.skuId) ?? 0) + l.quantity);
    const lines = [...merged].sort(([a], [b]) => (a < b ? -1 : 1));
    const id = newOrderId();
    const payDeadline = input.group?.payDeadline ?? new Date(Date.now() + deps.payTimeoutSec * 1000);
    const livePrice = input.flash?.priceFen ?? input.group?.priceFen;
    try {
      await db.transaction(async (tx) => {
        const items: (typeof orderItems.$inferInsert)[] = [];
        let itemsFen = 0;
        if (input.group) await input.group.claim(tx, id);
        if (input.flash) await takeFlashUnits(tx, input.flash, userId, lines[0]![1]);
        for (const [skuId, quantity] of lines) {
          // The truth about stock: a conditional decrement that cannot go below zero.
          const [taken] = await tx
            .update(skus)
            .set({ stock: sql`${skus.stock} - ${quantity}` })
            .where(and(eq(skus.id, skuId), sql`${skus.stock} >= ${quantity}`, sql`exists (select 1 from products p where p.id = ${skus.productId} and p.listed)`))
            .returning({ productId: skus.productId, priceFen: skus.priceFen, specs: skus.specs });
          if (!taken) {
            const [exists] = await tx.select({ id: skus.id }).from(skus).innerJoin(products, eq(products.id, skus.productId)).where(and(eq(skus.id, skuId), eq(products.listed, true)));
            throw exists ? new AppError("OUT_OF_STOCK", "Not enough stock left.", { skuId }) : new AppError("NOT_FOUND", "No such SKU on sale.", { skuId });
          }
          const [product] = await tx.select({ name: products.name, pictures: products.pictures }).from(products).where(eq(products.id, taken.productId));
          items.push({
            orderId: id,
            line: items.length + 1,
            productId: taken.productId,
            skuId,
            name: product!.name,
            specs: taken.specs,
            cover: product!.pictures[0] ?? "",
            unitPriceFen: livePrice ?? taken.priceFen,
            quantity,
            flashSaleId: input.flash?.id ?? null,
          });
          itemsFen += (livePrice ?? taken.priceFen) * quantity;
        }
        const discountFen = input.couponId ? await redeemClaim(tx, { couponId: input.couponId, userId, orderId: id, itemsFen }) : 0;
        const totalFen = itemsFen - discountFen;
        if (input.expectedTotalFen !== undefined && input.expectedTotalFen !== totalFen) {
          throw new AppError("PRICE_CHANGED", undefined, { totalFen, total: totalFen / 100 });
        }
        const { id: _addressId, isDefault: _d, ...snapshot } = address;
        await tx.insert(orders).values({
          id,
          userId,
          status: "pending_payment",
          itemsFen,
          discountFen,
          couponId: input.couponId ?? null,
          totalFen,
          address: snapshot,
          source: input.source,
          streamId: input.streamId ?? null,
          groupId: input.group?.id ?? null,
          requestKey: input.requestKey ?? null,
          payDeadline,
        });
        await tx.insert(orderItems).values(items);
        if (input.source === "cart") {
          await tx.delete(cartItems).where(and(eq(cartItems.userId, userId), inArray(cartItems.skuId, lines.map(([s]) => s))));
        }
      });
    } catch (err) {
      // A concurrent request with the same key won the race: its order is the answer.
      if (input.requestKey && isUniqueViolation(err)) {
        const existing = await load(and(eq(orders.userId, userId), eq(orders.requestKey, input.requestKey)));
        if (existing) return existing;
      }
      throw err;
    }
    await hooks.placed({ id, payDeadline });
    return get(userId, id);
  }

  /** Takes units of a flash sale for a user inside the order's transaction: the sale's cap and the user's limit. */
  async function takeFlashUnits(tx: Db, flash: { id: string; perUserLimit: number }, userId: string, quantity: number) {
    const [buyer] = await tx
      .insert(flashBuyers)
      .values({ flashSaleId: flash.id, userId, bought: quantity })
      .onConflictDoUpdate({
        target: [flashBuyers.flashSaleId, flashBuyers.userId],
        set: { bought: sql`${flashBuyers.bought} + excluded.bought` },
        setWhere: sql`${flashBuyers.bought} + excluded.bought <= ${flash.perUserLimit}`,
      })
      .returning({ bought: flashBuyers.bought });
    if (!buyer || buyer.bought > flash.perUserLimit) throw new AppError("LIMIT_EXCEEDED", `At most ${flash.perUserLimit} per person.`);
    const [sale] = await tx
      .update(flashSales)
      .set({ sold: sql`${flashSales.sold} + ${quantity}` })
      .where(and(eq(flashSales.id, flash.id), eq(flashSales.status, "active"), sql`${flashSales.sold} + ${quantity} <= ${flashSales.quantity}`))
      .returning({ id: flashSales.id });
    if (!sale) throw new AppError("SOLD_OUT");
  }

  /** Moves `from` → `to` once; returns the updated row, or explains why not. */
  async function transition(
    tx: Db,
    id: string,
    userId: string | null,
    from: OrderStatus[],
    to: OrderStatus,
    set: Partial<typeof orders.$inferInsert> = {},
  ) {
    const cond = and(eq(orders.id, id), inArray(orders.status, from), userId ? eq(orders.userId, userId) : undefined);
    const [row] = await tx.update(orders).set({ ...set, status: to, updatedAt: new Date() }).where(cond).returning();
    if (row) return row;
    const [current] = await tx
      .select({ status: orders.status })
      .from(orders)
      .where(userId ? and(eq(orders.id, id), eq(orders.userId, userId)) : eq(orders.id, id));
    if (!current) throw new AppError("NOT_FOUND", "No such order.");
    throw new AppError("ORDER_STATE", `The order is ${current.status}.`, { status: current.status });
  }

  /** Cancels an unpaid order and gives its stock (and an unexpired coupon) back, exactly once. */
  async function cancel(userId: string | null, id: string, reason: string): Promise<Order> {
    const released: FlashRelease[] = [];
    const cancelled = await db.transaction(async (tx) => {
      const order = await transition(tx, id, userId, ["pending_payment"], "cancelled", { cancelledAt: new Date(), cancelReason: reason });
      const items = await tx.select().from(orderItems).where(eq(orderItems.orderId, id)).orderBy(asc(orderItems.skuId));
      // Same lock order as placing: flash buyer, flash sale, then SKU.
      for (const i of items) {
        if (i.flashSaleId) {
          await tx
            .update(flashBuyers)
            .set({ bought: sql`${flashBuyers.bought} - ${i.quantity}` })
            .where(and(eq(flashBuyers.flashSaleId, i.flashSaleId), eq(flashBuyers.userId, order.userId)));
          await tx.update(flashSales).set({ sold: sql`${flashSales.sold} - ${i.quantity}` }).where(eq(flashSales.id, i.flashSaleId));
          released.push({ flashSaleId: i.flashSaleId, userId: order.userId, quantity: i.quantity });
        }
        await tx.update(skus).set({ stock: sql`${skus.stock} + ${i.quantity}` }).where(eq(skus.id, i.skuId));
      }
      if (order.couponId) await releaseClaim(tx, { couponId: order.couponId, userId: order.userId, orderId: id });
      return order;
    });
    if (released.length > 0) await hooks.flashReleased(released);
    await hooks.cancelled({ id, groupId: cancelled.groupId });
    return get(userId, id);
  }

  async function ship(id: string, courier: string, trackingNo: string) {
    const [o] = await db.select({ groupId: orders.groupId }).from(orders).where(eq(orders.id, id));
    if (o && !(await hooks.shippable({ id, groupId: o.groupId }))) throw new AppError("ORDER_STATE", "The group buy is not complete yet.", { status: "paid" });
    await transition(db, id, null, ["paid"], "shipped", { courier, trackingNo, shippedAt: new Date() });
    return get(null, id);
  }

  async function confirm(userId: string | null, id: string) {
    await transition(db, id, userId, ["shipped"], "completed", { completedAt: new Date() });
    return get(userId, id);
  }

  async function list(userId: string | null, q: { status?: OrderStatus; page: number; pageSize: number }) {
    const cond = and(userId ? eq(orders.userId, userId) : undefined, q.status ? eq(orders.status, q.status) : undefined);
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
      items: rows.map((o) => view(o, items.filter((i) => i.orderId === o.id))),
      total: Number(count?.n ?? 0),
      page: q.page,
      pageSize: q.pageSize,
    };
  }

  return { place, get, list, cancel, ship, confirm, transition, hooks };
}

export type Orders = ReturnType<typeof createOrders>;
