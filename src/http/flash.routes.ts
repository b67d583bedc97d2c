import { z } from "zod";
import type { Flash } from "../flash/flash.service.js";
import { Order } from "../orders/orders.dto.js";
import { FlashSale } from "../protocol/messages.js";
import type { Api } from "./api.js";

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const IdParams = z.object({ id });
const StartFlash = z.object({
  skuId: id,
  priceFen: z.number().int().min(1).max(100_000_000),
  quantity: z.number().int().min(1).max(1_000_000),
  perUserLimit: z.number().int().min(1).max(100),
  durationSec: z.number().int().min(10).max(24 * 3600).default(600),
});
const BuyFlash = z.object({ quantity: z.number().int().min(1).max(100).default(1), addressId: id });

/** Live flash sales: the host starts and ends them; viewers buy at the live price. */
export function flashRoutes(api: Api, flash: Flash) {
  api.route(
    { method: "post", path: "/v1/streams/:id/flash-sales", summary: "Start a flash sale in my stream", tag: "live", auth: "user", params: IdParams, body: StartFlash, response: FlashSale, status: 201 },
    ({ user, params, body }) => flash.start(user!, params.id, body),
  );
  api.route(
    {
      method: "get",
      path: "/v1/streams/:id/flash-sales",
      summary: "My stream's flash sales, newest first, with units left and sold (paid or held by unpaid orders)",
      tag: "live",
      auth: "user",
      params: IdParams,
      response: z.array(FlashSale.extend({ status: z.enum(["active", "ended"]), sold: z.number().int(), createdAt: z.string() })),
    },
    ({ user, params }) => flash.listOfStream(user!, params.id),
  );
  api.route(
    { method: "post", path: "/v1/flash-sales/:id/end", summary: "End a flash sale", tag: "live", auth: "user", params: IdParams, response: FlashSale },
    ({ user, params }) => flash.end(user!, params.id),
  );
  api.route(
    { method: "get", path: "/v1/flash-sales/:id", summary: "A flash sale and its units left", tag: "live", auth: "public", params: IdParams, response: FlashSale.extend({ status: z.string() }) },
    ({ params }) => flash.get(params.id),
  );
  api.route(
    {
      method: "post",
      path: "/v1/flash-sales/:id/buy",
      summary: "Buy now at the live price (never oversold, per-user limit enforced)",
      tag: "live",
      auth: "user",
      params: IdParams,
      body: BuyFlash,
      response: Order,
      status: 201,
      // The gate remembers each key's answer, and the order's batch writes its Idempotency-Key row.
      idempotency: "handler",
      rateLimit: "orders",
    },
    ({ user, params, body, idempotency }) => flash.buy(user!.userId, params.id, { ...body, request: idempotency! }),
  );
}
