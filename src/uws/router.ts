import type { HttpRequest, HttpResponse, TemplatedApp } from "uWebSockets.js";
import type { z } from "zod";
import { AppError } from "../protocol/errors.js";
import type { Logger } from "../log.js";
import { isOutage } from "../unavailable.js";
import { copyHeaders, remoteAddressOf } from "./request.js";
import { errorBody, writeResult, type HandlerResult } from "./response.js";

/** What a handler sees: everything copied out of uWS's request before any await. */
export interface RequestContext {
  method: string;
  path: string;
  /** The client's IP address (the proxy's last X-Forwarded-For entry when the proxy is trusted). */
  remoteAddress: string;
  params: string[];
  query: URLSearchParams;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
  /** The body exactly as received, for signature checks ("" on `rawBody` routes: see bodyBytes). */
  rawBody: string;
  /** The body's bytes (uploads read these). */
  bodyBytes: Buffer;
  /** Why the body could not be parsed; raised by the handler after its auth check. */
  bodyError: AppError | null;
  /** The route's `admit` check, started before the body was read (the handler awaits it). */
  admitted?: Promise<unknown>;
}

export type Handler = (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;
export type RouteOptions = {
  deferBodyErrors?: boolean;
  /** This route's body limit instead of the router's (uploads); over it is PAYLOAD_TOO_LARGE. */
  maxBodyBytes?: number;
  /** Keep the body as bytes only (no JSON parsing, no string copy). */
  rawBody?: boolean;
  /**
   * Started as the request arrives, while the body is read (large uploads): once it rejects, the
   * rest of the body is dropped rather than kept, and its error is the answer.
   */
  admit?: (ctx: RequestContext) => Promise<unknown>;
};

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

/**
 * Past a body's limit we keep reading (and dropping) up to this much more before answering, so the
 * client, still sending, gets the 413 instead of a reset connection; beyond it we answer at once.
 */
const DRAIN_BYTES = 8 * 1024 * 1024;

/** The client went away before its body was whole: uWS sends no more of it. */
class ClientLeft extends Error {}

/** One request's connection as the body reader sees it: `leave` is set while a body is read. */
type Connection = { aborted: boolean; leave: (() => void) | null };

/**
 * Reads the whole body (copying each chunk), refusing more than maxBytes; keeps nothing once
 * `refused` rejects. Fails with ClientLeft when the client goes away first.
 */
function readBody(res: HttpResponse, maxBytes: number, connection: Connection, refused?: Promise<unknown>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let state: "reading" | "draining" | "done" = "reading";
    connection.leave = () => {
      if (state === "done") return;
      state = "done";
      chunks.length = 0;
      reject(new ClientLeft());
    };
    refused?.catch(() => {
      if (state !== "reading") return;
      state = "draining";
      chunks.length = 0;
    });
    res.onData((chunk, isLast) => {
      if (state === "done" || connection.aborted) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        state = "draining";
        chunks.length = 0;
      }
      if (state === "draining") {
        if (isLast || size > maxBytes + DRAIN_BYTES) {
          state = "done";
          reject(new AppError("PAYLOAD_TOO_LARGE"));
        }
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        state = "done";
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      }
    });
  });
}

const EMPTY = Buffer.alloc(0);

/** Registers routes whose handlers are async, validated and never crash the process. */
export function createRouter(app: TemplatedApp, log: Logger, opts: { maxBodyBytes: number; trustProxy?: boolean }) {
  let inFlight = 0;
  let draining = false;
  /** Drained: what the routes need is being closed, so nothing more is served. */
  let closed = false;
  let idleWaiters: (() => void)[] = [];
  const settled = () => {
    inFlight--;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };
  /** deferBodyErrors: the handler raises ctx.bodyError itself (after its auth check). */
  const register = (method: "get" | "post" | "put" | "del" | "patch", pattern: string, handler: Handler, routeOpts: RouteOptions = {}) => {
    const paramCount = pattern.split("/").filter((s) => s.startsWith(":")).length;
    const maxBodyBytes = routeOpts.maxBodyBytes ?? opts.maxBodyBytes;
    const trustProxy = opts.trustProxy ?? false;
    app[method](pattern, (res, req) => {
      if (closed) {
        // A request on a kept-alive connection after the drain: cut it unanswered (nothing ran),
        // so the client sends it again to another node instead of getting a 503 from a closed database.
        res.close();
        return;
      }
      const connection: Connection = { aborted: false, leave: null };
      res.onAborted(() => {
        connection.aborted = true;
        connection.leave?.();
      });
      inFlight++;
      const ctx: RequestContext = {
        method: req.getMethod().toUpperCase(),
        path: req.getUrl(),
        remoteAddress: remoteAddressOf(res, req, trustProxy),
        params: paramsOf(req, paramCount),
        query: new URLSearchParams(req.getQuery() ?? ""),
        headers: copyHeaders(req),
        body: undefined,
        rawBody: "",
        bodyBytes: EMPTY,
        bodyError: null,
      };
      if (routeOpts.admit) {
        ctx.admitted = routeOpts.admit(ctx);
        ctx.admitted.catch(() => {}); // awaited below
      }
      void (async () => {
        try {
          if (ctx.method !== "GET" && ctx.method !== "DELETE") {
            let raw: Buffer;
            try {
              raw = await readBody(res, maxBodyBytes, connection, ctx.admitted);
            } catch (err) {
              await ctx.admitted; // a refused caller's answer is the refusal, whatever its body was
              throw err;
            }
            ctx.bodyBytes = raw;
            if (!routeOpts.rawBody) ctx.rawBody = raw.toString("utf8");
            if (raw.length > 0 && !routeOpts.rawBody) {
              try {
                ctx.body = parseJsonBody(ctx.rawBody, ctx.headers["content-type"]);
              } catch (err) {
                ctx.bodyError = err as AppError;
              }
            }
          }
          if (ctx.bodyError && !routeOpts.deferBodyErrors) throw ctx.bodyError;
          const result = await handler(ctx);
          if (!connection.aborted) writeResult(res, draining ? closing(result) : result);
        } catch (err) {
          if (err instanceof ClientLeft) return; // nothing ran, and nobody to answer
          if (isOutage(err)) log.warn({ err, path: ctx.path }, "handler failed: a service is unreachable");
          else if (!(err instanceof AppError)) log.error({ err, path: ctx.path }, "handler failed");
          if (!connection.aborted) writeResult(res, draining ? closing(errorBody(err)) : errorBody(err));
        } finally {
          settled();
        }
      })();
    });
  };
  return {
    /** Requests started and not yet answered. */
    get inFlight() {
      return inFlight;
    },
    /**
     * Draining: answers from now on tell the client to close its connection (so it reconnects to
     * another node). Resolves once no request is in flight, or after `timeoutMs`; true when idle.
     * From then on a request arriving on a kept-alive connection is cut unanswered.
     */
    drain(timeoutMs: number): Promise<boolean> {
      draining = true;
      const drained = (idle: boolean) => {
        closed = true;
        return idle;
      };
      if (inFlight === 0) return Promise.resolve(drained(true));
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(drained(false)), timeoutMs);
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve(drained(true));
        });
      });
    },
    get: (p: string, h: Handler, o?: RouteOptions) => register("get", p, h, o),
    post: (p: string, h: Handler, o?: RouteOptions) => register("post", p, h, o),
    put: (p: string, h: Handler, o?: RouteOptions) => register("put", p, h, o),
    del: (p: string, h: Handler, o?: RouteOptions) => register("del", p, h, o),
    patch: (p: string, h: Handler, o?: RouteOptions) => register("patch", p, h, o),
  };
}

export type Router = ReturnType<typeof createRouter>;

const closing = (r: HandlerResult): HandlerResult => ({ ...r, headers: { ...r.headers, connection: "close" } });

function paramsOf(req: HttpRequest, count: number): string[] {
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

function parseJsonBody(text: string, contentType: string | undefined): unknown {
  if (contentType && !contentType.toLowerCase().includes("json")) {
    throw new AppError("INVALID_PARAMS", "Send the body as application/json.");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError("INVALID_PARAMS", "The body is not valid JSON.");
  }
}
