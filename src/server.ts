import { readFileSync } from "node:fs";
import { createApp } from "./app.js";
import type { Config } from "./config.js";
import { openDatabase } from "./db/client.js";
import { seedDemoData, type DemoLogin } from "./demo/demo-data.js";
import { startAudience } from "./demo/audience.js";
import { startDemoPublisher } from "./demo/publisher.js";
import { createImages } from "./media/images.service.js";
import { createImageStore } from "./media/images.store.js";
import type { Logger } from "./log.js";
import { createMetrics } from "./metrics.js";
import { connectRedis, rushConnection } from "./redis/connect.js";
import { sandboxLoginCredentials, sandboxPayCredentials, type PayCredentials } from "./wechat/credentials.js";

const DEMO_IMAGE_MAX_BYTES = 16 * 1024 * 1024;

/** Opens the database and Redis, builds the app and listens. `stop` undoes all of it, gracefully. */
export async function startServer(config: Config, log: Logger) {
  const database = await openDatabase({ ...config.db, log });
  const connect = (name: string, o: { subscriber?: boolean; autoPipelining?: boolean } = {}) =>
    connectRedis(config.redis, name, config.nodeId, log, { commandTimeoutMs: config.redis.commandTimeoutMs, ...o });
  const [redis, redisSub, ioPub, ioSub, rushRedis] = await Promise.all([
    connect("main"),
    connect("rooms-sub", { subscriber: true }),
    connect("io-pub"),
    connect("io-sub", { subscriber: true }),
    connect("rush", rushConnection(config.redis)),
  ]);
  const connections = [redis, redisSub, ioPub, ioSub, rushRedis];
  let demoLogins: Awaited<ReturnType<typeof seedDemoData>> | null = null;
  if (config.db.demoData) {
    // The demo's own pictures go through the upload path (checked, stored by hash), whatever IMAGE_MAX_BYTES says.
    const images = createImages({ db: database.db, store: createImageStore(config.media.dir), maxBytes: DEMO_IMAGE_MAX_BYTES });
    demoLogins = await seedDemoData(database.db, log, images);
  }
  const metrics = createMetrics();
  const wechatLogin = config.wechat.sandbox
    ? await sandboxLoginCredentials(database.db)
    : { appId: config.wechat.appId!, secret: config.wechat.secret! };
  const wechatPay = config.wechat.sandbox ? await sandboxPayCredentials(database.db, wechatLogin.appId) : { pay: merchantPayCredentials(config, wechatLogin.appId), sandbox: null };
  const app = createApp({ config, log, metrics, database, redis, redisSub, ioPub, ioSub, rushRedis, wechatLogin, wechatPay });
  const port = await app.listen(config.http.host, config.http.port);
  log.info({ port, host: config.http.host, database: database.kind, ...(app.opsPort !== null ? { opsPort: app.opsPort } : {}) }, "listening");
  if (config.production && app.opsPort === null) log.warn("no OPS_PORT: /metrics and the readiness checks are not served (the API port keeps /healthz and a bare /readyz)");
  const demo = await startDemo(config, log, port, demoLogins);
  return {
    port,
    app,
    metrics,
    database,
    redis,
    async stop() {
      await demo.stop();
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

/** The demo's parts that act like clients of this node: its console sign-ins shown, the audience, the encoder. */
async function startDemo(config: Config, log: Logger, port: number, logins: { host: DemoLogin; admin: DemoLogin } | null) {
  const host = config.http.host === "0.0.0.0" || config.http.host === "::" ? "127.0.0.1" : config.http.host;
  const self = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (logins) {
    const consoleUrl = `${config.wechat.publicBaseUrl ?? self}/console/`;
    const shown = (l: DemoLogin) => ({ username: l.username, password: l.password ?? "(changed in the console; not shown)" });
    log.info({ consoleUrl, host: shown(logins.host), admin: shown(logins.admin) }, "demo console: open consoleUrl and sign in as host or admin");
    if (process.stdout.isTTY) {
      const line = (l: DemoLogin) => `${l.username} / ${shown(l).password}`;
      process.stdout.write(`\n  pinlive demo\n  console  ${consoleUrl}\n  host     ${line(logins.host)}\n  admin    ${line(logins.admin)}\n\n`);
    }
  }
  const audience = config.demo.audience ? startAudience({ ...config.demo.audience, baseUrl: self, log }) : null;
  const hostLogin = logins?.host.password ? { username: logins.host.username, password: logins.host.password } : null;
  const publisher = config.demo.publish && hostLogin ? await startDemoPublisher({ baseUrl: self, streamId: "demo", login: hostLogin, log }) : null;
  if (config.demo.publish && !hostLogin) log.warn("DEMO_PUBLISH needs DEMO_DATA and the demo host's shown password: not published");
  return {
    async stop() {
      await Promise.all([audience?.stop(), publisher?.stop()]);
    },
  };
}
