import { z } from "zod";
import type { Db } from "../db/client.js";
import { createSession, deleteSession, hashToken, upsertWechatUser } from "../db/users.repo.js";
import { bearerToken } from "../auth/authenticate.js";
import type { Authenticate } from "../auth/identity.js";
import { AppError } from "../protocol/errors.js";
import type { WechatLogin } from "../wechat/login.client.js";
import type { Api } from "./api.js";
import type { RequestContext } from "../uws/router.js";

const LoginInput = z.object({
  code: z.string().min(1).max(128),
  nickname: z.string().trim().min(1).max(40).optional(),
});

const DEFAULT_NICKNAME = "微信用户";

/** The signed-in user of a request, or AUTH_REQUIRED / AUTH_FAILED. */
export async function requireUser(ctx: RequestContext, authenticate: Authenticate) {
  const token = bearerToken(ctx.headers.authorization);
  if (!token) throw new AppError("AUTH_REQUIRED");
  const who = await authenticate(token);
  if (!who) throw new AppError("AUTH_FAILED");
  return { ...who, token };
}

const LoginAnswer = z.object({ token: z.string(), expiresAt: z.string(), user: z.object({ id: z.string(), nickname: z.string(), role: z.enum(["user", "host", "admin"]) }) });

/**
 * Login with a `wx.login` code: jscode2session, then our own opaque session token. WeChat's
 * session_key stays in our database; no response carries it. Staff sign in with a password
 * (`staff.routes.ts`) into the same kind of session; logout and /v1/me (profile.routes.ts) serve both.
 */
export function authRoutes(api: Api, deps: { db: Db; login: WechatLogin; sessionTtlSec: number; sessionEnded?: (tokenHash: string) => Promise<unknown> }) {
  api.route(
    { method: "post", path: "/v1/auth/login", summary: "Sign in with a wx.login code (limited per address before WeChat is asked, and per user)", tag: "auth", auth: "none", body: LoginInput, response: LoginAnswer, rateLimit: "login" },
    async ({ body }) => {
      const wx = await deps.login.code2Session(body.code);
      const user = await upsertWechatUser(deps.db, {
        openid: wx.openid,
        unionid: wx.unionid,
        nickname: body.nickname ?? DEFAULT_NICKNAME,
      });
      api.limit("login", { userId: user.id });
      const session = await createSession(deps.db, user.id, deps.sessionTtlSec, wx.sessionKey);
      return { token: session.token, expiresAt: session.expiresAt.toISOString(), user: { id: user.id, nickname: user.nickname, role: user.role } };
    },
  );

  api.route(
    { method: "post", path: "/v1/auth/logout", summary: "End this session (the token stops working everywhere; its live sockets close with SESSION_ENDED)", tag: "auth", auth: "user", response: z.undefined(), status: 204 },
    async ({ headers }) => {
      const token = bearerToken(headers.authorization)!;
      await deleteSession(deps.db, token);
      await deps.sessionEnded?.(hashToken(token));
      return undefined;
    },
  );
}
