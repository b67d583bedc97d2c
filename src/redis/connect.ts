import { Redis } from "ioredis";
import type { Logger } from "../log.js";

/**
 * Connects and waits for the first PING; fails with a message that says how to get a Redis.
 * Commands in flight when a connection drops fail instead of being resent: a script that hands out
 * seqs or counts likes must never run twice.
 */
export async function connectRedis(url: string, name: string, nodeId: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    connectionName: `pinlive-${name}-${nodeId}`,
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    autoResendUnfulfilledCommands: false,
  });
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
