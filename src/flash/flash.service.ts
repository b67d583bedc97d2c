import { randomUUID } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import type { Identity } from "../auth/identity.js";
import type { Db } from "../db/client.js";
import { skus } from "../db/catalog.schema.js";
import { flashSales } from "../db/flash.schema.js";
import { requireAttached, requireHost as requireHostOf } from "../live/hosting.js";
import type { Logger } from "../log.js";
import type { FlashBuyRequest, FlashCheckout } from "../orders/flash-checkout.js";
import type { OrderEventBus } from "../orders/order-events.js";
import type { Order } from "../orders/orders.dto.js";
import { AppError } from "../protocol/errors.js";
import type { FlashSale, SetRoomState } from "../protocol/messages.js";

/** How often units-left reaches the room at most (conflated). */
const STOCK_PUSH_MS = 250;

type SaleRow = typeof flashSales.$inferSelect;

export interface FlashDeps {
  db: Db;
  /** Buying: the gate and the orders (the order lifecycle's hot path). */
  checkout: FlashCheckout;
  /** Units taken and given back, to show the room fewer or more units left. */
  events: OrderEventBus;
  log: Logger;
  /** The highest per-person limit a sale may have (ORDER_MAX_UNPAID_UNITS_PER_SKU): the gate is then the sale's cap on what one buyer holds. */
  maxPerUserLimit: number;
  /** Saves room state and pushes it to every node's viewers (the hub). */
  setRoomState: SetRoomState;
}

/**
 * Live flash sales: the host starts and ends them, the room sees units left (conflated). Buying is
 * the order lifecycle's (`orders/flash-checkout.ts`): the Redis gate answers the rush and the
 * orders are written in batches, never oversold, never past the per-user limit.
 */
export function createFlash(deps: FlashDeps) {
  const { db, checkout } = deps;
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

  const leftOf = async (s: SaleRow) => Math.max(0, (await checkout.left(s.id)) ?? s.quantity - s.sold);

  async function start(user: Identity, streamId: string, input: { skuId: string; priceFen: number; quantity: number; perUserLimit: number; durationSec: number }) {
    await requireHost(user, streamId);
    if (input.perUserLimit > deps.maxPerUserLimit) {
      throw new AppError("INVALID_PARAMS", `perUserLimit may be at most ${deps.maxPerUserLimit}.`, { maxPerUserLimit: deps.maxPerUserLimit });
    }
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
    await checkout.open(sale!);
    const v = view(sale!, input.quantity);
    await deps.setRoomState(streamId, "flashSale", v, { type: "flash_sale", sale: v });
    return v;
  }

  async function end(user: Identity, id: string) {
    const sale = await load(id);
    await requireHost(user, sale.streamId);
    await db.update(flashSales).set({ status: "ended" }).where(eq(flashSales.id, id));
    checkout.forget(id);
    dirty.delete(id);
    await deps.setRoomState(sale.streamId, "flashSale", null, { type: "flash_sale", sale: null });
    return view({ ...sale, status: "ended" }, await leftOf(sale));
  }

  async function get(id: string) {
    const sale = await load(id);
    return { ...view(sale, (await checkout.left(id)) ?? sale.quantity - sale.sold), status: sale.status };
  }

  /** A stream's flash sales, newest first, with units left and sold (for its host). */
  async function listOfStream(user: Identity, streamId: string) {
    await requireHost(user, streamId);
    const rows = await db.select().from(flashSales).where(eq(flashSales.streamId, streamId)).orderBy(desc(flashSales.createdAt), desc(flashSales.id)).limit(200);
    return Promise.all(
      rows.map(async (s) => {
        const left = s.status === "active" ? await leftOf(s) : s.quantity - s.sold;
        return { ...view(s, left), status: s.status, sold: s.sold, createdAt: s.createdAt.toISOString() };
      }),
    );
  }

  /** Buy now at the live price (one request, answered once per Idempotency-Key). */
  const buy = (userId: string, id: string, input: FlashBuyRequest): Promise<Order> => checkout.buy(userId, id, input);

  // Units left changed: the room hears it, conflated.
  deps.events.on("placed", ({ flash }) => void flash.forEach((u) => dirty.add(u.flashSaleId)));
  deps.events.on("cancelled", ({ flash }) => void flash.forEach((u) => dirty.add(u.flashSaleId)));

  async function pushDirty() {
    const ids = [...dirty];
    dirty.clear();
    for (const id of ids) {
      try {
        const sale = await load(id);
        if (sale.status !== "active") continue;
        const v = view(sale, await leftOf(sale));
        await deps.setRoomState(sale.streamId, "flashSale", v, { type: "flash_sale", sale: v });
      } catch (err) {
        deps.log.warn({ err, flashSaleId: id }, "flash stock push failed");
      }
    }
  }

  return { start, end, get, buy, listOfStream, stop: () => clearInterval(timer) };
}

export type Flash = ReturnType<typeof createFlash>;
