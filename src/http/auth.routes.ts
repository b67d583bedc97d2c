import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { liveStreams } from "../db/schema.js";
import { createSession, deleteSession, upsertWechatUser } from "../db/users.repo.js";
import { bearerToken, type Authenticate } from "../domain/auth.js";
import { AppError } from "../protocol/errors.js";
import type { WechatLogin } from "../wechat/login.client.js";
import { parseInput, type RequestContext, type Router } from "./uws-http.js";

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

/**
 * Login with a `wx.login` code: jscode2session, then our own opaque session token. WeChat's
 * session_key stays in our database; no response carries it.
 */
export function authRoutes(
  router: Router,
  deps: { db: Db; login: WechatLogin; authenticate: Authenticate; sessionTtlSec: number },
) {
  router.post("/v1/auth/login", async (ctx) => {
    const input = parseInput(LoginInput, ctx.body ?? {});
    const wx = await deps.login.code2Session(input.code);
    const user = await upsertWechatUser(deps.db, {
      openid: wx.openid,
      unionid: wx.unionid,
      nickname: input.nickname ?? DEFAULT_NICKNAME,
    });
    const session = await createSession(deps.db, user.id, deps.sessionTtlSec, wx.sessionKey);
    return {
      status: 200,
      body: {
        token: session.token,
        expiresAt: session.expiresAt.toISOString(),
        user: { id: user.id, nickname: user.nickname, role: user.role },
      },
    };
  });

  router.post("/v1/auth/logout", async (ctx) => {
    const who = await requireUser(ctx, deps.authenticate);
    await deleteSession(deps.db, who.token);
    return { status: 204 };
  });

  router.get("/v1/me", async (ctx) => {
    const who = await requireUser(ctx, deps.authenticate);
    const hosted = await deps.db.select({ id: liveStreams.id }).from(liveStreams).where(eq(liveStreams.hostUserId, who.userId));
    return {
      status: 200,
      body: { id: who.userId, nickname: who.username, role: who.admin ? "admin" : "user", hostOf: hosted.map((s) => s.id) },
    };
  });
}
