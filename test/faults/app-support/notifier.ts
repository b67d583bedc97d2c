// WeChat Pay's side of a payment, played by a case: the transaction resource it notifies, signed
// (or forged) notifications to a node's notify URL, posted as WeChat would.
import { randomBytes } from "node:crypto";
import { signedNotification, type NotificationOptions, type sandboxSecrets } from "../../support/wechat.js";

export type Notification = ReturnType<typeof signedNotification>;

/** Notifications to `baseUrl`'s /v1/pay/notify, with the sandbox's credentials (`secrets`). */
export function wechatPayNotifier(baseUrl: string, secrets: Awaited<ReturnType<typeof sandboxSecrets>>) {
  const transaction = (orderId: string, totalFen: number, over: Record<string, unknown> = {}) => ({
    appid: secrets.appId,
    mchid: secrets.mchid,
    out_trade_no: orderId,
    transaction_id: `4200${Date.now()}${randomBytes(3).toString("hex")}`,
    trade_type: "JSAPI",
    trade_state: "SUCCESS",
    success_time: new Date().toISOString(),
    payer: { openid: "o-test" },
    amount: { total: totalFen, payer_total: totalFen, currency: "CNY" },
    ...over,
  });
  return {
    transaction,
    /** TRANSACTION.SUCCESS for `orderId`, its transaction's fields overridable. */
    paid: (orderId: string, totalFen: number, opts: NotificationOptions = {}, over: Record<string, unknown> = {}) =>
      signedNotification(secrets, "TRANSACTION.SUCCESS", "transaction", transaction(orderId, totalFen, over), opts),
    signed: (eventType: string, originalType: string, resource: unknown, opts: NotificationOptions = {}) => signedNotification(secrets, eventType, originalType, resource, opts),
    /** POSTs to /v1/pay/notify (the body or headers may be swapped for forged ones). */
    async post(n: Notification, body = n.body, headers: Record<string, string> = n.headers) {
      const res = await fetch(`${baseUrl}/v1/pay/notify`, { method: "POST", headers, body });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as { code?: string; message?: string }) : null };
    },
  };
}
