import { Redis } from "ioredis";
import type { Logger } from "../log.js";

/** Connects and waits for the first PING; fails with a message that says how to get a Redis. */
export async function connectRedis(url: string, name: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, { connectionName: `pinlive-${name}`, lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on("error", (err: Error) => log.warn({ err: err.message, connection: name }, "redis error"));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `Redis is not reachable at ${url} (${(err as Error).message}). Start one (Debian: apt-get install redis-server; ` +
        `redis-server --daemonize yes), run 'npm run demo' which starts it for you, or set REDIS_URL.`,
    );
  }
  return redis;
}
