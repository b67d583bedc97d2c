import type { orderItems, orders } from "../db/orders.schema.js";
import type { Order } from "./orders.dto.js";

export type OrderRow = typeof orders.$inferSelect;
export type ItemRow = typeof orderItems.$inferSelect;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An order as every API answer shows it, from its row and its lines. */
export function orderView(o: OrderRow, items: readonly ItemRow[]): Order {
  return {
    id: o.id,
    orderId: o.id,
    status: o.status,
    items: [...items]
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
