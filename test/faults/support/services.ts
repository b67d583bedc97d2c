// What one fault case runs on: a private PostgreSQL database, a Redis key prefix (on the shared
// Redis, or on a private redis-server the case may kill), and server processes; all removed when
// the case ends, whatever happened.
import type { TestContext } from "vitest";
import { createTestDatabase } from "../../support/databases.js";
import { redisUrl as sharedRedisUrl } from "../../support/env.js";
import { testRedisPrefix } from "../../support/redis.js";
import { spawnServer, type EnvOverrides, type SpawnedServer } from "../../support/servers.js";
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from "./redis-server.js";

export type FaultServices = {
  databaseUrl: string;
  redisPrefix: string;
  /** The Redis the nodes use. */
  redisUrl: string;
  /** Set when the case asked for its own redis-server. */
  privateRedis: PrivateRedis | null;
  /** A server process on these services (`env` on top of the case's defaults); killed at the end. */
  spawn(env?: EnvOverrides): Promise<SpawnedServer>;
  /** Runs `fn` when the case ends (last registered, first run). */
  defer(fn: () => unknown): void;
};

/** Sets up a case's services; `redis: { aof }` gives it a redis-server of its own. */
export async function faultServices(ctx: TestContext, opts: { redis?: PrivateRedisOptions; env?: EnvOverrides } = {}): Promise<FaultServices> {
  const cleanups: (() => unknown)[] = [];
  ctx.onTestFinished(async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // Cleanup is best effort: the case's verdict is already decided.
      }
    }
  });
  const defer = (fn: () => unknown) => void cleanups.push(fn);

  const db = await createTestDatabase("pinlive_f");
  defer(db.drop);
  let privateRedis: PrivateRedis | null = null;
  let redisPrefix: string;
  if (opts.redis) {
    const r = await startPrivateRedis(opts.redis);
    privateRedis = r;
    defer(() => r.stop());
    redisPrefix = "pinlive";
  } else {
    const p = testRedisPrefix();
    defer(p.cleanup);
    redisPrefix = p.prefix;
  }
  const redisUrl = privateRedis?.url ?? sharedRedisUrl;
  return {
    databaseUrl: db.url,
    redisPrefix,
    redisUrl,
    privateRedis,
    defer,
    async spawn(env = {}) {
      // A fault case's nodes start while others run: give them time on a busy machine.
      const server = await spawnServer(db.url, redisPrefix, { REDIS_URL: redisUrl, ...opts.env, ...env }, 90_000);
      defer(() => server.kill());
      return server;
    },
  };
}
