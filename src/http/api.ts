import { z } from "zod";
import { bearerToken } from "../auth/authenticate.js";
import type { Authenticate, Identity } from "../auth/identity.js";
import { AppError, ERRORS } from "../protocol/errors.js";
import type { Db } from "../db/client.js";
import type { ImageUrlResolver } from "../media/image-url.js";
import { createIdempotency, requestHash } from "./idempotency.js";
import { MULTIPART_OVERHEAD_BYTES, readUpload, type UploadedFile } from "./multipart.js";
import type { RateLimiter, RatePolicy } from "./rate-limit.redis.js";
import type { HandlerResult } from "../uws/response.js";
import { parseInput, type RequestContext, type Router } from "../uws/router.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,64}$/;

type Method = "get" | "post" | "put" | "del" | "patch";
/** The named limits routes may use (config `rateLimits`). */
export type RateLimitName = "login" | "orders" | "uploads";
type AnyObject = z.ZodObject;

/** One HTTP endpoint, described once: the router validates with it and OpenAPI is generated from it. */
export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  /** uWS pattern, e.g. `/v1/products/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** public: anyone (a token, if sent, must be valid); none: no token looked at (sign-in); user: a session; admin: an admin's session. */
  auth: "public" | "none" | "user" | "admin";
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** Success status (200 by default). */
  status?: number;
  /**
   * Mutating routes (but sign-in and uploads) honour an Idempotency-Key header; "required" refuses
   * requests without one; "handler" requires one too, and the handler keeps each key's answer
   * itself (`idempotency` in its input), in the same write as its work, instead of a row written
   * before it starts.
   */
  idempotency?: "optional" | "required" | "handler";
  /**
   * A multipart/form-data upload (what `wx.uploadFile` sends) with the file in form field `field`,
   * at most `maxBytes`; the handler gets it as `file`. Uploads have no JSON body and no
   * Idempotency-Key: what they store is keyed by its content, so a retry stores nothing twice.
   */
  upload?: { field: string; maxBytes: number };
  /**
   * A named limit (config `rateLimits`): counted per client address and per signed-in user right
   * after the auth check, before anything else; over it is 429 RATE_LIMITED with Retry-After.
   */
  rateLimit?: RateLimitName;
}

export interface ApiInput<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  params: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  /** Null only on public routes without a token. */
  user: Identity | null;
  headers: Record<string, string>;
  /** The uploaded file on `upload` routes; null elsewhere. */
  file: UploadedFile | null;
  /** The client's IP address. */
  address: string;
  /** On "handler" idempotency routes: the key, the scope it is unique in, and the request's hash. */
  idempotency: { key: string; scope: string; hash: string } | null;
}

type AnySpec = RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType>;

const ErrorBody = z.object({
  code: z.enum(Object.keys(ERRORS) as [string, ...string[]]),
  message: z.string(),
  details: z.unknown().optional(),
  /** Also sent as the Retry-After header. */
  retryAfterSec: z.number().int().optional(),
});

/**
 * The app's HTTP API: typed, validated routes, and their OpenAPI 3.1 description. Every response
 * passes through `resolveImageUrls` (root-relative image URLs made absolute when a base is set).
 */
export function createApi(
  router: Router,
  authenticate: Authenticate,
  db: Db,
  resolveImageUrls: ImageUrlResolver = (v) => v,
  limits?: { limiter: RateLimiter; policies: Record<RateLimitName, RatePolicy> },
) {
  const specs: AnySpec[] = [];
  const once = createIdempotency(db);

  async function identify(ctx: RequestContext, auth: AnySpec["auth"]): Promise<Identity | null> {
    if (auth === "none") return null;
    const token = bearerToken(ctx.headers.authorization);
    if (!token) {
      if (auth === "public") return null;
      throw new AppError("AUTH_REQUIRED");
    }
    const user = await authenticate(token);
    if (!user) throw new AppError("AUTH_FAILED");
    if (auth === "admin" && !user.admin) throw new AppError("FORBIDDEN", "Only an admin may do this.");
    return user;
  }

  function route<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType>(
    spec: RouteSpec<P, Q, B, R>,
    handler: (input: ApiInput<P, Q, B>) => Promise<z.infer<R>>,
  ) {
    specs.push(spec);
    const limit = spec.rateLimit ? limits?.policies[spec.rateLimit] : undefined;
    if (spec.rateLimit && !limit) throw new Error(`${spec.path}: rate limit "${spec.rateLimit}" is not configured`);
    const names = spec.path.split("/").filter((s) => s.startsWith(":")).map((s) => s.slice(1));
    const upload = spec.upload;
    // Sign-in answers carry a new session token: never stored with a key (sessions keep only its
    // hash) nor handed to whoever replays the key. Uploads are keyed by their content instead.
    const keyed = spec.method !== "get" && !upload && spec.auth !== "none";
    // An upload's caller is identified while its body arrives: nobody's megabytes are kept for a 401.
    const bodyOptions = upload ? { rawBody: true, maxBodyBytes: upload.maxBytes + MULTIPART_OVERHEAD_BYTES, admit: (ctx: RequestContext) => identify(ctx, spec.auth) } : {};
    router[spec.method](spec.path, async (ctx) => {
      const user = (await (ctx.admitted ?? identify(ctx, spec.auth))) as Identity | null;
      if (limit) limits!.limiter.enforce(spec.rateLimit!, limit, { ip: ctx.remoteAddress, userId: user?.userId });
      if (ctx.bodyError) throw ctx.bodyError;
      const params = spec.params ? parseInput(spec.params, namedParams(names, ctx.params)) : {};
      const query = spec.query ? parseInput(spec.query, Object.fromEntries(ctx.query)) : {};
      const body = spec.body ? parseInput(spec.body, ctx.body ?? {}) : undefined;
      const file = upload ? await readUpload(ctx.headers, ctx.bodyBytes, upload) : null;
      const status = spec.status ?? 200;
      const key = ctx.headers["idempotency-key"];
      let request: ApiInput<P, Q, B>["idempotency"] = null;
      if (keyed && key !== undefined) {
        if (!IDEMPOTENCY_KEY.test(key)) throw new AppError("INVALID_PARAMS", "Idempotency-Key: 1-64 visible ASCII characters.");
        request = { key, scope: `${user?.userId ?? "anonymous"} ${ctx.method} ${ctx.path}`, hash: requestHash(ctx.method, ctx.path, ctx.body) };
      } else if (spec.idempotency === "required" || spec.idempotency === "handler") {
        throw new AppError("IDEMPOTENCY_KEY_REQUIRED");
      }
      // A "handler" route keeps its keys' answers itself; the others' are kept here, around the handler.
      const input = { params, query, body, user, headers: ctx.headers, file, address: ctx.remoteAddress, idempotency: spec.idempotency === "handler" ? request : null } as ApiInput<P, Q, B>;
      const result: HandlerResult =
        request && spec.idempotency !== "handler"
          ? await once(request.scope, request.key, request.hash, async () => ({ status, body: await handler(input) }))
          : { status, body: await handler(input) };
      return { ...result, body: resolveImageUrls(result.body) };
    }, { deferBodyErrors: true, ...bodyOptions });
  }

  /** OpenAPI 3.1 for every route registered so far. */
  function openapi(info: { title: string; version: string }) {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const s of specs) {
      const path = s.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      const parameters: Record<string, unknown>[] = [...objectParams(s.params, "path"), ...objectParams(s.query, "query")];
      const op: Record<string, unknown> = {
        summary: s.summary,
        tags: [s.tag],
        parameters,
        responses: {
          [String(s.status ?? 200)]:
            s.status === 204 ? { description: "No content" } : { description: "OK", content: { "application/json": { schema: jsonSchema(s.response, "output") } } },
          ...(s.rateLimit ? { 429: { description: `RATE_LIMITED: over the "${s.rateLimit}" limit; wait Retry-After seconds`, headers: { "Retry-After": { schema: { type: "integer" } } } } } : {}),
          default: { description: "Error", content: { "application/json": { schema: jsonSchema(ErrorBody, "output") } } },
        },
      };
      if (s.body) op.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(s.body, "input") } } };
      if (s.upload) {
        const file = { type: "string", format: "binary", maxLength: s.upload.maxBytes };
        op.requestBody = { required: true, content: { "multipart/form-data": { schema: { type: "object", properties: { [s.upload.field]: file }, required: [s.upload.field] } } } };
      }
      if (s.auth === "user" || s.auth === "admin") op.security = [{ bearer: [] }];
      if (s.method !== "get" && !s.upload && s.auth !== "none") {
        parameters.push({
          name: "Idempotency-Key",
          in: "header",
          required: s.idempotency === "required" || s.idempotency === "handler",
          schema: { type: "string", maxLength: 64 },
        });
      }
      (paths[path] ??= {})[s.method === "del" ? "delete" : s.method] = op;
    }
    return {
      openapi: "3.1.0",
      info,
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      paths,
    };
  }

  return {
    route,
    openapi,
    /** Counts a request against a named limit from inside a handler (when who to count is known only there). */
    limit: (name: RateLimitName, who: { ip?: string | null; userId?: string | null }) => {
      if (limits) limits.limiter.enforce(name, limits.policies[name], who);
    },
  };
}

export type Api = ReturnType<typeof createApi>;

/** The path's parameters by name (`/v1/products/:id` → { id }). */
function namedParams(names: string[], values: string[]) {
  const out: Record<string, string | undefined> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[i];
  return out;
}

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  return z.toJSONSchema(schema, { io, unrepresentable: "any" });
}

function objectParams(schema: AnyObject | undefined, where: "path" | "query") {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: where,
    required: where === "path" || !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(field as z.ZodType, "input"),
  }));
}
