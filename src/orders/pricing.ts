import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { products, skus } from "../db/catalog.schema.js";
import { liveStreams, streamProducts } from "../db/live.schema.js";
import { couponDiscount } from "../coupons/coupon-redeem.js";
import { AppError } from "../protocol/errors.js";
import { MAX_LINE_QUANTITY } from "../shopping/shopping.dto.js";

/** One line of an order as it is priced: a snapshot of the product and SKU at this moment. */
export interface PricedItem {
  productId: string;
  skuId: string;
  name: string;
  specs: Record<string, string>;
  cover: string;
  unitPriceFen: number;
  quantity: number;
  subtotalFen: number;
}

/** The bounds pricing applies (settings): the most one order may cost, and the most of it a coupon may take off. */
export interface PricingRules {
  maxTotalFen: number;
  /** COUPON_MAX_DISCOUNT_PERCENT. */
  couponMaxDiscountPercent: number;
}

export interface PricedOrder {
  items: PricedItem[];
  /** The live stream the order is from: the one it names, else its coupon's; null for neither. */
  streamId: string | null;
  itemsFen: number;
  discountFen: number;
  /** itemsFen - discountFen; a coupon never takes it below 1 fen. */
  totalFen: number;
}

/**
 * Lines merged per SKU and sorted by SKU id: the order in which placing takes stock (and so row
 * locks). A merged line over the per-line cap is QUANTITY_TOO_LARGE: repeating a SKU never gets past it.
 */
export function mergeLines(lines: readonly { skuId: string; quantity: number }[]): [skuId: string, quantity: number][] {
  const merged = new Map<string, number>();
  for (const l of lines) merged.set(l.skuId, (merged.get(l.skuId) ?? 0) + l.quantity);
  for (const [skuId, quantity] of merged) {
    if (quantity > MAX_LINE_QUANTITY) throw new AppError("QUANTITY_TOO_LARGE", `At most ${MAX_LINE_QUANTITY} of one SKU in one order.`, { skuId, quantity, limit: MAX_LINE_QUANTITY });
  }
  return [...merged].sort(([a], [b]) => (a < b ? -1 : 1));
}

/** ORDER_TOTAL_TOO_LARGE when items worth `itemsFen` are more than one order may cost (and than its columns hold). */
export function requireTotalWithin(itemsFen: number, maxTotalFen: number) {
  if (itemsFen > maxTotalFen) throw new AppError("ORDER_TOTAL_TOO_LARGE", `One order may cost at most ${maxTotalFen} fen.`, { itemsFen, maxTotalFen });
}

/**
 * The products a live stream sells, for an order that names it: STREAM_NOT_FOUND when there is no
 * such stream (so nothing is ever announced in, or stored for, a room that does not exist).
 */
async function productsOfStream(db: Db, streamId: string): Promise<Set<string>> {
  const rows = await db
    .select({ productId: streamProducts.productId })
    .from(liveStreams)
    .leftJoin(streamProducts, eq(streamProducts.streamId, liveStreams.id))
    .where(eq(liveStreams.id, streamId));
  if (rows.length === 0) throw new AppError("STREAM_NOT_FOUND");
  return new Set(rows.flatMap((r) => (r.productId ? [r.productId] : [])));
}

/**
 * What an order costs: the one pricing rule, used by placing and by quotes. Each line at its SKU's
 * current price (or the live price of a flash sale or group buy), the items' sum, the claimed
 * coupon's discount, the total. Placing calls it in its transaction after taking the stock (the
 * SKU rows are then locked, so these are the prices sold at); a quote calls it outside one and,
 * with `checkStock`, refuses lines that placing would refuse for stock. An order from a live
 * stream (`streamId`) holds only products that stream sells (NOT_IN_STREAM); an order with a live
 * coupon is from the coupon's stream. It writes nothing.
 */
export async function priceOrder(
  db: Db,
  input: { userId: string; lines: [skuId: string, quantity: number][]; rules: PricingRules; streamId?: string; livePriceFen?: number; couponId?: string; checkStock?: boolean },
): Promise<PricedOrder> {
  const ids = input.lines.map(([skuId]) => skuId);
  const [rows, sold] = await Promise.all([
    ids.length
      ? db
          .select({ skuId: skus.id, productId: skus.productId, priceFen: skus.priceFen, specs: skus.specs, stock: skus.stock, name: products.name, pictures: products.pictures })
          .from(skus)
          .innerJoin(products, eq(products.id, skus.productId))
          .where(and(inArray(skus.id, ids), eq(products.listed, true)))
      : [],
    input.streamId === undefined ? null : productsOfStream(db, input.streamId),
  ]);
  const bySku = new Map(rows.map((r) => [r.skuId, r]));
  const items: PricedItem[] = input.lines.map(([skuId, quantity]) => {
    const r = bySku.get(skuId);
    if (!r) throw new AppError("NOT_FOUND", "No such SKU on sale.", { skuId });
    if (sold && !sold.has(r.productId)) throw new AppError("NOT_IN_STREAM", undefined, { productId: r.productId, streamId: input.streamId });
    if (input.checkStock && r.stock < quantity) throw new AppError("OUT_OF_STOCK", "Not enough stock left.", { skuId });
    const unitPriceFen = input.livePriceFen ?? r.priceFen;
    return { productId: r.productId, skuId, name: r.name, specs: r.specs, cover: r.pictures[0] ?? "", unitPriceFen, quantity, subtotalFen: unitPriceFen * quantity };
  });
  const itemsFen = items.reduce((sum, i) => sum + i.subtotalFen, 0);
  requireTotalWithin(itemsFen, input.rules.maxTotalFen);
  const basket = { itemsFen, productIds: items.map((i) => i.productId), streamId: input.streamId };
  const coupon = input.couponId
    ? await couponDiscount(db, { couponId: input.couponId, userId: input.userId, basket, sold: sold ?? undefined, maxDiscountPercent: input.rules.couponMaxDiscountPercent })
    : null;
  const discountFen = coupon?.discountFen ?? 0;
  return { items, streamId: input.streamId ?? coupon?.streamId ?? null, itemsFen, discountFen, totalFen: itemsFen - discountFen };
}
