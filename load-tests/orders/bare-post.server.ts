// The server's own request stack without the order's work, configured from the same environment as the
// server: pinlive's uWS router, typed API layer (session cache and lookup, the "orders" route limit,
// zod), PostgreSQL pool and Redis connection. Three routes:
//   POST /bench/rows                 one authenticated POST that writes one row (the bare POST ceiling);
//   POST /v1/flash-sales/:id/buy     the buy route itself (flashRoutes), its flash service answering
//                                    every buy SOLD_OUT at once: what the stack costs a refusal, no gate;
//   POST /bench/uws                  uWS alone: the body read, a fixed 409 (the floor, no pinlive code).
import uWS from "uWebSockets.js";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { createAuthenticator } from "../../src/auth/authenticate.js";
import { cachedSessions } from "../../src/auth/session-cache.js";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/client.js";
import { createApi } from "../../src/http/api.js";
import { createRateLimiter } from "../../src/http/rate-limit.redis.js";
import { createLogger } from "../../src/log.js";
import { connectRedis, rushConnection } from "../../src/redis/connect.js";
import { redisKeys } from "../../src/redis/keys.js";
import { createRouter } from "../../src/uws/router.js";
import type { Flash } from "../../src/flash/flash.service.js";
import { flashRoutes } from "../../src/http/flash.routes.js";
import { AppError } from "../../src/protocol/errors.js";
import { errorBody, statusLine } from "../../src/uws/response.js";

const config = loadConfig(process.env);
const log = createLogger("warn", "bare-post");
const database = await openDatabase({ ...config.db, log });
await database.db.execute(sql`create table if not exists bench_rows (id bigserial primary key, user_id text not null, n integer not null, created_at timestamptz not null default now())`);
const redis = await connectRedis(config.redis, "rush", "bare-post", log, { commandTimeoutMs: config.redis.commandTimeoutMs, ...rushConnection(config.redis) });
const app = uWS.App();
const router = createRouter(app, log, { maxBodyBytes: 64 * 1024 });
const sessions = cachedSessions(createAuthenticator(database.db), { ttlMs: config.auth.cacheMs, maxEntries: 100_000 });
const api = createApi(router, sessions.authenticate, database.db, undefined, { limiter: createRateLimiter(redis, redisKeys(config.redis.prefix), log), policies: config.rateLimits });
router.get("/readyz", () => ({ status: 200, body: { ok: true } }));
api.route(
  { method: "post", path: "/bench/rows", summary: "One row", tag: "bench", auth: "user", body: z.object({ n: z.number().int() }), response: z.object({ ok: z.literal(true) }), status: 201, rateLimit: "orders" },
  async ({ user, body }) => {
    await database.db.execute(sql`insert into bench_rows (user_id, n) values (${user!.userId}, ${body.n})`);
    return { ok: true as const };
  },
);
const SOLD_OUT = new AppError("SOLD_OUT");
flashRoutes(api, { buy: () => Promise.reject(SOLD_OUT) } as Partial<Flash> as Flash);
const refusal = errorBody(SOLD_OUT);
const refusalText = JSON.stringify(refusal.body);
app.post("/bench/uws", (res) => {
  res.onAborted(() => {});
  res.onData((_, last) => {
    if (last) res.cork(() => res.writeStatus(statusLine(refusal.status)).writeHeader("content-type", "application/json; charset=utf-8").end(refusalText));
  });
});
app.listen("127.0.0.1", config.http.port, (socket) => {
  if (!socket) process.exit(1);
});
process.on("SIGTERM", () => void Promise.allSettled([database.close(), redis.quit()]).finally(() => process.exit(0)));
