import { afterAll, beforeAll } from "vitest";
import { createTestDatabase } from "./databases.js";
import { testRedisPrefix } from "./redis.js";

/**
 * A fresh PostgreSQL database and Redis key prefix for the calling test file, created before its
 * tests and removed after its other afterAll hooks (servers stop first). Read the fields in hooks.
 */
export function useTestServices() {
  const services = { databaseUrl: "", redisPrefix: "" };
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    const db = await createTestDatabase();
    const redis = testRedisPrefix();
    cleanups.push(db.drop, redis.cleanup);
    services.databaseUrl = db.url;
    services.redisPrefix = redis.prefix;
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  return services;
}
