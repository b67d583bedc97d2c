import { Redis } from "ioredis";
import postgres from "postgres";
import { adminDatabaseUrl, redisUrl } from "./support/env.js";
import { ensureServerBuild } from "../scripts/build-server.js";

/**
 * Fails the run at once, with a clear message, when Redis or PostgreSQL is not there; builds `dist/`
 * when it is older than `src/` (the servers the tests spawn run the build, as production does).
 */
export default async function setup() {
  await ensureServerBuild();
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Tests need Redis at ${redisUrl} (${(err as Error).message}); run scripts/ensure-services.sh`);
  } finally {
    redis.disconnect();
  }
  const sql = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (err) {
    throw new Error(`Tests need PostgreSQL at ${adminDatabaseUrl} (${(err as Error).message}); run scripts/ensure-services.sh`);
  } finally {
    await sql.end();
  }
}
