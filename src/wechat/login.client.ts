import { z } from "zod";
import { AppError } from "../protocol/errors.js";
import type { LoginCredentials } from "./credentials.js";

const Session = z.object({ openid: z.string().min(1), session_key: z.string().min(1), unionid: z.string().optional() });
const WxError = z.object({ errcode: z.number(), errmsg: z.string().optional() });

/** Code errors the user can fix by calling wx.login again. */
const CODE_ERRORS = new Set([40029, 40163, 40226]);

export interface WechatSession {
  openid: string;
  unionid: string | null;
  sessionKey: string;
}

/**
 * `wx.login` code → jscode2session, against `apiBase()` (WeChat, or the sandbox in development).
 * The same code speaks to both.
 */
export function createWechatLogin(opts: { apiBase: () => string; credentials: LoginCredentials; timeoutMs?: number }) {
  return {
    async code2Session(code: string): Promise<WechatSession> {
      const url = new URL(`${opts.apiBase()}/sns/jscode2session`);
      url.searchParams.set("appid", opts.credentials.appId);
      url.searchParams.set("secret", opts.credentials.secret);
      url.searchParams.set("js_code", code);
      url.searchParams.set("grant_type", "authorization_code");
      let body: unknown;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
        body = await res.json();
      } catch {
        throw new AppError("UPSTREAM_UNAVAILABLE");
      }
      const ok = Session.safeParse(body);
      if (ok.success) return { openid: ok.data.openid, unionid: ok.data.unionid ?? null, sessionKey: ok.data.session_key };
      const err = WxError.safeParse(body);
      if (err.success && CODE_ERRORS.has(err.data.errcode)) throw new AppError("LOGIN_CODE_INVALID");
      throw new AppError("UPSTREAM_UNAVAILABLE", `WeChat login failed${err.success ? ` (errcode ${err.data.errcode})` : ""}.`);
    },
  };
}

export type WechatLogin = ReturnType<typeof createWechatLogin>;
