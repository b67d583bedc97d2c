import { call } from "./http";
import { ROUTES } from "./paths";
import type { Order, OrderStatus, Page, Refund } from "./types";

export interface OrderFilter {
  status?: OrderStatus;
  streamId?: string;
  page?: number;
  pageSize?: number;
}

export const adminOrders = (filter: OrderFilter) => call<Page<Order>>(ROUTES.adminOrders, {}, { query: { ...filter } });
export const shipOrder = (id: string, courier: string, trackingNo: string) => call<Order>(ROUTES.shipOrder, { id }, { body: { courier, trackingNo } });
/** `idempotencyKey` is kept by the dialog, so retrying the same refund never refunds twice. */
export const refundOrder = (id: string, amountFen: number, reason: string, idempotencyKey: string) =>
  call<Refund>(ROUTES.refundOrder, { id }, { body: { amountFen, reason }, idempotencyKey });
