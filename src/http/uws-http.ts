import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { z } from "zod";
import { AppError, ERRORS } from "../protocol/errors.js";
import type { Logger } from "../log.js";

/** What a handler sees: everything copied out of uWS's request before any await. */
export interface RequestContext {
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
  /** The body exactly as received, for signature checks. */
  rawBody: string;
  /** Why the body could not be parsed; raised by the handler after its auth check. */
  bodyError: AppError | null;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;
export type RouteOptions = { deferBodyErrors?: boolean };

const STATUS_TEXT: Record<number, string> = {
  200: "200 OK",
  201: "201 Created",
  204: "204 No Content",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  409: "409 Conflict",
  413: "413 Payload Too Large",
  415: "415 Unsupported Media Type",
  422: "422 Unprocessable Entity",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  502: "502 Bad Gateway",
  503: "503 Service Unavailable",
};
export const statusLine = (status: number) => STATUS_TEXT[status] ?? `${status} Status`;

/** The error body every HTTP error has: a stable code and a message. */
export function errorBody(err: unknown): { status: number; body: { code: string; message: string; details?: unknown } } {
  if (err instanceof AppError) {
    return { status: err.status, body: { code: err.code, message: err.message, details: err.details } };
  }
  return { status: 500, body: { code: "INTERNAL", message: ERRORS.INTERNAL.message } };
}

/** Validates with zod; a mismatch is INVALID_PARAMS listing each bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new AppError(
      "INVALID_PARAMS",
      undefined,
      r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return r.data;
}

/** Copies the headers out of a uWS request (valid only until the handler returns). */
export function copyHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => (headers[k] = v));
  return headers;
}

export function writeResult(res: HttpResponse, result: HandlerResult) {
  res.cork(() => {
    res.writeStatus(statusLine(result.status));
    for (const [k, v] of Object.entries(result.headers ?? {})) res.writeHeader(k, v);
    if (result.body === undefined || result.status === 204) {
      res.end();
      return;
    }
    const text = typeof result.body === "string" ? result.body : JSON.stringify(result.body);
    res.writeHeader("content-type", result.contentType ?? "application/json; charset=utf-8");
    res.end(text);
  });
}

/** Reads the whole body (copying each chunk), refusing more than maxBytes. */
function readBody(res: HttpResponse, maxBytes: number, aborted: () => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed || aborted()) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        failed = true;
        reject(new AppError("PAYLOAD_TOO_LARGE"));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}

/** Registers routes whose handlers are async, validated and never crash the process. */
export function createRouter(app: TemplatedApp, log: Logger, opts: { maxBodyBytes: number }) {
  /** deferBodyErrors: the handler raises ctx.bodyError itself (after its auth check). */
  const register = (method: "get" | "post" | "put" | "del" | "patch", pattern: string, handler: Handler, routeOpts: RouteOptions = {}) => {
    app[method](pattern, (res, req) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const ctx: RequestContext = {
        method: req.getMethod().toUpperCase(),
        path: req.getUrl(),
        params: paramsOf(req, pattern),
        query: new URLSearchParams(req.getQuery() ?? ""),
        headers: copyHeaders(req),
        body: undefined,
        rawBody: "",
        bodyError: null,
      };
      void (async () => {
        try {
          if (ctx.method !== "GET" && ctx.method !== "DELETE") {
            const raw = await readBody(res, opts.maxBodyBytes, () => aborted);
            ctx.rawBody = raw.toString("utf8");
            if (raw.length > 0) {
              try {
                ctx.body = parseJsonBody(raw, ctx.headers["content-type"]);
              } catch (err) {
                ctx.bodyError = err as AppError;
              }
            }
          }
          if (ctx.bodyError && !routeOpts.deferBodyErrors) throw ctx.bodyError;
          const result = await handler(ctx);
          if (!aborted) writeResult(res, result);
        } catch (err) {
          if (!(err instanceof AppError)) log.error({ err, path: ctx.path }, "handler failed");
          const { status, body } = errorBody(err);
          if (!aborted) writeResult(res, { status, body });
        }
      })();
    });
  };
  return {
    get: (p: string, h: Handler, o?: RouteOptions) => register("get", p, h, o),
    post: (p: string, h: Handler, o?: RouteOptions) => register("post", p, h, o),
    put: (p: string, h: Handler, o?: RouteOptions) => register("put", p, h, o),
    del: (p: string, h: Handler, o?: RouteOptions) => register("del", p, h, o),
    patch: (p: string, h: Handler, o?: RouteOptions) => register("patch", p, h, o),
  };
}

export type Router = ReturnType<typeof createRouter>;

function paramsOf(req: HttpRequest, pattern: string): string[] {
  const count = pattern.split("/").filter((s) => s.startsWith(":")).length;
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(safeDecode(req.getParameter(i) ?? ""));
  return out;
}

function safeDecode(s: string) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (contentType && !contentType.toLowerCase().includes("json")) {
    throw new AppError("INVALID_PARAMS", "Send the body as application/json.");
  }
  try {
    return JSON.parse(raw.toString("utf8")) as unknown;
  } catch {
    throw new AppError("INVALID_PARAMS", "The body is not valid JSON.");
  }
}
