import { z } from "zod";
import { AppError } from "../protocol/errors.js";
import type { PayCredentials } from "./credentials.js";
import {
  SIGNTEST_PREFIX,
  authorizationHeader,
  decryptResource,
  nonce,
  paySignMessage,
  responseMessage,
  sign,
  unixSeconds,
  verify,
} from "./pay.crypto.js";

/** Notifications and responses older or newer than this are refused (replay window). */
export const TIMESTAMP_WINDOW_SEC = 300;

const Notification = z.object({
  id: z.string(),
  create_time: z.string(),
  event_type: z.string(),
  resource_type: z.literal("encrypt-resource"),
  resource: z.object({
    algorithm: z.literal("AEAD_AES_256_GCM"),
    ciphertext: z.string(),
    associated_data: z.string().optional(),
    nonce: z.string(),
    original_type: z.string(),
  }),
  summary: z.string().optional(),
});

export const Transaction = z.object({
  appid: z.string(),
  mchid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.string().optional(),
  trade_state: z.enum(["SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR"]),
  success_time: z.string().optional(),
  payer: z.object({ openid: z.string() }).optional(),
  amount: z.object({ total: z.number().int().optional(), payer_total: z.number().int().optional(), currency: z.string().optional() }).optional(),
});
export type Transaction = z.infer<typeof Transaction>;

export const Refund = z.object({
  refund_id: z.string(),
  out_refund_no: z.string(),
  out_trade_no: z.string().optional(),
  status: z.enum(["SUCCESS", "CLOSED", "PROCESSING", "ABNORMAL"]),
  amount: z.object({ refund: z.number().int(), total: z.number().int() }).loose(),
});

export const RefundNotice = z.object({
  mchid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.string().optional(),
  out_refund_no: z.string(),
  refund_id: z.string(),
  refund_status: z.enum(["SUCCESS", "CLOSED", "ABNORMAL"]),
  amount: z.object({ refund: z.number().int(), total: z.number().int() }).loose(),
});

export type NotifyHeaders = Record<string, string | undefined>;

/**
 * Our WeChat Pay API v3 client (JSAPI, for mini programs). Every request is signed with the
 * merchant key; every response and notification is checked against WeChat Pay's public key. The
 * same code talks to WeChat and to the sandbox; only `apiBase` and the credentials differ.
 */
export function createPayClient(opts: { apiBase: () => string; credentials: PayCredentials; timeoutMs?: number }) {
  const c = opts.credentials;

  /** Checks the four Wechatpay-* headers and the signature over the raw body. Throws AUTH_FAILED. */
  function verifySigned(headers: NotifyHeaders, rawBody: string) {
    const timestamp = headers["wechatpay-timestamp"];
    const nonceStr = headers["wechatpay-nonce"];
    const signature = headers["wechatpay-signature"];
    const serial = headers["wechatpay-serial"];
    if (!timestamp || !nonceStr || !signature || !serial) throw new AppError("AUTH_FAILED", "Missing Wechatpay-* headers.");
    if (signature.startsWith(SIGNTEST_PREFIX)) throw new AppError("AUTH_FAILED", "Signature probe refused.");
    if (!/^\d{1,12}$/.test(timestamp)) throw new AppError("AUTH_FAILED", "Malformed Wechatpay-Timestamp.");
    const skewSec = Math.round(Date.now() / 1000 - Number(timestamp));
    if (Math.abs(skewSec) > TIMESTAMP_WINDOW_SEC) {
      // A replay, or this node's clock is off: every genuine notification would then be refused too, so say which way and by how much.
      const way = skewSec > 0 ? "behind" : "ahead of";
      throw new AppError("AUTH_FAILED", `Timestamp ${Math.abs(skewSec)} s ${way} this node's clock (window ${TIMESTAMP_WINDOW_SEC} s): a replay, or a clock that is off.`, { skewSec });
    }
    const key = c.platformKeys[serial];
    if (!key) throw new AppError("AUTH_FAILED", "Unknown Wechatpay-Serial.");
    if (!verify(key, responseMessage(timestamp, nonceStr, rawBody), signature)) throw new AppError("AUTH_FAILED", "Bad signature.");
  }

  async function call<T extends z.ZodType>(method: "GET" | "POST", path: string, body: unknown, schema: T | null): Promise<z.infer<T> | null> {
    const text = body === undefined ? "" : JSON.stringify(body);
    const url = new URL(`${opts.apiBase()}${path}`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: authorizationHeader({
            mchid: c.mchid,
            serialNo: c.merchantSerial,
            privateKey: c.merchantPrivateKey,
            method,
            pathWithQuery: `${new URL(path, "http://x").pathname}${new URL(path, "http://x").search}`,
            body: text,
          }),
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : text,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
      });
    } catch {
      throw new AppError("UPSTREAM_UNAVAILABLE", "WeChat Pay did not answer.");
    }
    const raw = await res.text();
    const headers = Object.fromEntries(res.headers.entries());
    let json: unknown = null;
    try {
      json = raw ? (JSON.parse(raw) as unknown) : null;
    } catch {
      json = null;
    }
    if (res.status < 200 || res.status >= 300) {
      // Error answers (and gateway errors) may be unsigned; they are failures either way.
      const code = (json as { code?: string } | null)?.code ?? String(res.status);
      throw Object.assign(new AppError("UPSTREAM_UNAVAILABLE", `WeChat Pay refused: ${code}.`), { wechatCode: code, httpStatus: res.status });
    }
    try {
      verifySigned(headers, raw);
    } catch {
      throw new AppError("UPSTREAM_UNAVAILABLE", "WeChat Pay's answer did not verify.");
    }
    if (res.status === 204) return null;
    if (res.status !== 200) throw Object.assign(new AppError("UPSTREAM_UNAVAILABLE", `WeChat Pay answered ${res.status}.`), { httpStatus: res.status });
    if (!schema) return null;
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new AppError("UPSTREAM_UNAVAILABLE", "WeChat Pay answered in an unexpected shape.");
    return parsed.data;
  }

  return {
    mchid: c.mchid,
    appId: c.appId,

    async prepayJsapi(input: { description: string; outTradeNo: string; amountFen: number; openid: string; notifyUrl: string; timeExpire?: Date }) {
      const out = await call(
        "POST",
        "/v3/pay/transactions/jsapi",
        {
          appid: c.appId,
          mchid: c.mchid,
          description: input.description.slice(0, 127),
          out_trade_no: input.outTradeNo,
          notify_url: input.notifyUrl,
          ...(input.timeExpire ? { time_expire: input.timeExpire.toISOString().replace(/\.\d{3}Z$/, "+00:00") } : {}),
          amount: { total: input.amountFen, currency: "CNY" },
          payer: { openid: input.openid },
        },
        z.object({ prepay_id: z.string() }),
      );
      return out!.prepay_id;
    },

    /** The parameters the mini program passes to wx.requestPayment, signed with the merchant key. */
    requestPaymentParams(prepayId: string) {
      const timeStamp = unixSeconds();
      const nonceStr = nonce();
      const pkg = `prepay_id=${prepayId}`;
      return { timeStamp, nonceStr, package: pkg, signType: "RSA" as const, paySign: sign(c.merchantPrivateKey, paySignMessage(c.appId, timeStamp, nonceStr, pkg)) };
    },

    async query(outTradeNo: string) {
      return (await call("GET", `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}?mchid=${c.mchid}`, undefined, Transaction))!;
    },

    async close(outTradeNo: string) {
      await call("POST", `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`, { mchid: c.mchid }, null);
    },

    async refund(input: { outTradeNo: string; outRefundNo: string; refundFen: number; totalFen: number; reason: string; notifyUrl: string }) {
      return (await call(
        "POST",
        "/v3/refund/domestic/refunds",
        {
          out_trade_no: input.outTradeNo,
          out_refund_no: input.outRefundNo,
          reason: input.reason.slice(0, 80),
          notify_url: input.notifyUrl,
          amount: { refund: input.refundFen, total: input.totalFen, currency: "CNY" },
        },
        Refund,
      ))!;
    },

    /**
     * A notification, checked and opened: headers and signature over the raw body, then the
     * resource decrypted. Throws AUTH_FAILED (signature) or INVALID_PARAMS (shape, decryption).
     */
    openNotification(headers: NotifyHeaders, rawBody: string) {
      verifySigned(headers, rawBody);
      let envelope: z.infer<typeof Notification>;
      try {
        envelope = Notification.parse(JSON.parse(rawBody));
      } catch {
        throw new AppError("INVALID_PARAMS", "Not a WeChat Pay notification.");
      }
      let plaintext: string;
      try {
        plaintext = decryptResource(c.apiV3Key, envelope.resource);
      } catch {
        throw new AppError("INVALID_PARAMS", "The resource does not decrypt.");
      }
      return { eventType: envelope.event_type, id: envelope.id, resource: JSON.parse(plaintext) as unknown };
    },
  };
}

export type PayClient = ReturnType<typeof createPayClient>;
