import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { skus } from "../db/catalog.schema.js";
import { flashBuyers, flashSales } from "../db/flash.schema.js";
import { requireAttached, requireHost as requireHostOf } from "../live/hosting.js";
import { orders as ordersTable } from "../db/orders.schema.js";
import type { Logger } from "../log.js";
import type { Order } from "../orders/orders.dto.js";
import type { Orders } from "../orders/orders.service.js";
import { AppError } from "../protocol/errors.js";
import type { FlashSale, StatePush } from "../protocol/messages.js";
import type { Identity } from "../realtime/client.js";
import { GATE_LIMIT, GATE_NOT_LOADED, GATE_SOLD_OUT, type FlashGate } from "./flash-gate.redis.js";

/** How often units-left reaches the room at most (conflated). */
const STOCK_PUSH_MS = 250;
const GATE_TTL_MS = 7 * 24 * 3600 * 1000;

type SaleRow = typeof flashSales.$inferSelect;

export interface FlashDeps {
  db: Db;
  orders: Orders;
  gate: FlashGate;
  log: Logger;
  /** Saves room state and pushes it to every node's viewers (the hub). */
  setRoomState: (roomId: string, field: string, value: unknown, push: StatePush) => Promise<void>;
}

/**
 * Live flash sales. Buying never oversells and never exceeds the per-user limit: a Redis gate
 * refuses the rush, and the order's transaction re-checks both in PostgreSQL (the truth). Units
 * left reach the room conflated.
 */
export function createFlash(deps: FlashDeps) {
  const { db, gate } = deps;
  const dirty = new Set<string>();
  const timer = setInterval(() => void pushDirty(), STOCK_PUSH_MS);
  timer.unref();

  const requireHost = (user: Identity, streamId: string) => requireHostOf(db, user, streamId);

  async function load(id: string): Promise<SaleRow> {
    const [sale] = await db.select().from(flashSales).where(eq(flashSales.id, id));
    if (!sale) throw new AppError("NOT_FOUND", "No such flash sale.");
    return sale;
  }

  const view = (s: SaleRow, left: number): FlashSale => ({
    id: s.id,
    productId: s.productId,
    skuId: s.skuId,
    priceFen: s.priceFen,
    quantity: s.quantity,
    left,
    perUserLimit: s.perUserLimit,
    endsAt: s.endsAt.getTime(),
  });

  /** Loads the gate from PostgreSQL (after a Redis loss, or first use on this Redis). */
  async function loadGate(s: SaleRow) {
    const [fresh] = await db.select().from(flashSales).where(eq(flashSales.id, s.id));
    const buyers = await db.select({ userId: flashBuyers.userId, bought: flashBuyers.bought }).from(flashBuyers).where(eq(flashBuyers.flashSaleId, s.id));
    await gate.load(s.id, GATE_TTL_MS, fresh!.quantity - fresh!.sold, buyers);
  }

  async function start(user: Identity, streamId: string, input: { skuId: string; priceFen: number; quantity: number; perUserLimit: number; durationSec: number }) {
    await requireHost(user, streamId);
    const [sku] = await db.select({ productId: skus.productId, stock: skus.stock }).from(skus).where(eq(skus.id, input.skuId));
    if (!sku) throw new AppError("NOT_FOUND", "No such SKU.");
    await requireAttached(db, streamId, sku.productId, "go on flash sale");
    if (input.quantity > sku.stock) throw new AppError("OUT_OF_STOCK", `Only ${sku.stock} in stock.`);
    const [sale] = await db
      .insert(flashSales)
      .values({
        id: randomUUID(),
        streamId,
        skuId: input.skuId,
        productId: sku.productId,
        priceFen: input.priceFen,
        quantity: input.quantity,
        perUserLimit: input.perUserLimit,
        endsAt: new Date(Date.now() + input.durationSec * 1000),
      })
      .returning();
    await loadGate(sale!);
    const v = view(sale!, input.quantity);
    await deps.setRoomState(streamId, "flashSale", v, { type: "flash_sale", sale: v });
    return v;
  }

  async function end(user: Identity, id: string) {
    const sale = await load(id);
    await requireHost(user, sale.streamId);
    await db.update(flashSales).set({ status: "ended" }).where(eq(flashSales.id, id));
    dirty.delete(id);
    await deps.setRoomState(sale.streamId, "flashSale", null, { type: "flash_sale", sale: null });
    return view({ ...sale, status: "ended" }, Math.max(0, (await gate.left(id)) ?? sale.quantity - sale.sold));
  }

  async function get(id: string) {
    const sale = await load(id);
    return { ...view(sale, (await gate.left(id)) ?? sale.quantity - sale.sold), status: sale.status };
  }

  /** Buy now at the live price: gate, then the order (which re-checks everything in PostgreSQL). */
  async function buy(userId: string, id: string, input: { quantity: number; addressId: string; requestKey?: string }): Promise<Order> {
    if (input.requestKey) {
      const [existing] = await db
        .select({ id: ordersTable.id })
        .from(ordersTable)
        .where(and(eq(ordersTable.userId, userId), eq(ordersTable.requestKey, input.requestKey)));
      if (existing) return deps.orders.get(userId, existing.id);
    }
    const sale = await load(id);
    if (sale.status !== "active" || sale.endsAt.getTime() < Date.now()) throw new AppError("FLASH_NOT_ACTIVE");
    let taken = await gate.take(id, userId, input.quantity, sale.perUserLimit);
    if (taken === GATE_NOT_LOADED) {
      await loadGate(sale);
      taken = await gate.take(id, userId, input.quantity, sale.perUserLimit);
    }
    if (taken === GATE_LIMIT) throw new AppError("LIMIT_EXCEEDED", `At most ${sale.perUserLimit} per person.`);
    if (taken === GATE_SOLD_OUT) throw new AppError("SOLD_OUT");
    try {
      const order = await deps.orders.place(userId, {
        lines: [{ skuId: sale.skuId, quantity: input.quantity }],
        source: "flash",
        addressId: input.addressId,
        streamId: sale.streamId,
        requestKey: input.requestKey,
        flash: { id: sale.id, priceFen: sale.priceFen, perUserLimit: sale.perUserLimit },
      });
      dirty.add(id);
      return order;
    } catch (err) {
      await gate.give(id, userId, input.quantity).catch((e: unknown) => deps.log.error({ err: e }, "flash gate give-back failed"));
      throw err;
    }
  }

  /** Units a cancelled order gave back in PostgreSQL go back to the gate too. */
  deps.orders.hooks.flashReleased = async (released) => {
    for (const r of released) {
      // The cancel has committed; a failed give-back must not turn it into an error.
      await gate.give(r.flashSaleId, r.userId, r.quantity).catch((err: unknown) => deps.log.error({ err, ...r }, "flash gate give-back failed"));
      dirty.add(r.flashSaleId);
    }
  };

  async function pushDirty() {
    const ids = [...dirty];
    dirty.clear();
    for (const id of ids) {
      try {
        const sale = await load(id);
        if (sale.status !== "active") continue;
        const v = view(sale, Math.max(0, (await gate.left(id)) ?? sale.quantity - sale.sold));
        await deps.setRoomState(sale.streamId, "flashSale", v, { type: "flash_sale", sale: v });
      } catch (err) {
        deps.log.warn({ err, flashSaleId: id }, "flash stock push failed");
      }
    }
  }

  return { start, end, get, buy, stop: () => clearInterval(timer) };
}

export type Flash = ReturnType<typeof createFlash>;
