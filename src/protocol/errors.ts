/**
 * The one table of error codes and WebSocket close codes. docs/protocol.md documents every entry;
 * a test fails when one is missing there. No imports: clients can share this file.
 */

/** Stable error codes, sent in HTTP error bodies and WS `error` frames; `zh` is the viewer's toast text. */
export const ERRORS = {
  INVALID_PARAMS: { http: 400, retryable: false, message: "The request does not match the schema.", zh: "请求参数有误" },
  BAD_FRAME: { http: 400, retryable: false, message: "The frame is not valid JSON text.", zh: "消息格式有误" },
  UNKNOWN_TYPE: { http: 400, retryable: false, message: "The frame's type is not a client command.", zh: "暂不支持该操作" },
  EMPTY_COMMENT: { http: 400, retryable: false, message: "The comment is empty after trimming.", zh: "评论不能为空" },
  COMMENT_TOO_LONG: { http: 400, retryable: false, message: "The comment is longer than the limit.", zh: "评论太长了" },
  LOGIN_CODE_INVALID: { http: 400, retryable: false, message: "The wx.login code is invalid, expired or used; call wx.login again.", zh: "登录失败，请重试" },
  ADDRESS_REQUIRED: { http: 400, retryable: false, message: "Add a shipping address first.", zh: "请先添加收货地址" },
  QUANTITY_TOO_LARGE: { http: 400, retryable: false, message: "More of one SKU than one order may hold (its lines added up).", zh: "单件商品数量超过上限" },
  ORDER_TOTAL_TOO_LARGE: { http: 400, retryable: false, message: "The order's total is above what one order may be.", zh: "订单金额超过上限" },
  COUPON_TOO_LARGE: { http: 400, retryable: false, message: "The coupon's discount is above this stream's limit for one coupon.", zh: "优惠券面额超过上限" },
  IDEMPOTENCY_KEY_REQUIRED: { http: 400, retryable: false, message: "This request needs an Idempotency-Key header.", zh: "请求无效，请重试" },
  AUTH_REQUIRED: { http: 401, retryable: false, message: "This action needs a session token.", zh: "请先登录" },
  LOGIN_FAILED: { http: 401, retryable: false, message: "Wrong username or password.", zh: "用户名或密码错误" },
  AUTH_FAILED: { http: 401, retryable: false, message: "The session token is unknown or expired.", zh: "登录已过期，请重新登录" },
  FORBIDDEN: { http: 403, retryable: false, message: "Only the stream's host may do this.", zh: "没有权限执行此操作" },
  ORIGIN_NOT_ALLOWED: { http: 403, retryable: false, message: "The Origin is not on the allowlist.", zh: "访问来源不被允许" },
  MUTED: { http: 403, retryable: false, message: "You are muted in this room.", zh: "你已被主播禁言" },
  BANNED: { http: 403, retryable: false, message: "You are banned from this room.", zh: "你已被禁止进入该直播间" },
  KICKED: { http: 403, retryable: false, message: "The host removed you from this room.", zh: "你已被移出直播间" },
  NOT_FOUND: { http: 404, retryable: false, message: "No such resource.", zh: "内容不存在或已删除" },
  STREAM_NOT_FOUND: { http: 404, retryable: false, message: "No such live stream.", zh: "直播间不存在" },
  OUT_OF_STOCK: { http: 409, retryable: false, message: "Not enough stock left.", zh: "库存不足" },
  SOLD_OUT: { http: 409, retryable: false, message: "The flash sale is sold out.", zh: "已抢光" },
  LIMIT_EXCEEDED: { http: 409, retryable: false, message: "You have reached the per-person limit.", zh: "已达到限购数量" },
  FLASH_NOT_ACTIVE: { http: 409, retryable: false, message: "The flash sale is not running.", zh: "秒杀未开始或已结束" },
  GROUP_FULL: { http: 409, retryable: false, message: "Every place in this group is taken.", zh: "该团已满，换个团试试" },
  GROUP_CLOSED: { http: 409, retryable: false, message: "This group is not open for joining.", zh: "该团暂不能参加" },
  GROUP_NOT_FULL: { http: 409, retryable: false, message: "Everyone pays once the group is full; wait for the last place to be taken.", zh: "成团后再付款" },
  COUPON_GONE: { http: 409, retryable: false, message: "The coupon is all claimed, ended or expired.", zh: "优惠券已抢完" },
  COUPON_DROP_LIMIT: { http: 409, retryable: false, message: "This stream has dropped as many coupons as it may.", zh: "本场优惠券发放已达上限" },
  PRODUCT_NOT_LISTED: { http: 409, retryable: false, message: "Only listed products can be sold in a live stream.", zh: "商品未上架" },
  COUPON_NOT_APPLICABLE: { http: 409, retryable: false, message: "The coupon cannot be used for this order.", zh: "该优惠券不可用" },
  UNPAID_ORDERS_LIMIT: { http: 409, retryable: false, message: "You have as many unpaid orders as you may; pay or cancel one first.", zh: "待付款订单过多，请先处理" },
  UNPAID_UNITS_LIMIT: { http: 409, retryable: false, message: "You hold as many unpaid units of this item as you may; pay or cancel first.", zh: "该商品待付款数量已达上限" },
  NOT_IN_STREAM: { http: 409, retryable: false, message: "This product is not sold in that live stream.", zh: "该商品不在此直播间销售" },
  PRICE_CHANGED: { http: 409, retryable: false, message: "The total changed; show the new total and ask again.", zh: "价格有变动，请确认" },
  ORDER_STATE: { http: 409, retryable: false, message: "The order is not in a state that allows this.", zh: "订单状态已变化" },
  CONFLICT: { http: 409, retryable: false, message: "The request conflicts with the current state.", zh: "操作冲突，请刷新重试" },
  IDEMPOTENCY_IN_PROGRESS: { http: 409, retryable: true, message: "A request with this Idempotency-Key is still running.", zh: "正在处理，请稍候" },
  IDEMPOTENCY_KEY_REUSED: { http: 422, retryable: false, message: "This Idempotency-Key was used with a different request.", zh: "重复请求，请刷新重试" },
  PAYLOAD_TOO_LARGE: { http: 413, retryable: false, message: "The request body is too large.", zh: "内容过大" },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, retryable: false, message: "The file is not a PNG, JPEG or WebP image.", zh: "图片格式不支持" },
  ACCOUNT_LOCKED: { http: 423, retryable: true, message: "Too many failed sign-ins; this account is locked for a while.", zh: "登录失败次数过多，请稍后再试" },
  RATE_LIMITED: { http: 429, retryable: true, message: "Too many messages; slow down.", zh: "操作太频繁，请稍后再试" },
  SLOW_MODE: { http: 429, retryable: true, message: "Slow mode is on; wait before commenting again.", zh: "慢速模式中，请稍后再发" },
  UPSTREAM_UNAVAILABLE: { http: 502, retryable: true, message: "WeChat did not answer as expected; try again.", zh: "微信服务繁忙，请重试" },
  INTERNAL: { http: 500, retryable: true, message: "Something went wrong on our side.", zh: "服务开小差了，请重试" },
  UNAVAILABLE: { http: 503, retryable: true, message: "The server is starting or shutting down.", zh: "服务暂不可用，请稍后再试" },
} as const satisfies Record<string, { http: number; retryable: boolean; message: string; zh: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * WebSocket close codes. 4000–4499: the client should reconnect (with its last position);
 * 4500–4999: it should not. 1009 is the standard code for oversized frames; 1006 (no close frame)
 * is what a client sees when uWS drops it for invalid UTF-8.
 */
export const CLOSE_CODES = {
  MESSAGE_TOO_BIG: { code: 1009, retry: false, meaning: "A frame was larger than WS_MAX_PAYLOAD_BYTES. Past 4x that, the connection is dropped without a close frame (1006)." },
  INVALID_UTF8: { code: 1006, retry: false, meaning: "A text frame was not valid UTF-8: uWS drops the connection without a close frame, so clients see 1006." },
  SERVER_SHUTDOWN: { code: 4001, retry: true, meaning: "The node is shutting down; reconnect to another." },
  SLOW_CONSUMER: {
    code: 4002,
    retry: true,
    meaning: "The send buffer hit WS_MAX_BACKPRESSURE_BYTES. The close frame queues behind buffered data; a client still not reading is dropped (1006).",
  },
  SESSION_ENDED: { code: 4501, retry: false, meaning: "The session ended (signed out or expired), or the account was disabled or its role changed; sign in again before reconnecting." },
  KICKED: { code: 4502, retry: false, meaning: "The host or an admin removed this user from the room, with no lasting ban: the user may come back by entering the room again." },
  BANNED: { code: 4503, retry: false, meaning: "The user was banned from this room (or from every room); reconnecting is refused with 403 BANNED until the ban ends or is lifted." },
  STREAM_DELETED: { code: 4504, retry: false, meaning: "The live stream no longer exists." },
} as const;

export type CloseName = keyof typeof CLOSE_CODES;

/** An expected failure with a stable code: bad input, missing rights. Never a crash. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;
  /** Seconds to wait before trying again; HTTP answers carry it as `Retry-After`. */
  readonly retryAfterSec: number | undefined;

  constructor(code: ErrorCode, message?: string, details?: unknown, retryAfterSec?: number) {
    super(message ?? ERRORS[code].message);
    this.name = "AppError";
    this.code = code;
    this.status = ERRORS[code].http;
    this.retryable = ERRORS[code].retryable;
    this.details = details;
    this.retryAfterSec = retryAfterSec;
  }
}
