import { ERRORS } from "@protocol/errors";

/** Staff-facing Chinese text per error code; codes missing here fall back to the protocol's `zh`, then the server's message. */
const STAFF_TEXT: Record<string, string> = {
  LOGIN_FAILED: "用户名或密码错误",
  ACCOUNT_LOCKED: "登录失败次数过多，账号已暂时锁定",
  RATE_LIMITED: "尝试太频繁",
  AUTH_REQUIRED: "请先登录",
  AUTH_FAILED: "登录已过期，请重新登录",
  FORBIDDEN: "403 无权访问：这不是你的直播间或需要管理员权限",
  NOT_FOUND: "内容不存在或已删除",
  STREAM_NOT_FOUND: "直播间不存在",
  INVALID_PARAMS: "填写的内容有误",
  CONFLICT: "与当前状态冲突（例如名称或编号已存在）",
  ORDER_STATE: "订单当前状态不允许此操作",
  OUT_OF_STOCK: "库存不足",
  FLASH_NOT_ACTIVE: "秒杀未在进行中",
  COUPON_GONE: "优惠券已领完或已结束",
  COUPON_TOO_LARGE: "优惠券面额超过本场单张上限",
  COUPON_DROP_LIMIT: "本场优惠券发放已达上限，需要再发请联系管理员调整",
  PAYLOAD_TOO_LARGE: "文件或内容过大",
  UPSTREAM_UNAVAILABLE: "微信支付暂时无响应，请重试",
  INTERNAL: "服务器出错了，请重试",
  UNAVAILABLE: "服务暂不可用，请稍后再试",
  NETWORK: "网络连接失败，请检查网络后重试",
  TIMEOUT: "服务器没有及时响应，请重试",
};

/** What the console shows for an error code (and the server's English message as a fallback). */
export function errorText(code: string, message?: string): string {
  const known = STAFF_TEXT[code] ?? (ERRORS as Record<string, { zh?: string }>)[code]?.zh;
  return known ?? message ?? code;
}

/** A failed API call or room command, with the server's stable code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
    /** Seconds, from Retry-After, when the server sent one. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Chinese text for the place the action was taken. */
  get text(): string {
    const base = errorText(this.code, this.message);
    const wait = this.retryAfter ? `（${formatWait(this.retryAfter)}后再试）` : "";
    const fields = fieldList(this.details);
    return `${base}${fields ? `：${fields}` : ""}${wait}`;
  }
}

function formatWait(sec: number) {
  return sec >= 60 ? `${Math.ceil(sec / 60)} 分钟` : `${sec} 秒`;
}

function fieldList(details: unknown): string {
  if (!Array.isArray(details)) return "";
  return details
    .map((d) => (d && typeof d === "object" && "path" in d ? String((d as { path: unknown }).path) : ""))
    .filter(Boolean)
    .join("、");
}

/** Any thrown value as display text. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.text;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const isForbidden = (err: unknown) => err instanceof ApiError && err.status === 403;
