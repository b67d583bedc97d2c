import { createApp } from "./app.js";
import { loadConfig } from "./config.js";
import { openDatabase } from "./db/client.js";
import { seedDemoData } from "./db/demo-data.js";
import { createLogger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { connectRedis } from "./redis/connect.js";

const config = loadConfig();
const log = createLogger(config.logLevel, config.nodeId);

try {
  const database = await openDatabase(config.db);
  const [redis, redisSub, ioPub, ioSub] = await Promise.all(
    ["main", "rooms-sub", "io-pub", "io-sub"].map((name) => connectRedis(config.redis.url, name, log)),
  );
  if (config.db.demoData) await seedDemoData(database.db, log);
  const app = createApp({ config, log, metrics: createMetrics(), database, redis: redis!, redisSub: redisSub!, ioPub: ioPub!, ioSub: ioSub! });
  const port = await app.listen(config.http.host, config.http.port);
  log.info({ port, host: config.http.host, database: database.kind }, "listening");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs + 5000).unref();
    await app.close();
    await Promise.allSettled([redis, redisSub, ioPub, ioSub].map((r) => r!.quit()));
    await database.close();
    clearTimeout(force);
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
} catch (err) {
  log.fatal({ err: err instanceof Error ? err.message : err }, "cannot start");
  process.exit(1);
}
