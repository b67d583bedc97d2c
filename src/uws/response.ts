import type { HttpResponse } from "uWebSockets.js";
import { ERRORS } from "../protocol/errors.js";
import { asAppError } from "../unavailable.js";

/** A whole HTTP answer: what a route returns and what the WebSocket upgrade refuses with. */
export interface HandlerResult {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

const STATUS_TEXT: Record<number, string> = {
  200: "200 OK",
  201: "201 Created",
  204: "204 No Content",
  301: "301 Moved Permanently",
  302: "302 Found",
  304: "304 Not Modified",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  409: "409 Conflict",
  413: "413 Payload Too Large",
  415: "415 Unsupported Media Type",
  422: "422 Unprocessable Entity",
  423: "423 Locked",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  502: "502 Bad Gateway",
  503: "503 Service Unavailable",
};
export const statusLine = (status: number) => STATUS_TEXT[status] ?? `${status} Status`;

/** The error body every HTTP error has: a stable code and a message (and when to retry, as a header too). */
export function errorBody(failure: unknown): { status: number; body: { code: string; message: string; details?: unknown; retryAfterSec?: number }; headers?: Record<string, string> } {
  const err = asAppError(failure);
  if (err) {
    const body = { code: err.code, message: err.message, details: err.details };
    if (err.retryAfterSec === undefined) return { status: err.status, body };
    return { status: err.status, body: { ...body, retryAfterSec: err.retryAfterSec }, headers: { "retry-after": String(err.retryAfterSec) } };
  }
  return { status: 500, body: { code: "INTERNAL", message: ERRORS.INTERNAL.message } };
}

/** Writes a whole answer in one cork (safe after an await). */
export function writeResult(res: HttpResponse, result: HandlerResult) {
  res.cork(() => {
    res.writeStatus(statusLine(result.status));
    if (result.headers) for (const k in result.headers) res.writeHeader(k, result.headers[k]!);
    if (result.body === undefined || result.status === 204 || result.status === 304) {
      res.end();
      return;
    }
    const payload = typeof result.body === "string" || result.body instanceof Uint8Array ? result.body : JSON.stringify(result.body);
    res.writeHeader("content-type", result.contentType ?? "application/json; charset=utf-8");
    res.end(payload);
  });
}
