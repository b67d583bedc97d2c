import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { encryptResource, responseMessage, sign } from "../../src/wechat/pay.crypto.js";
import { testAddress, type HttpClient } from "./http.js";

/** The sandbox's generated credentials, read from the database (tests act as WeChat with them). */
export async function sandboxSecrets(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ name: string; value: Record<string, string> }[]>`select name, value from dev_credentials`;
    const pay = rows.find((r) => r.name === "wechat-pay")!.value;
    const login = rows.find((r) => r.name === "wechat-login")!.value;
    return { ...pay, appId: login.appId! } as Record<string, string> & { appId: string };
  } finally {
    await sql.end();
  }
}

/** Production-shaped WeChat Pay settings with throwaway key files (for starting a production node). */
export function productionWechatEnv() {
  const dir = mkdtempSync(join(tmpdir(), "pinlive-keys-"));
  const pair = () => generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  const merchant = pair();
  const platform = pair();
  writeFileSync(join(dir, "apiclient_key.pem"), merchant.privateKey);
  writeFileSync(join(dir, "pub_key.pem"), platform.publicKey);
  return {
    WECHAT_APPID: "wx0000000000000000",
    WECHAT_SECRET: "not-used-here",
    PUBLIC_BASE_URL: "https://shop.pinlive.test",
    WECHATPAY_MCHID: "1900000001",
    WECHATPAY_MERCHANT_SERIAL: "0123456789ABCDEF",
    WECHATPAY_PRIVATE_KEY_FILE: join(dir, "apiclient_key.pem"),
    WECHATPAY_APIV3_KEY: "0123456789abcdef0123456789abcdef",
    WECHATPAY_PLATFORM_KEY_ID: "PUB_KEY_ID_0000000000000001",
    WECHATPAY_PLATFORM_PUBLIC_KEY_FILE: join(dir, "pub_key.pem"),
  };
}

/** wx.login in the sandbox, then our login, then an address: a user who can order and pay. */
export async function wechatUser(call: HttpClient, nickname = "Mei") {
  const { code } = (await call<{ code: string }>("POST", "/sandbox/wechat/login-code", { body: {} })).body;
  const login = (await call<{ token: string; user: { id: string } }>("POST", "/v1/auth/login", { body: { code, nickname } })).body;
  const addr = (await call<{ id: string }>("POST", "/v1/addresses", { token: login.token, body: testAddress })).body;
  return { token: login.token, userId: login.user.id, addressId: addr.id };
}

/** What the mini program does with wx.requestPayment's parameters: the buyer pays in the sandbox. */
export async function payInSandbox(call: HttpClient, params: Record<string, unknown>, notifyDelayMs = 0) {
  return (await call<{ errMsg: string }>("POST", "/sandbox/wechat/pay", { body: { ...params, notifyDelayMs } })).body.errMsg;
}

/** A forger's choices: another signing key, serial, timestamp or signature, or the resource encrypted under another APIv3 key. */
export type NotificationOptions = { key?: string; serial?: string; timestamp?: number; signature?: string; apiV3Key?: string };

/** A notification as WeChat Pay would send it (event and resource), signed with the sandbox's platform key unless `opts` says otherwise. */
export function signedNotification(
  secrets: Awaited<ReturnType<typeof sandboxSecrets>>,
  eventType: string,
  originalType: string,
  resource: unknown,
  opts: NotificationOptions = {},
) {
  const body = JSON.stringify({
    id: `evt-${Math.random()}`,
    create_time: new Date().toISOString(),
    resource_type: "encrypt-resource",
    event_type: eventType,
    summary: "通知",
    resource: encryptResource(opts.apiV3Key ?? secrets.apiV3Key!, JSON.stringify(resource), originalType, originalType),
  });
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonceStr = "N0NCE";
  const signature = opts.signature ?? sign(opts.key ?? secrets.platformPrivateKey!, responseMessage(timestamp, nonceStr, body));
  return {
    body,
    headers: {
      "content-type": "application/json",
      "wechatpay-timestamp": timestamp,
      "wechatpay-nonce": nonceStr,
      "wechatpay-signature": signature,
      "wechatpay-serial": opts.serial ?? secrets.platformKeyId!,
    },
  };
}

/** A TRANSACTION.SUCCESS resource as WeChat Pay sends it for a JSAPI payment of `totalFen` for the order. */
export function transactionResource(secrets: Awaited<ReturnType<typeof sandboxSecrets>>, orderId: string, totalFen: number) {
  return {
    appid: secrets.appId,
    mchid: secrets.mchid,
    out_trade_no: orderId,
    transaction_id: `4200${Date.now()}`,
    trade_type: "JSAPI",
    trade_state: "SUCCESS",
    success_time: new Date().toISOString(),
    payer: { openid: "o-test" },
    amount: { total: totalFen, payer_total: totalFen, currency: "CNY" },
  };
}
