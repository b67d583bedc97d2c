import { z } from "zod";
import { CancelOrder, Order, OrderPage, OrderQuery, PlaceOrder, Quote, QuoteOrder, SeedPlaceOrder, ShipOrder, yuanToFen } from "../orders/orders.dto.js";
import type { Orders } from "../orders/orders.service.js";
import { AppError } from "../protocol/errors.js";
import type { Api } from "./api.js";

const IdParams = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) });

/** Placing, reading, cancelling and fulfilling orders; seed 001's POST /api/orders. */
export function ordersRoutes(api: Api, deps: { orders: Orders; cancel: (userId: string | null, orderId: string, reason: string) => Promise<Order> }) {
  const { orders } = deps;
  const me = (user: { userId: string } | null) => user!.userId;
  const linesOf = (body: { items?: { skuId: string; quantity: number }[] }) => (body.items ? { items: body.items } : { fromCart: true as const });

  api.route(
    {
      method: "post",
      path: "/v1/orders",
      summary: "Place an order (buy now or from the cart); stock is taken now, returned on cancel or timeout",
      tag: "orders",
      auth: "user",
      body: PlaceOrder,
      response: Order,
      status: 201,
      idempotency: "required",
      rateLimit: "orders",
    },
    ({ user, body, headers }) =>
      orders.placeLines(me(user), linesOf(body), {
        addressId: body.addressId,
        expectedTotalFen: body.expectedTotalFen,
        streamId: body.streamId,
        couponId: body.couponId,
        requestKey: headers["idempotency-key"],
      }),
  );
  api.route(
    {
      method: "post",
      path: "/v1/orders/quote",
      summary: "What placing this order would charge now (lines, totals, coupon), with my coupons and what each would take off; takes no stock",
      tag: "orders",
      auth: "user",
      body: QuoteOrder,
      response: Quote,
    },
    ({ user, body }) => orders.quote(me(user), { ...linesOf(body), couponId: body.couponId, streamId: body.streamId }),
  );
  api.route({ method: "get", path: "/v1/orders", summary: "My orders", tag: "orders", auth: "user", query: OrderQuery, response: OrderPage }, ({ user, query }) =>
    orders.list(me(user), query),
  );
  api.route({ method: "get", path: "/v1/orders/:id", summary: "One of my orders", tag: "orders", auth: "user", params: IdParams, response: Order }, ({ user, params }) =>
    orders.get(me(user), params.id),
  );
  api.route(
    { method: "post", path: "/v1/orders/:id/cancel", summary: "Cancel an unpaid order", tag: "orders", auth: "user", params: IdParams, body: CancelOrder, response: Order },
    ({ user, params, body }) => deps.cancel(me(user), params.id, body.reason),
  );
  api.route(
    { method: "post", path: "/v1/orders/:id/confirm", summary: "Confirm receipt of a shipped order", tag: "orders", auth: "user", params: IdParams, response: Order },
    ({ user, params }) => orders.confirm(me(user), params.id),
  );

  api.route({ method: "get", path: "/v1/admin/orders", summary: "All orders (by status, by stream)", tag: "admin", auth: "admin", query: OrderQuery.extend({ streamId: IdParams.shape.id.optional() }), response: OrderPage }, ({ query }) =>
    orders.list(null, query),
  );
  api.route(
    { method: "post", path: "/v1/admin/orders/:id/ship", summary: "Ship a paid order", tag: "admin", auth: "admin", params: IdParams, body: ShipOrder, response: Order },
    ({ params, body }) => orders.ship(params.id, body.courier, body.trackingNo),
  );
  api.route(
    { method: "post", path: "/v1/admin/orders/:id/confirm", summary: "Confirm receipt for the buyer", tag: "admin", auth: "admin", params: IdParams, response: Order },
    ({ params }) => orders.confirm(null, params.id),
  );

  // Seed 001's order page: items are the cart lines it showed, totalAmount its own sum in yuan.
  api.route(
    { method: "post", path: "/api/orders", summary: "Seed: place an order from cart lines", tag: "seed", auth: "user", body: SeedPlaceOrder, response: Order, status: 201, rateLimit: "orders" },
    async ({ user, body, headers }) => {
      const expectedTotalFen = yuanToFen(body.totalAmount);
      if (expectedTotalFen === null) throw new AppError("INVALID_PARAMS", "totalAmount must be an amount in yuan, like \"128.00\".");
      return orders.place(me(user), {
        lines: await orders.seedCartLines(me(user), body.items),
        source: "cart",
        addressId: body.address.id,
        expectedTotalFen,
        streamId: body.streamId,
        requestKey: headers["idempotency-key"],
      });
    },
  );
}
