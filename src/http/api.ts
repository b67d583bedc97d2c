import { z } from "zod";
import { bearerToken, type Authenticate } from "../domain/auth.js";
import { AppError, ERRORS } from "../protocol/errors.js";
import type { Identity } from "../realtime/client.js";
import type { Db } from "../db/client.js";
import { createIdempotency, requestHash } from "./idempotency.js";
import { parseInput, type RequestContext, type Router } from "./uws-http.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,64}$/;

type Method = "get" | "post" | "put" | "del" | "patch";
type AnyObject = z.ZodObject;

/** One HTTP endpoint, described once: the router validates with it and OpenAPI is generated from it. */
export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  /** uWS pattern, e.g. `/v1/products/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** public: anyone; user: a session; admin: an admin's session. */
  auth: "public" | "user" | "admin";
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** Success status (200 by default). */
  status?: number;
  /** Mutating routes honour an Idempotency-Key header; "required" refuses requests without one. */
  idempotency?: "optional" | "required";
}

export interface ApiInput<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  params: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  /** Null only on public routes without a token. */
  user: Identity | null;
  headers: Record<string, string>;
}

type AnySpec = RouteSpec<AnyObject, AnyObject, z.ZodType, z.ZodType>;

const ErrorBody = z.object({ code: z.enum(Object.keys(ERRORS) as [string, ...string[]]), message: z.string(), details: z.unknown().optional() });

/** The app's HTTP API: typed, validated routes, and their OpenAPI 3.1 description. */
export function createApi(router: Router, authenticate: Authenticate, db: Db) {
  const specs: AnySpec[] = [];
  const once = createIdempotency(db);

  async function identify(ctx: RequestContext, auth: AnySpec["auth"]): Promise<Identity | null> {
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
    const names = spec.path.split("/").filter((s) => s.startsWith(":")).map((s) => s.slice(1));
    const mutating = spec.method !== "get";
    router[spec.method](spec.path, async (ctx) => {
      const user = await identify(ctx, spec.auth);
      if (ctx.bodyError) throw ctx.bodyError;
      const params = parseInput(spec.params ?? z.object({}), Object.fromEntries(names.map((n, i) => [n, ctx.params[i]])));
      const query = parseInput(spec.query ?? z.object({}), Object.fromEntries(ctx.query));
      const body = spec.body ? parseInput(spec.body, ctx.body ?? {}) : undefined;
      const run = async () => {
        const result = await handler({ params, query, body, user, headers: ctx.headers } as ApiInput<P, Q, B>);
        return { status: spec.status ?? 200, body: result };
      };
      const key = ctx.headers["idempotency-key"];
      if (!mutating || key === undefined) {
        if (spec.idempotency === "required") throw new AppError("IDEMPOTENCY_KEY_REQUIRED");
        return run();
      }
      if (!IDEMPOTENCY_KEY.test(key)) throw new AppError("INVALID_PARAMS", "Idempotency-Key: 1-64 visible ASCII characters.");
      const scope = `${user?.userId ?? "anonymous"} ${ctx.method} ${ctx.path}`;
      return once(scope, key, requestHash(ctx.method, ctx.path, ctx.body), run);
    }, { deferBodyErrors: true });
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
          [String(s.status ?? 200)]: { description: "OK", content: { "application/json": { schema: jsonSchema(s.response, "output") } } },
          default: { description: "Error", content: { "application/json": { schema: jsonSchema(ErrorBody, "output") } } },
        },
      };
      if (s.body) op.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(s.body, "input") } } };
      if (s.auth !== "public") op.security = [{ bearer: [] }];
      if (s.method !== "get") {
        parameters.push({
          name: "Idempotency-Key",
          in: "header",
          required: s.idempotency === "required",
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

  return { route, openapi };
}

export type Api = ReturnType<typeof createApi>;

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
