import { z } from "zod";
import type { Db } from "../db/client.js";
import { flashSaleReport, groupActivityReport } from "../reports/outcome-reports.js";
import type { Api } from "./api.js";

const IdParams = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) });
const Units = z.object({ orders: z.number(), units: z.number() });

const FlashSaleReport = z.object({
  sale: z.object({
    id: z.string(),
    streamId: z.string(),
    productId: z.string(),
    skuId: z.string(),
    status: z.string(),
    quantity: z.number(),
    /** flash_sales.sold: the sale's own counter. */
    sold: z.number(),
    perUserLimit: z.number(),
    endsAt: z.string(),
  }),
  /** Orders carrying the sale's lines that are not cancelled, and their units; `byStatus` includes cancelled ones. */
  orders: z.object({ count: z.number(), units: z.number(), byStatus: z.record(z.string(), Units) }),
  /** flash_buyers: buyers holding units, their units, the most one buyer holds. */
  buyers: z.object({ count: z.number(), units: z.number(), maxBought: z.number() }),
  skuStock: z.number().nullable(),
  /** Units in live orders above the sale's quantity (0 unless oversold). */
  oversoldUnits: z.number(),
});

const Charge = z.object({
  userId: z.string(),
  /** Orders this user placed in the group (lapsed holds too). */
  orders: z.number(),
  /** Of those, paid ones (charged by WeChat Pay). */
  paidOrders: z.number(),
  chargedFen: z.number(),
  refundedFen: z.number(),
  /** Refunds asked of WeChat Pay and not yet confirmed. */
  refundPendingFen: z.number(),
});
const GroupActivityReport = z.object({
  activity: z.object({ id: z.string(), status: z.string(), flow: z.string(), groupSize: z.number(), groupPriceFen: z.number(), perUserLimit: z.number() }),
  groups: z.array(
    z.object({
      id: z.string(),
      status: z.string(),
      flow: z.string(),
      size: z.number(),
      priceFen: z.number(),
      simulated: z.boolean(),
      leaderUserId: z.string(),
      members: z.number(),
      /** Places held (unpaid, within their hold) or paid. */
      taken: z.number(),
      /** Places paid and not refunded. */
      paid: z.number(),
      charges: z.array(Charge),
    }),
  ),
});

/** Admin read-outs of what a rush left in PostgreSQL, for load tests and operators to judge the outcome. */
export function reportsRoutes(api: Api, db: Db) {
  api.route(
    { method: "get", path: "/v1/admin/flash-sales/:id/report", summary: "A flash sale's records: sold counter, orders and units, buyers, SKU stock", tag: "admin", auth: "admin", params: IdParams, response: FlashSaleReport },
    ({ params }) => flashSaleReport(db, params.id),
  );
  api.route(
    {
      method: "get",
      path: "/v1/admin/group-activities/:id/report",
      summary: "An activity's groups (newest 1,000): places held and paid, and what each member was charged and refunded",
      tag: "admin",
      auth: "admin",
      params: IdParams,
      response: GroupActivityReport,
    },
    ({ params }) => groupActivityReport(db, params.id),
  );
}
