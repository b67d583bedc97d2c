// GENERATED from src/protocol/client.ts and src/protocol/errors.ts by `npm run build:clients` (CommonJS, ES2017, for the mini program).
// Do not edit: change src/protocol and run the command again (a test fails when this file is stale).
/* eslint-disable */

"use strict";
var __defProp = Object.defineProperty;
var __defProps = Object.defineProperties;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropDescs = Object.getOwnPropertyDescriptors;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getOwnPropSymbols = Object.getOwnPropertySymbols;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __propIsEnum = Object.prototype.propertyIsEnumerable;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __spreadValues = (a, b) => {
  for (var prop in b || (b = {}))
    if (__hasOwnProp.call(b, prop))
      __defNormalProp(a, prop, b[prop]);
  if (__getOwnPropSymbols)
    for (var prop of __getOwnPropSymbols(b)) {
      if (__propIsEnum.call(b, prop))
        __defNormalProp(a, prop, b[prop]);
    }
  return a;
};
var __spreadProps = (a, b) => __defProps(a, __getOwnPropDescs(b));
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);
var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);

// src/protocol/client.ts
var client_exports = {};
__export(client_exports, {
  BATCH: () => BATCH,
  CLOSE_CODES: () => CLOSE_CODES,
  COMMAND: () => COMMAND,
  COMMAND_TYPES: () => COMMAND_TYPES,
  ERRORS: () => ERRORS,
  EVENT: () => EVENT,
  EVENT_TYPES: () => EVENT_TYPES,
  GROUPS_IN_STATE: () => GROUPS_IN_STATE,
  HOST_COMMAND_TYPES: () => HOST_COMMAND_TYPES,
  REPLY: () => REPLY,
  REPLY_TYPES: () => REPLY_TYPES,
  SERVER_MESSAGE_TYPES: () => SERVER_MESSAGE_TYPES,
  SNAPSHOT: () => SNAPSHOT,
  STATE: () => STATE,
  STATE_PUSH_TYPES: () => STATE_PUSH_TYPES,
  SeqTracker: () => SeqTracker,
  applyStatePush: () => applyStatePush,
  commands: () => commands,
  emptyRoomState: () => emptyRoomState,
  isFinalClose: () => isFinalClose,
  isStatePush: () => isStatePush,
  withGroup: () => withGroup
});
module.exports = __toCommonJS(client_exports);

// src/protocol/errors.ts
var ERRORS = {
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
  UNAVAILABLE: { http: 503, retryable: true, message: "The server is starting or shutting down.", zh: "服务暂不可用，请稍后再试" }
};
var CLOSE_CODES = {
  MESSAGE_TOO_BIG: { code: 1009, retry: false, meaning: "A frame was larger than WS_MAX_PAYLOAD_BYTES. Past 4x that, the connection is dropped without a close frame (1006)." },
  INVALID_UTF8: { code: 1006, retry: false, meaning: "A text frame was not valid UTF-8: uWS drops the connection without a close frame, so clients see 1006." },
  SERVER_SHUTDOWN: { code: 4001, retry: true, meaning: "The node is shutting down; reconnect to another." },
  SLOW_CONSUMER: {
    code: 4002,
    retry: true,
    meaning: "The send buffer hit WS_MAX_BACKPRESSURE_BYTES. The close frame queues behind buffered data; a client still not reading is dropped (1006)."
  },
  SESSION_ENDED: { code: 4501, retry: false, meaning: "The session ended (signed out or expired), or the account was disabled or its role changed; sign in again before reconnecting." },
  KICKED: { code: 4502, retry: false, meaning: "The host or an admin removed this user from the room, with no lasting ban: the user may come back by entering the room again." },
  BANNED: { code: 4503, retry: false, meaning: "The user was banned from this room (or from every room); reconnecting is refused with 403 BANNED until the ban ends or is lifted." },
  STREAM_DELETED: { code: 4504, retry: false, meaning: "The live stream no longer exists." }
};

// src/protocol/client.ts
var COMMAND = {
  COMMENT: "comment",
  LIKE: "like",
  PRODUCT_HIGHLIGHT: "product_highlight",
  STREAM_START: "stream_start",
  STREAM_END: "stream_end",
  PIN: "pin",
  MUTE: "mute",
  UNMUTE: "unmute",
  DELETE_COMMENT: "delete_comment",
  SLOW_MODE: "slow_mode",
  PING: "ping"
};
var EVENT = {
  COMMENT: "comment",
  COMMENT_DELETED: "comment_deleted",
  PURCHASE: "purchase"
};
var STATE = {
  VIEWER_COUNT: "viewer_count",
  LIKE_COUNT: "like_count",
  PRODUCT_HIGHLIGHT: "product_highlight",
  STREAM_START: "stream_start",
  STREAM_END: "stream_end",
  PINNED: "pinned",
  SLOW_MODE: "slow_mode",
  FLASH_SALE: "flash_sale",
  UPCOMING_PRODUCTS: "upcoming_products",
  PRODUCT_COUNTDOWN: "product_countdown",
  COUPON: "coupon",
  GROUP_PROGRESS: "group_progress",
  GROUP_COMPLETE: "group_complete",
  GROUP_FAILED: "group_failed"
};
var REPLY = { ACK: "ack", PONG: "pong", ERROR: "error" };
var SNAPSHOT = "snapshot";
var BATCH = "batch";
var COMMAND_TYPES = Object.values(COMMAND);
var EVENT_TYPES = Object.values(EVENT);
var STATE_PUSH_TYPES = Object.values(STATE);
var REPLY_TYPES = Object.values(REPLY);
var SERVER_MESSAGE_TYPES = [...EVENT_TYPES, ...STATE_PUSH_TYPES, SNAPSHOT, BATCH, ...REPLY_TYPES].filter(
  (t, i, all) => all.indexOf(t) === i
);
var HOST_COMMAND_TYPES = [
  COMMAND.PRODUCT_HIGHLIGHT,
  COMMAND.STREAM_START,
  COMMAND.STREAM_END,
  COMMAND.PIN,
  COMMAND.MUTE,
  COMMAND.UNMUTE,
  COMMAND.DELETE_COMMENT,
  COMMAND.SLOW_MODE
];
var GROUPS_IN_STATE = 20;
function isFinalClose(code) {
  return code >= 4500 && code <= 4999;
}
var emptyRoomState = () => ({
  status: "idle",
  bubble: null,
  pinned: null,
  slowModeSec: 0,
  flashSale: null,
  upcoming: [],
  countdown: null,
  coupon: null,
  groups: []
});
function withId(command, id) {
  return id === void 0 ? command : __spreadProps(__spreadValues({}, command), { id });
}
var commands = {
  comment: (content, id) => withId({ type: COMMAND.COMMENT, comment: { content } }, id),
  like: (count = 1, id) => withId({ type: COMMAND.LIKE, count }, id),
  ping: (id) => withId({ type: COMMAND.PING }, id),
  /** Pushes the product bubble; null clears it. */
  highlight: (product, id) => withId(product ? __spreadValues({ type: COMMAND.PRODUCT_HIGHLIGHT }, product) : { type: COMMAND.PRODUCT_HIGHLIGHT, productId: null }, id),
  streamStart: (id) => withId({ type: COMMAND.STREAM_START }, id),
  streamEnd: (id) => withId({ type: COMMAND.STREAM_END }, id),
  /** Pins a message; null unpins. */
  pin: (text, id) => withId({ type: COMMAND.PIN, text }, id),
  mute: (userId, durationSec, id) => withId(durationSec === void 0 ? { type: COMMAND.MUTE, userId } : { type: COMMAND.MUTE, userId, durationSec }, id),
  unmute: (userId, id) => withId({ type: COMMAND.UNMUTE, userId }, id),
  deleteComment: (commentId, id) => withId({ type: COMMAND.DELETE_COMMENT, commentId }, id),
  /** Slow mode: one comment per viewer per `seconds` (0 turns it off). */
  slowMode: (seconds, id) => withId({ type: COMMAND.SLOW_MODE, seconds }, id)
};
var SeqTracker = class {
  constructor() {
    __publicField(this, "epoch", null);
    __publicField(this, "seq", 0);
  }
  /** The position to reconnect with (`?epoch=&seq=`), or null before the first snapshot. */
  position() {
    return this.epoch === null ? null : { epoch: this.epoch, seq: this.seq };
  }
  /**
   * Takes a snapshot. `recovered: true` keeps the position (the missed events follow it);
   * otherwise the client starts over from the snapshot's epoch and seq.
   */
  snapshot(snap) {
    if (snap.recovered && snap.epoch === this.epoch) return;
    this.epoch = snap.epoch;
    this.seq = snap.seq;
  }
  /** Classifies an event without moving the position. */
  classify(event) {
    if (typeof event.seq !== "number") return "unsequenced";
    if (this.epoch === null) return "gap";
    if (event.seq <= this.seq) return "duplicate";
    return event.seq === this.seq + 1 ? "next" : "gap";
  }
  /** Classifies an event and, when it is the next one, moves the position past it. */
  offer(event) {
    const verdict = this.classify(event);
    if (verdict === "next") this.seq = event.seq;
    return verdict;
  }
  /** A batch from another epoch than the one held cannot be placed: treat it as a gap. */
  sameEpoch(epoch) {
    return this.epoch === epoch;
  }
  reset() {
    this.epoch = null;
    this.seq = 0;
  }
};
function withGroup(groups, group) {
  const rest = groups.filter((g) => g.id !== group.id);
  if (group.status !== "open") return rest;
  const at = groups.findIndex((g) => g.id === group.id);
  const out = at >= 0 ? [...groups.slice(0, at), group, ...groups.slice(at + 1)] : [group, ...rest];
  return out.slice(0, GROUPS_IN_STATE);
}
function applyStatePush(state, p) {
  var _a;
  switch (p.type) {
    case STATE.PRODUCT_HIGHLIGHT:
      return __spreadProps(__spreadValues({}, state), { bubble: p.product });
    case STATE.STREAM_START:
      return __spreadProps(__spreadValues({}, state), { status: "live" });
    case STATE.STREAM_END:
      return __spreadProps(__spreadValues({}, state), { status: "ended" });
    case STATE.PINNED:
      return __spreadProps(__spreadValues({}, state), { pinned: p.pin });
    case STATE.SLOW_MODE:
      return __spreadProps(__spreadValues({}, state), { slowModeSec: p.seconds });
    case STATE.FLASH_SALE:
      return __spreadProps(__spreadValues({}, state), { flashSale: p.sale });
    case STATE.UPCOMING_PRODUCTS:
      return __spreadProps(__spreadValues({}, state), { upcoming: p.items });
    case STATE.PRODUCT_COUNTDOWN:
      return __spreadProps(__spreadValues({}, state), { countdown: p.countdown });
    case STATE.COUPON:
      return __spreadProps(__spreadValues({}, state), { coupon: p.coupon });
    case STATE.GROUP_PROGRESS:
    case STATE.GROUP_COMPLETE:
    case STATE.GROUP_FAILED:
      return __spreadProps(__spreadValues({}, state), { groups: (_a = p.groups) != null ? _a : withGroup(state.groups, p.group) });
    default:
      return state;
  }
}
function isStatePush(type) {
  return type !== STATE.VIEWER_COUNT && type !== STATE.LIKE_COUNT && STATE_PUSH_TYPES.includes(type);
}
