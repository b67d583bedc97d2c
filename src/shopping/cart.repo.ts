import { randomUUID } from "node:crypto";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { products, skus } from "../db/catalog.schema.js";
import { cartItems } from "../db/shopping.schema.js";
import { AppError } from "../protocol/errors.js";
import { MAX_LINE_QUANTITY, type CartLine } from "./shopping.dto.js";

/** A user's cart, always priced from the SKUs as they are now. */
export const cartRepo = {
  async lines(db: Db, userId: string): Promise<CartLine[]> {
    const rows = await db
      .select({
        id: cartItems.id,
        skuId: skus.id,
        productId: products.id,
        name: products.name,
        specs: skus.specs,
        pictures: products.pictures,
        priceFen: skus.priceFen,
        quantity: cartItems.quantity,
        selected: cartItems.selected,
        stock: skus.stock,
        listed: products.listed,
      })
      .from(cartItems)
      .innerJoin(skus, eq(skus.id, cartItems.skuId))
      .innerJoin(products, eq(products.id, skus.productId))
      .where(eq(cartItems.userId, userId))
      .orderBy(asc(cartItems.createdAt), asc(cartItems.id));
    return rows.map(({ pictures, listed, ...r }) => ({
      ...r,
      cover: pictures[0] ?? "",
      price: r.priceFen / 100,
      available: listed && r.stock >= r.quantity,
    }));
  },

  /** The cart with totals over selected, available lines. */
  async view(db: Db, userId: string) {
    const items = await cartRepo.lines(db, userId);
    const counted = items.filter((i) => i.selected && i.available);
    const totalFen = counted.reduce((sum, i) => sum + i.priceFen * i.quantity, 0);
    return { items, totalFen, total: totalFen / 100, selectedCount: counted.length };
  },

  async add(db: Db, userId: string, skuId: string, quantity: number) {
    const [sku] = await db
      .select({ stock: skus.stock, listed: products.listed })
      .from(skus)
      .innerJoin(products, eq(products.id, skus.productId))
      .where(eq(skus.id, skuId));
    if (!sku || !sku.listed) throw new AppError("NOT_FOUND", "No such SKU on sale.");
    // Merge into the existing line; refused (and rolled back) past the stock.
    await db.transaction(async (tx) => {
      const [line] = await tx
        .insert(cartItems)
        .values({ id: randomUUID(), userId, skuId, quantity })
        .onConflictDoUpdate({
          target: [cartItems.userId, cartItems.skuId],
          set: { quantity: sql`least(${cartItems.quantity} + excluded.quantity, ${MAX_LINE_QUANTITY})`, selected: true },
        })
        .returning({ quantity: cartItems.quantity });
      if (line!.quantity > sku.stock) throw new AppError("OUT_OF_STOCK", `Only ${sku.stock} left.`);
    });
  },

  async update(db: Db, userId: string, lineId: string, patch: { quantity?: number; selected?: boolean }) {
    if (Object.keys(patch).length === 0) return;
    const rows = await db
      .update(cartItems)
      .set(patch)
      .where(and(eq(cartItems.id, lineId), eq(cartItems.userId, userId)))
      .returning({ id: cartItems.id });
    if (rows.length === 0) throw new AppError("NOT_FOUND", "No such cart line.");
  },

  async remove(db: Db, userId: string, lineId: string) {
    const rows = await db.delete(cartItems).where(and(eq(cartItems.id, lineId), eq(cartItems.userId, userId))).returning({ id: cartItems.id });
    if (rows.length === 0) throw new AppError("NOT_FOUND", "No such cart line.");
  },

  async selectAll(db: Db, userId: string, selected: boolean) {
    await db.update(cartItems).set({ selected }).where(eq(cartItems.userId, userId));
  },
};
