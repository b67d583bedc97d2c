import { randomBytes } from "node:crypto";
import type { RedisClient } from "../../redis/connect.js";
import { z } from "zod";
import { parseInput, type Router } from "../../uws/router.js";
import type { RedisKeys } from "../../redis/keys.js";
import type { LoginCredentials } from "../credentials.js";

const CODE_TTL_SEC = 300;
const USED = "used";

/** WeChat's own error numbers for jscode2session. */
export const WX_ERR = {
  INVALID_APPID: 40013,
  INVALID_SECRET: 40125,
  INVALID_CODE: 40029,
  CODE_USED: 40163,
  INVALID_GRANT: 40002,
} as const;

const CodeRequest = z.object({ openid: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/).optional() });

/**
 * The sandbox's half of WeChat login: `POST /sandbox/wechat/login-code` plays `wx.login()` on a
 * phone (a code for an openid, new or given), and `GET /sandbox/wechat/sns/jscode2session` answers
 * exactly as api.weixin.qq.com does: HTTP 200 with `{openid, session_key}` or `{errcode, errmsg}`.
 * Codes live in Redis so any node's sandbox can redeem them, once.
 */
export function loginSandboxRoutes(router: Router, deps: { redis: RedisClient; keys: RedisKeys; credentials: LoginCredentials; latencyMs?: number }) {
  router.post("/sandbox/wechat/login-code", async (ctx) => {
    const input = parseInput(CodeRequest, ctx.body ?? {});
    const openid = input.openid ?? `o${randomBytes(14).toString("base64url")}`;
    const code = randomBytes(16).toString("hex");
    await deps.redis.set(deps.keys.sandbox.loginCode(code), openid, "EX", CODE_TTL_SEC);
    return { status: 201, body: { code, openid } };
  });

  router.get("/sandbox/wechat/sns/jscode2session", async (ctx) => {
    if (deps.latencyMs) await new Promise((r) => setTimeout(r, deps.latencyMs));
    const q = ctx.query;
    const fail = (errcode: number, errmsg: string) => ({ status: 200, body: { errcode, errmsg } });
    if (q.get("appid") !== deps.credentials.appId) return fail(WX_ERR.INVALID_APPID, "invalid appid");
    if (q.get("secret") !== deps.credentials.secret) return fail(WX_ERR.INVALID_SECRET, "invalid appsecret");
    if (q.get("grant_type") !== "authorization_code") return fail(WX_ERR.INVALID_GRANT, "invalid grant_type");
    const code = q.get("js_code") ?? "";
    if (!/^[0-9a-f]{32}$/.test(code)) return fail(WX_ERR.INVALID_CODE, "invalid code");
    const key = deps.keys.sandbox.loginCode(code);
    const openid = await deps.redis.set(key, USED, "KEEPTTL", "GET");
    if (openid === null) {
      await deps.redis.del(key);
      return fail(WX_ERR.INVALID_CODE, "invalid code");
    }
    if (openid === USED) return fail(WX_ERR.CODE_USED, "code been used");
    return { status: 200, body: { openid, session_key: randomBytes(16).toString("base64") } };
  });
}
