import uWS, { type TemplatedApp, type us_listen_socket } from "uWebSockets.js";
import type { Redis } from "ioredis";
import type { Config } from "./config.js";
import type { Database } from "./db/client.js";
import { findStream, setStreamStatus } from "./db/streams.repo.js";
import { createAuthenticator } from "./domain/auth.js";
import { createApi } from "./http/api.js";
import { authRoutes } from "./http/auth.routes.js";
import { catalogRoutes } from "./http/catalog.routes.js";
import { ordersRoutes } from "./http/orders.routes.js";
import { shoppingRoutes } from "./http/shopping.routes.js";
import { createOrders } from "./orders/orders.service.js";
import { devRoutes } from "./http/dev.routes.js";
import { healthRoutes } from "./http/health.routes.js";
import { createOriginCheck } from "./http/origin.js";
import { createRouter, writeResult } from "./http/uws-http.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import { createCommentRules } from "./realtime/comment-rules.js";
import { Hub } from "./realtime/hub.js";
import type { StatePush } from "./protocol/messages.js";
import { createRoomStore } from "./realtime/room-store.redis.js";
import { attachRawTransport } from "./realtime/transport.uws.js";
import { attachSocketIoTransport } from "./realtime/transport.socketio.js";
import { redisKeys } from "./redis/keys.js";
import type { LoginCredentials, PayCredentials, SandboxPaySecrets } from "./wechat/credentials.js";
import { createPayClient } from "./wechat/pay.client.js";
import { paySandboxRoutes } from "./wechat/sandbox/pay.sandbox.js";
import { paymentsRoutes } from "./http/payments.routes.js";
import { createPayments } from "./payments/payments.service.js";
import { createFlashGate } from "./flash/flash-gate.redis.js";
import { createFlash } from "./flash/flash.service.js";
import { flashRoutes } from "./http/flash.routes.js";
import { createCoupons } from "./coupons/coupons.service.js";
import { couponsRoutes } from "./http/coupons.routes.js";
import { streamsRoutes } from "./http/streams.routes.js";
import { createStreams } from "./live/streams.service.js";
import { createIngest } from "./live/ingest.js";
import { createWechatLogin } from "./wechat/login.client.js";
import { createJobs } from "./jobs/jobs.js";
import { createOrderTimeouts } from "./orders/order-timeout.js";
import { createGroupFeed } from "./groups/group-feed.js";
import { createGroups } from "./groups/groups.service.js";
import { createActivities } from "./groups/activities.service.js";
import { progressOf } from "./groups/group-progress.js";
import { groupsRoutes } from "./http/groups.routes.js";
import { attachGroupWatch } from "./realtime/group-watch.js";
import { startReconciler } from "./jobs/reconciler.js";
import { createPushes } from "./live/pushes.service.js";
import { pushesRoutes } from "./http/pushes.routes.js";
import { loginSandboxRoutes } from "./wechat/sandbox/login.sandbox.js";

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  database: Database;
  /** Commands and scripts. */
  redis: Redis;
  /** Sharded subscriptions of the hub's rooms. */
  redisSub: Redis;
  /** socket.io adapter's publisher and subscriber. */
  ioPub: Redis;
  ioSub: Redis;
  /** Our mini program's appid and secret (the sandbox's generated ones in development). */
  wechatLogin: LoginCredentials;
  /** Merchant credentials, and the sandbox's own keys when the sandbox is on. */
  wechatPay: { pay: PayCredentials; sandbox: SandboxPaySecrets | null };
}

/** Fails fast when uWebSockets.js fell back to its JS shim (no native binary for this Node). */
export function assertNativeUws() {
  if (typeof (uWS as unknown as { getParts?: unknown }).getParts !== "function") {
    throw new Error(`uWebSockets.js has no native binary for Node ${process.version}; use Node 20.`);
  }
}

/** Builds the whole server on one uWS app; does not listen and reads no environment. */
export function createApp(deps: AppDeps) {
  assertNativeUws();
  const { config, log, metrics, database, redis } = deps;
  const app: TemplatedApp = uWS.App();
  const keys = redisKeys(config.redis.prefix);
  const originAllowed = createOriginCheck(config.http.allowedOrigins);
  const authenticate = createAuthenticator(database.db);
  let draining = false;

  const store = createRoomStore(redis, keys, metrics, { maxLen: config.hub.eventsMaxLen, ttlSec: config.hub.roomTtlSec });
  const hub = new Hub({
    config,
    log,
    metrics,
    store,
    subscriber: deps.redisSub,
    rules: createCommentRules(config.comments),
    streams: {
      find: async (id) => {
        const s = await findStream(database.db, id);
        return s && { id: s.id, title: s.title, hostId: s.hostUserId, status: s.status };
      },
      setStatus: (id, status) => setStreamStatus(database.db, id, status),
    },
  });

  const transportDeps = { app, config, log, metrics, hub, authenticate, originAllowed };
  const raw = attachRawTransport(transportDeps);
  const sio = attachSocketIoTransport({
    ...transportDeps,
    pubClient: deps.ioPub,
    subClient: deps.ioSub,
    adapterKey: keys.socketIo,
  });
  hub.addSink(raw.sink);
  hub.addSink(sio.sink);

  const router = createRouter(app, log, { maxBodyBytes: 64 * 1024 });
  healthRoutes(router, {
    metrics,
    draining: () => draining,
    checks: { redis: () => redis.ping(), database: () => database.ping() },
  });
  let selfBase = "";
  const wechatApiBase = () => config.wechat.apiBase ?? `${selfBase}/sandbox/wechat`;
  if (config.wechat.sandbox) loginSandboxRoutes(router, { redis, keys, credentials: deps.wechatLogin });
  authRoutes(router, {
    db: database.db,
    authenticate,
    sessionTtlSec: config.auth.sessionTtlSec,
    login: createWechatLogin({ apiBase: wechatApiBase, credentials: deps.wechatLogin }),
  });
  if (config.http.devTokens) devRoutes(router, { db: database.db, authenticate });
  const api = createApi(router, authenticate, database.db);
  catalogRoutes(api, database.db);
  shoppingRoutes(api, database.db);
  const jobs = createJobs({ redisUrl: config.redis.url, prefix: keys.jobs, nodeId: config.nodeId, log: log.child({ part: "jobs" }), metrics, ...config.jobs });
  const orders = createOrders({ db: database.db, payTimeoutSec: config.orders.payTimeoutSec });
  const publicBase = () => config.wechat.publicBaseUrl ?? selfBase;
  const payClient = createPayClient({
    apiBase: () => config.wechat.payApiBase ?? `${selfBase}/sandbox/wechat`,
    credentials: deps.wechatPay.pay,
  });
  if (config.wechat.sandbox && deps.wechatPay.sandbox) {
    paySandboxRoutes(router, { db: database.db, log, pay: deps.wechatPay.pay, secrets: deps.wechatPay.sandbox, latencyMs: config.wechat.sandboxLatencyMs });
  }
  const payments = createPayments({
    db: database.db,
    orders,
    pay: payClient,
    log,
    notifyUrl: () => `${publicBase()}/v1/pay/notify`,
    refundNotifyUrl: () => `${publicBase()}/v1/pay/refund-notify`,
    publish: (roomId, event) => hub.publish(roomId, event),
  });
  paymentsRoutes(api, router, { payments, log });
  const timeouts = createOrderTimeouts({ db: database.db, jobs, payments, log });
  orders.hooks.placed = (order) => timeouts.schedule(order).catch((err: unknown) => log.warn({ err, orderId: order.id }, "payment timer not set; the reconciler will"));
  jobs.handle("order.timeout", (d) => timeouts.run(d));

  const groupFeed = createGroupFeed({ db: database.db, redis, channel: keys.groupsChannel, setRoomState: (roomId, field, value, push) => hub.setState(roomId, field, value, push) });
  const groups = createGroups({ db: database.db, orders, payments, jobs, log: log.child({ part: "groups" }), holdSec: config.groups.holdSec, announce: groupFeed });
  payments.hooks.paid = (order) => groups.onPaid(order);
  orders.hooks.cancelled = (order) => groups.onCancelled(order);
  orders.hooks.shippable = async (order) => !order.groupId || (await groups.group(order.groupId)).status === "complete";
  groupsRoutes(api, { db: database.db, groups, activities: createActivities(database.db) });
  jobs.handle("group.expire", (d) => groups.expire(d));
  jobs.handle("group.settle", (d) => groups.settle(d));
  attachGroupWatch({ app, io: sio.io, subscriber: deps.redisSub, channel: keys.groupsChannel, log, originAllowed, progress: (id) => progressOf(database.db, id) });
  ordersRoutes(api, { db: database.db, orders, cancel: payments.cancelOrder });
  const flash = createFlash({
    db: database.db,
    orders,
    gate: createFlashGate(redis, keys),
    log,
    setRoomState: (roomId, field, value, push) => hub.setState(roomId, field, value, push),
  });
  flashRoutes(api, flash);
  const coupons = createCoupons({ db: database.db, log, setRoomState: (roomId, field, value, push) => hub.setState(roomId, field, value, push) });
  couponsRoutes(api, coupons);
  // RTMP ingest: a publish with the stream's key marks it live, the publisher leaving marks it ended.
  const ingest = createIngest({
    config: config.ingest,
    log,
    db: database.db,
    setRoomState: (roomId, field, value, push) => hub.setState(roomId, field, value, push),
  });
  streamsRoutes(api, createStreams(database.db, ingest.urls));

  const setRoomState = (roomId: string, field: string, value: unknown, push: StatePush) => hub.setState(roomId, field, value, push);
  const pushes = createPushes({ db: database.db, jobs, log, setRoomState });
  pushesRoutes(api, pushes);
  jobs.handle("push.fire", (d) => pushes.fire(d));
  jobs.handle("push.countdown", (d) => pushes.countdown(d));
  let reconciler: ReturnType<typeof startReconciler> | null = null;
  const openapi = JSON.stringify(api.openapi({ title: "pinlive HTTP API", version: "1" }));
  router.get("/openapi.json", () => ({ status: 200, body: openapi }));
  app.any("/*", (res) => writeResult(res, { status: 404, body: { code: "NOT_FOUND", message: "No such route." } }));

  let listenSocket: us_listen_socket | null = null;

  return {
    app,
    hub,
    io: sio.io,
    jobs,
    /** Re-schedules every job PostgreSQL says is due (tests; it also runs on start and periodically). */
    reconcile: () => reconciler?.runNow() ?? Promise.resolve(),
    /** Resolves with the bound port (port 0 picks a free one). */
    async listen(host: string, port: number): Promise<number> {
      hub.start();
      await ingest.listen();
      return new Promise((resolve, reject) => {
        app.listen(host, port, (socket) => {
          if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
          listenSocket = socket;
          const bound = uWS.us_socket_local_port(socket);
          selfBase = `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${bound}`;
          // Jobs call WeChat (our own sandbox in development) and the hub: start them once both answer.
          jobs.start();
          reconciler = startReconciler({ pushes: () => pushes.reconcile(), orders: () => timeouts.reconcile(), groups: () => groups.reconcile() }, config.jobs.reconcileIntervalSec, log.child({ part: "reconciler" }));
          resolve(bound);
        });
      });
    },
    /** Graceful stop: refuse new work, close sockets (clients reconnect elsewhere), flush, drain. */
    async close() {
      draining = true;
      await ingest.close();
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
      raw.close();
      flash.stop();
      coupons.stop();
      await reconciler?.stop();
      await jobs.close();
      payments.flushAnnouncements();
      await sio.close();
      await hub.stop();
    },
  };
}

export type PinliveApp = ReturnType<typeof createApp>;
