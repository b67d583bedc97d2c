import { randomBytes } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client.js";
import { sandboxRefunds, sandboxTransactions } from "../../db/payments.schema.js";
import type { Logger } from "../../log.js";
import type { RequestContext, Router } from "../../uws/router.js";
import type { HandlerResult } from "../../uws/response.js";
import type { PayCredentials, SandboxPaySecrets } from "../credentials.js";
import { encryptResource, nonce, parseAuthorization, paySignMessage, requestMessage, responseMessage, sign, unixSeconds, verify } from "../pay.crypto.js";
import { TIMESTAMP_WINDOW_SEC } from "../pay.client.js";

const BASE = "/sandbox/wechat";
/** WeChat retries a notification on any non-2xx answer; the sandbox does the same, faster. */
export const NOTIFY_RETRY_DELAYS_MS = [0, 250, 1000, 3000, 10_000, 30_000];
const REFUND_SETTLE_MS = 100;

const Prepay = z.object({
  appid: z.string(),
  mchid: z.string(),
  description: z.string().min(1).max(127),
  out_trade_no: z.string().regex(/^[A-Za-z0-9_*|-]{6,32}$/),
  notify_url: z.url(),
  amount: z.object({ total: z.number().int().min(1), currency: z.literal("CNY").default("CNY") }),
  payer: z.object({ openid: z.string().min(1) }),
  time_expire: z.string().optional(),
});
const RefundRequest = z.object({
  out_trade_no: z.string(),
  out_refund_no: z.string().regex(/^[A-Za-z0-9_*@|-]{1,64}$/),
  reason: z.string().max(80).optional(),
  notify_url: z.url(),
  amount: z.object({ refund: z.number().int().min(1), total: z.number().int().min(1), currency: z.literal("CNY") }),
});
const PayRequest = z.object({
  timeStamp: z.string(),
  nonceStr: z.string(),
  package: z.string().regex(/^prepay_id=/),
  signType: z.literal("RSA"),
  paySign: z.string(),
  /** Sandbox-only test control: hold the notification back this long (a slow WeChat). */
  notifyDelayMs: z.number().int().min(0).max(60_000).default(0),
});

type Tx = typeof sandboxTransactions.$inferSelect;

/**
 * The sandbox's WeChat Pay API v3: JSAPI prepay, query, close, refunds, and the user's side of
 * wx.requestPayment (`POST /sandbox/wechat/pay`). Requests must be signed with the merchant key;
 * answers and notifications are signed with the platform key and resources encrypted with the
 * APIv3 key, exactly as WeChat Pay does. State is in the database so every node sees it.
 */
export function paySandboxRoutes(router: Router, deps: { db: Db; log: Logger; pay: PayCredentials; secrets: SandboxPaySecrets; latencyMs?: number }) {
  const { db, pay, secrets } = deps;
  const log = deps.log.child({ part: "wechat-sandbox" });

  function signed(status: number, body?: unknown): HandlerResult {
    const text = body === undefined ? "" : JSON.stringify(body);
    const timestamp = unixSeconds();
    const nonceStr = nonce();
    return {
      status,
      body: body === undefined ? undefined : text,
      headers: {
        "wechatpay-timestamp": timestamp,
        "wechatpay-nonce": nonceStr,
        "wechatpay-serial": secrets.platformKeyId,
        "wechatpay-signature": sign(secrets.platformPrivateKey, responseMessage(timestamp, nonceStr, text)),
        "wechatpay-signature-type": "WECHATPAY2-SHA256-RSA2048",
        "request-id": randomBytes(8).toString("hex"),
      },
    };
  }
  const fail = (status: number, code: string, message: string) => signed(status, { code, message });

  /** Until when the merchant API answers SYSTEM_ERROR (an outage at WeChat; this node only). */
  let outageUntil = 0;

  /** The merchant's signature over the request, as WeChat Pay checks it. */
  async function authenticate(ctx: RequestContext, pathPrefixLength: number): Promise<HandlerResult | null> {
    if (deps.latencyMs) await new Promise((r) => setTimeout(r, deps.latencyMs));
    if (Date.now() < outageUntil) return fail(500, "SYSTEM_ERROR", "系统错误");
    const a = parseAuthorization(ctx.headers.authorization);
    if (!a) return fail(401, "SIGN_ERROR", "missing or malformed Authorization");
    if (a.mchid !== pay.mchid) return fail(401, "SIGN_ERROR", "mchid mismatch");
    if (a.serial_no !== pay.merchantSerial) return fail(401, "SIGN_ERROR", "unknown merchant serial");
    if (Math.abs(Date.now() / 1000 - Number(a.timestamp)) > TIMESTAMP_WINDOW_SEC) return fail(401, "SIGN_ERROR", "timestamp expired");
    const query = ctx.query.toString();
    const path = ctx.path.slice(pathPrefixLength) + (query ? `?${query}` : "");
    if (!verify(secrets.merchantPublicKey, requestMessage(ctx.method, path, a.timestamp, a.nonce_str, ctx.rawBody), a.signature)) {
      return fail(401, "SIGN_ERROR", "signature does not verify");
    }
    return null;
  }

  const transactionJson = (t: Tx) => ({
    appid: t.appid,
    mchid: t.mchid,
    out_trade_no: t.outTradeNo,
    transaction_id: t.transactionId ?? undefined,
    trade_type: "JSAPI",
    trade_state: t.state,
    trade_state_desc: t.state === "SUCCESS" ? "支付成功" : t.state,
    bank_type: "OTHERS",
    success_time: t.successTime ? t.successTime.toISOString().replace(/\.\d{3}Z$/, "+00:00") : undefined,
    payer: { openid: t.openid },
    amount: { total: t.amountFen, payer_total: t.amountFen, currency: "CNY", payer_currency: "CNY" },
  });

  /** Delivers a signed, encrypted notification, retrying like WeChat until a 2xx or out of tries. */
  function notify(url: string, eventType: string, summary: string, originalType: string, resource: unknown, attempt = 0, firstDelayMs = 0) {
    const delay = attempt === 0 ? firstDelayMs : NOTIFY_RETRY_DELAYS_MS[attempt];
    if (delay === undefined) {
      log.warn({ url, eventType }, "notification given up");
      return;
    }
    setTimeout(() => {
      const body = JSON.stringify({
        id: randomBytes(16).toString("hex"),
        create_time: new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00"),
        resource_type: "encrypt-resource",
        event_type: eventType,
        summary,
        resource: encryptResource(pay.apiV3Key, JSON.stringify(resource), originalType, originalType),
      });
      const timestamp = unixSeconds();
      const nonceStr = nonce();
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "wechatpay-timestamp": timestamp,
          "wechatpay-nonce": nonceStr,
          "wechatpay-serial": secrets.platformKeyId,
          "wechatpay-signature": sign(secrets.platformPrivateKey, responseMessage(timestamp, nonceStr, body)),
          "wechatpay-signature-type": "WECHATPAY2-SHA256-RSA2048",
        },
        body,
        signal: AbortSignal.timeout(5000),
      }).then(
        (res) => {
          if (res.status < 200 || res.status >= 300) notify(url, eventType, summary, originalType, resource, attempt + 1);
        },
        () => notify(url, eventType, summary, originalType, resource, attempt + 1),
      );
    }, delay).unref();
  }

  router.post(`${BASE}/v3/pay/transactions/jsapi`, async (ctx) => {
    const denied = await authenticate(ctx, BASE.length);
    if (denied) return denied;
    const parsed = Prepay.safeParse(ctx.body);
    if (!parsed.success) return fail(400, "PARAM_ERROR", parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
    const p = parsed.data;
    if (p.appid !== pay.appId || p.mchid !== pay.mchid) return fail(400, "APPID_MCHID_NOT_MATCH", "appid and mchid do not match");
    await db
      .insert(sandboxTransactions)
      .values({
        outTradeNo: p.out_trade_no,
        mchid: p.mchid,
        appid: p.appid,
        description: p.description,
        amountFen: p.amount.total,
        openid: p.payer.openid,
        notifyUrl: p.notify_url,
        prepayId: `wx${Date.now().toString(36)}${randomBytes(12).toString("hex")}`,
        state: "NOTPAY",
      })
      .onConflictDoNothing();
    const [t] = await db.select().from(sandboxTransactions).where(eq(sandboxTransactions.outTradeNo, p.out_trade_no));
    if (t!.amountFen !== p.amount.total || t!.openid !== p.payer.openid) return fail(400, "INVALID_REQUEST", "out_trade_no reused with other parameters");
    if (t!.state !== "NOTPAY") return fail(400, t!.state === "CLOSED" ? "ORDER_CLOSED" : "ORDERPAID", `order is ${t!.state}`);
    return signed(200, { prepay_id: t!.prepayId });
  });

  router.get(`${BASE}/v3/pay/transactions/out-trade-no/:no`, async (ctx) => {
    const denied = await authenticate(ctx, BASE.length);
    if (denied) return denied;
    const [t] = await db.select().from(sandboxTransactions).where(eq(sandboxTransactions.outTradeNo, ctx.params[0]!));
    if (!t || ctx.query.get("mchid") !== pay.mchid) return fail(404, "ORDER_NOT_EXIST", "no such order");
    return signed(200, transactionJson(t));
  });

  router.post(`${BASE}/v3/pay/transactions/out-trade-no/:no/close`, async (ctx) => {
    const denied = await authenticate(ctx, BASE.length);
    if (denied) return denied;
    const no = ctx.params[0]!;
    const closed = await db
      .update(sandboxTransactions)
      .set({ state: "CLOSED" })
      .where(and(eq(sandboxTransactions.outTradeNo, no), eq(sandboxTransactions.state, "NOTPAY")))
      .returning({ no: sandboxTransactions.outTradeNo });
    if (closed.length > 0) return signed(204);
    const [t] = await db.select().from(sandboxTransactions).where(eq(sandboxTransactions.outTradeNo, no));
    if (!t) return fail(404, "ORDER_NOT_EXIST", "no such order");
    if (t.state === "CLOSED") return signed(204);
    return fail(400, "ORDERPAID", "order already paid");
  });

  router.post(`${BASE}/v3/refund/domestic/refunds`, async (ctx) => {
    const denied = await authenticate(ctx, BASE.length);
    if (denied) return denied;
    const parsed = RefundRequest.safeParse(ctx.body);
    if (!parsed.success) return fail(400, "PARAM_ERROR", parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
    const r = parsed.data;
    const [t] = await db.select().from(sandboxTransactions).where(eq(sandboxTransactions.outTradeNo, r.out_trade_no));
    if (!t) return fail(404, "RESOURCE_NOT_EXISTS", "no such order");
    if (t.state !== "SUCCESS" && t.state !== "REFUND") return fail(400, "INVALID_REQUEST", "order not paid");
    if (r.amount.total !== t.amountFen) return fail(400, "PARAM_ERROR", "amount.total differs from the order");
    const [existing] = await db.select().from(sandboxRefunds).where(eq(sandboxRefunds.outRefundNo, r.out_refund_no));
    if (existing) {
      if (existing.amountFen !== r.amount.refund || existing.outTradeNo !== r.out_trade_no) return fail(400, "INVALID_REQUEST", "out_refund_no reused");
      // WeChat settles a refund whatever happens to us: one whose timer died with its node settles when asked about.
      if (existing.status === "PROCESSING" && Date.now() - existing.createdAt.getTime() > REFUND_SETTLE_MS) {
        await settleRefund(existing.outRefundNo, t);
        const [settled] = await db.select().from(sandboxRefunds).where(eq(sandboxRefunds.outRefundNo, r.out_refund_no));
        return signed(200, refundJson(settled!, t.amountFen));
      }
      return signed(200, refundJson(existing, t.amountFen));
    }
    const [{ refunded } = { refunded: "0" }] = await db
      .select({ refunded: sql<string>`coalesce(sum(${sandboxRefunds.amountFen}), 0)` })
      .from(sandboxRefunds)
      .where(eq(sandboxRefunds.outTradeNo, r.out_trade_no));
    if (Number(refunded) + r.amount.refund > t.amountFen) return fail(403, "NOT_ENOUGH", "refund exceeds what is left");
    const refund = {
      outRefundNo: r.out_refund_no,
      refundId: `50${Date.now()}${randomBytes(4).toString("hex")}`,
      outTradeNo: r.out_trade_no,
      amountFen: r.amount.refund,
      status: "PROCESSING" as const,
      notifyUrl: r.notify_url,
    };
    const inserted = await db.insert(sandboxRefunds).values(refund).onConflictDoNothing().returning();
    const row = inserted[0] ?? (await db.select().from(sandboxRefunds).where(eq(sandboxRefunds.outRefundNo, r.out_refund_no)))[0]!;
    if (inserted.length > 0) {
      setTimeout(() => void settleRefund(row.outRefundNo, t), REFUND_SETTLE_MS).unref();
    }
    return signed(200, refundJson(row, t.amountFen));
  });

  const refundJson = (r: typeof sandboxRefunds.$inferSelect, total: number) => ({
    refund_id: r.refundId,
    out_refund_no: r.outRefundNo,
    out_trade_no: r.outTradeNo,
    channel: "ORIGINAL",
    status: r.status,
    create_time: r.createdAt.toISOString().replace(/\.\d{3}Z$/, "+00:00"),
    amount: { refund: r.amountFen, total, payer_refund: r.amountFen, payer_total: total, currency: "CNY" },
  });

  async function settleRefund(outRefundNo: string, t: Tx) {
    try {
      const [r] = await db
        .update(sandboxRefunds)
        .set({ status: "SUCCESS" })
        .where(and(eq(sandboxRefunds.outRefundNo, outRefundNo), eq(sandboxRefunds.status, "PROCESSING")))
        .returning();
      if (!r) return;
      await db.update(sandboxTransactions).set({ state: "REFUND" }).where(eq(sandboxTransactions.outTradeNo, t.outTradeNo));
      notify(r.notifyUrl, "REFUND.SUCCESS", "退款成功", "refund", {
        mchid: t.mchid,
        out_trade_no: t.outTradeNo,
        transaction_id: t.transactionId,
        out_refund_no: r.outRefundNo,
        refund_id: r.refundId,
        refund_status: "SUCCESS",
        success_time: new Date().toISOString().replace(/\.\d{3}Z$/, "+00:00"),
        user_received_account: "支付用户零钱",
        amount: { total: t.amountFen, refund: r.amountFen, payer_total: t.amountFen, payer_refund: r.amountFen },
      });
    } catch (err) {
      log.error({ err }, "refund settle failed");
    }
  }

  // Sandbox-only test control: WeChat Pay's merchant API is down for a while (the user's side still pays).
  router.post(`${BASE}/outage`, (ctx) => {
    const parsed = z.object({ durationMs: z.number().int().min(0).max(10 * 60_000) }).safeParse(ctx.body);
    if (!parsed.success) return { status: 400, body: { code: "INVALID_PARAMS", message: "durationMs: 0 to 600000" } };
    outageUntil = Date.now() + parsed.data.durationMs;
    return { status: 200, body: { until: outageUntil } };
  });

  // The user's side: what WeChat does when the mini program calls wx.requestPayment with these params.
  router.post(`${BASE}/pay`, async (ctx) => {
    const parsed = PayRequest.safeParse(ctx.body);
    if (!parsed.success) return { status: 400, body: { errMsg: "requestPayment:fail invalid params" } };
    const p = parsed.data;
    if (!verify(secrets.merchantPublicKey, paySignMessage(pay.appId, p.timeStamp, p.nonceStr, p.package), p.paySign)) {
      return { status: 400, body: { errMsg: "requestPayment:fail paySign error" } };
    }
    const prepayId = p.package.slice("prepay_id=".length);
    const [paid] = await db
      .update(sandboxTransactions)
      .set({ state: "SUCCESS", transactionId: `42${Date.now()}${randomBytes(5).toString("hex")}`, successTime: new Date() })
      .where(and(eq(sandboxTransactions.prepayId, prepayId), eq(sandboxTransactions.state, "NOTPAY")))
      .returning();
    if (!paid) return { status: 400, body: { errMsg: "requestPayment:fail order is not payable" } };
    notify(paid.notifyUrl, "TRANSACTION.SUCCESS", "支付成功", "transaction", transactionJson(paid), 0, p.notifyDelayMs);
    return { status: 200, body: { errMsg: "requestPayment:ok" } };
  });
}
