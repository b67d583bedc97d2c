import { z } from "zod";
import type { Logger } from "../log.js";
import type { Payments } from "../payments/payments.service.js";
import { asAppError } from "../unavailable.js";
import type { Api } from "./api.js";
import type { Router } from "../uws/router.js";

const IdParams = z.object({ id: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) });
/** The object the mini program spreads into wx.requestPayment. */
export const PaymentParams = z.object({
  orderId: z.string(),
  timeStamp: z.string(),
  nonceStr: z.string(),
  package: z.string(),
  signType: z.literal("RSA"),
  paySign: z.string(),
});
const RefundInput = z.object({ amountFen: z.number().int().min(1), reason: z.string().trim().min(1).max(80) });
const RefundView = z.object({ outRefundNo: z.string(), orderId: z.string(), amountFen: z.number(), status: z.string(), reason: z.string() });
const SeedCreatePayment = z.object({ orderId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/), paymentMethod: z.literal("wechat").default("wechat") });

/** Paying (JSAPI parameters), refunds, and the two WeChat Pay notification endpoints. */
export function paymentsRoutes(api: Api, router: Router, deps: { payments: Payments; log: Logger }) {
  const { payments } = deps;
  const me = (user: { userId: string } | null) => user!.userId;

  api.route(
    { method: "post", path: "/v1/orders/:id/pay", summary: "wx.requestPayment parameters for an unpaid order", tag: "payments", auth: "user", params: IdParams, response: PaymentParams },
    ({ user, params }) => payments.jsapiParams(me(user), params.id),
  );
  api.route(
    { method: "post", path: "/api/payment/create", summary: "Seed: wx.requestPayment parameters", tag: "seed", auth: "user", body: SeedCreatePayment, response: PaymentParams },
    ({ user, body }) => payments.jsapiParams(me(user), body.orderId),
  );
  api.route(
    {
      method: "post",
      path: "/v1/admin/orders/:id/refund",
      summary: "Refund part or all of a paid order (the Idempotency-Key fixes the out_refund_no)",
      tag: "admin",
      auth: "admin",
      params: IdParams,
      body: RefundInput,
      response: RefundView,
      idempotency: "required",
    },
    async ({ params, body, headers }) => {
      const r = await payments.refund(params.id, body.amountFen, body.reason, headers["idempotency-key"]!);
      return { outRefundNo: r.outRefundNo, orderId: r.orderId, amountFen: r.amountFen, status: r.status, reason: r.reason };
    },
  );

  // WeChat Pay posts here. 204 when applied (or already applied); any other answer makes it send the
  // notification again, so a refusal is 4xx {code:"FAIL"}, and PostgreSQL or Redis away is 503 UNAVAILABLE.
  for (const path of ["/v1/pay/notify", "/v1/pay/refund-notify"]) {
    router.post(path, async (ctx) => {
      try {
        await payments.onNotification(ctx.headers, ctx.rawBody);
        return { status: 204 };
      } catch (err) {
        const known = asAppError(err);
        if (known && known.status >= 500) {
          deps.log.warn({ err, path }, "notification not applied; WeChat Pay sends it again");
          return { status: known.status, body: { code: known.code, message: known.message } };
        }
        if (known) {
          deps.log.warn({ path, reason: known.message }, "notification refused");
          return { status: known.status, body: { code: "FAIL", message: known.message } };
        }
        deps.log.error({ err, path }, "notification failed");
        return { status: 500, body: { code: "FAIL", message: "internal error" } };
      }
    });
  }
}
