import { readFileSync } from "node:fs";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { openDatabase } from "./db/client.js";
import { seedDemoData } from "./db/demo-data.js";
import type { Logger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { connectRedis } from "./redis/connect.js";
import { sandboxLoginCredentials, sandboxPayCredentials, type PayCredentials } from "./wechat/credentials.js";

/** Opens the database and Redis, builds the app and listens. `stop` undoes all of it, gracefully. */
export async function startServer(config: Config, log: Logger) {
  const database = await openDatabase(config.db);
  const connections = await Promise.all(
    ["main", "rooms-sub", "io-pub", "io-sub"].map((name) => connectRedis(config.redis.url, name, config.nodeId, log)),
  );
  const [redis, redisSub, ioPub, ioSub] = connections as [typeof connections[0], typeof connections[0], typeof connections[0], typeof connections[0]];
  if (config.db.demoData) await seedDemoData(database.db, log);
  const metrics = createMetrics();
  const wechatLogin = config.wechat.sandbox
    ? await sandboxLoginCredentials(database.db)
    : { appId: config.wechat.appId!, secret: config.wechat.secret! };
  const wechatPay = config.wechat.sandbox ? await sandboxPayCredentials(database.db, wechatLogin.appId) : { pay: merchantPayCredentials(config, wechatLogin.appId), sandbox: null };
  const app = createApp({ config, log, metrics, database, redis, redisSub, ioPub, ioSub, wechatLogin, wechatPay });
  const port = await app.listen(config.http.host, config.http.port);
  log.info({ port, host: config.http.host, database: database.kind }, "listening");
  return {
    port,
    app,
    metrics,
    database,
    redis,
    async stop() {
      await app.close();
      await Promise.allSettled(connections.map((r) => r.quit()));
      await database.close();
    },
  };
}

export type RunningServer = Awaited<ReturnType<typeof startServer>>;

/** The merchant's real credentials, from the files and values the configuration names. */
function merchantPayCredentials(config: Config, appId: string): PayCredentials {
  const p = config.wechat.pay;
  return {
    mchid: p.mchid!,
    appId,
    merchantSerial: p.merchantSerial!,
    merchantPrivateKey: readFileSync(p.privateKeyFile!, "utf8"),
    apiV3Key: p.apiV3Key!,
    platformKeys: { [p.platformKeyId!]: readFileSync(p.platformPublicKeyFile!, "utf8") },
  };
}
