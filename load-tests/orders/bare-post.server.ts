// The server's own ceiling for one authenticated POST that writes one row: pinlive's uWS router, typed
// API layer (session cache and lookup, the "orders" route limit, zod), PostgreSQL pool and Redis
// connection, configured from the same environment as the server, and one route.
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
import { connectRedis } from "../../src/redis/connect.js";
import { redisKeys } from "../../src/redis/keys.js";
import { createRouter } from "../../src/uws/router.js";

const config = loadConfig(process.env);
const log = createLogger("warn", "bare-post");
const database = await openDatabase({ ...config.db, log });
await database.db.execute(sql`create table if not exists bench_rows (id bigserial primary key, user_id text not null, n integer not null, created_at timestamptz not null default now())`);
const redis = await connectRedis(config.redis, "rush", "bare-post", log, { commandTimeoutMs: config.redis.commandTimeoutMs, autoPipelining: true });
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
app.listen("127.0.0.1", config.http.port, (socket) => {
  if (!socket) process.exit(1);
});
process.on("SIGTERM", () => void Promise.allSettled([database.close(), redis.quit()]).finally(() => process.exit(0)));
