/**
 * The one table of error codes and WebSocket close codes. docs/protocol.md documents every entry;
 * a test fails when one is missing there. No imports: clients can share this file.
 */

/** Stable error codes, sent in HTTP error bodies and WS `error` frames. */
export const ERRORS = {
  INVALID_PARAMS: { http: 400, retryable: false, message: "The request does not match the schema." },
  BAD_FRAME: { http: 400, retryable: false, message: "The frame is not valid JSON text." },
  UNKNOWN_TYPE: { http: 400, retryable: false, message: "The frame's type is not a client command." },
  EMPTY_COMMENT: { http: 400, retryable: false, message: "The comment is empty after trimming." },
  COMMENT_TOO_LONG: { http: 400, retryable: false, message: "The comment is longer than the limit." },
  LOGIN_CODE_INVALID: { http: 400, retryable: false, message: "The wx.login code is invalid, expired or used; call wx.login again." },
  ADDRESS_REQUIRED: { http: 400, retryable: false, message: "Add a shipping address first." },
  IDEMPOTENCY_KEY_REQUIRED: { http: 400, retryable: false, message: "This request needs an Idempotency-Key header." },
  AUTH_REQUIRED: { http: 401, retryable: false, message: "This action needs a session token." },
  AUTH_FAILED: { http: 401, retryable: false, message: "The session token is unknown or expired." },
  FORBIDDEN: { http: 403, retryable: false, message: "Only the stream's host may do this." },
  ORIGIN_NOT_ALLOWED: { http: 403, retryable: false, message: "The Origin is not on the allowlist." },
  MUTED: { http: 403, retryable: false, message: "You are muted in this room." },
  NOT_FOUND: { http: 404, retryable: false, message: "No such resource." },
  STREAM_NOT_FOUND: { http: 404, retryable: false, message: "No such live stream." },
  OUT_OF_STOCK: { http: 409, retryable: false, message: "Not enough stock left." },
  SOLD_OUT: { http: 409, retryable: false, message: "The flash sale is sold out." },
  LIMIT_EXCEEDED: { http: 409, retryable: false, message: "You have reached the per-person limit." },
  FLASH_NOT_ACTIVE: { http: 409, retryable: false, message: "The flash sale is not running." },
  GROUP_FULL: { http: 409, retryable: false, message: "Every place in this group is taken." },
  GROUP_CLOSED: { http: 409, retryable: false, message: "This group is not open for joining." },
  COUPON_GONE: { http: 409, retryable: false, message: "The coupon is all claimed, ended or expired." },
  COUPON_NOT_APPLICABLE: { http: 409, retryable: false, message: "The coupon cannot be used for this order." },
  PRICE_CHANGED: { http: 409, retryable: false, message: "The total changed; show the new total and ask again." },
  ORDER_STATE: { http: 409, retryable: false, message: "The order is not in a state that allows this." },
  CONFLICT: { http: 409, retryable: false, message: "The request conflicts with the current state." },
  IDEMPOTENCY_IN_PROGRESS: { http: 409, retryable: true, message: "A request with this Idempotency-Key is still running." },
  IDEMPOTENCY_KEY_REUSED: { http: 422, retryable: false, message: "This Idempotency-Key was used with a different request." },
  PAYLOAD_TOO_LARGE: { http: 413, retryable: false, message: "The request body is too large." },
  RATE_LIMITED: { http: 429, retryable: true, message: "Too many messages; slow down." },
  SLOW_MODE: { http: 429, retryable: true, message: "Slow mode is on; wait before commenting again." },
  UPSTREAM_UNAVAILABLE: { http: 502, retryable: true, message: "WeChat did not answer as expected; try again." },
  INTERNAL: { http: 500, retryable: true, message: "Something went wrong on our side." },
  UNAVAILABLE: { http: 503, retryable: true, message: "The server is starting or shutting down." },
} as const;

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
  STREAM_DELETED: { code: 4504, retry: false, meaning: "The live stream no longer exists." },
} as const;

export type CloseName = keyof typeof CLOSE_CODES;

/** An expected failure with a stable code: bad input, missing rights. Never a crash. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERRORS[code].message);
    this.name = "AppError";
    this.code = code;
    this.status = ERRORS[code].http;
    this.retryable = ERRORS[code].retryable;
    this.details = details;
  }
}
