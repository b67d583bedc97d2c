import { fileURLToPath } from "node:url";
import uWS, { type TemplatedApp, type us_listen_socket } from "uWebSockets.js";
import { connectionUp, type RedisClient } from "./redis/connect.js";
import type { Config } from "./config.js";
import type { Database } from "./db/client.js";
import { findStream, setStreamStatus } from "./db/streams.repo.js";
import { createAuthenticator } from "./auth/authenticate.js";
import { cachedSessions } from "./auth/session-cache.js";
import { createApi } from "./http/api.js";
import { createRateLimiter } from "./http/rate-limit.redis.js";
import { authRoutes } from "./http/auth.routes.js";
import { catalogRoutes } from "./http/catalog.routes.js";
import { ordersRoutes } from "./http/orders.routes.js";
import { shoppingRoutes } from "./http/shopping.routes.js";
import { createOrders } from "./orders/orders.service.js";
import { devRoutes } from "./http/dev.routes.js";
import { healthRoutes, opsServer } from "./http/health.routes.js";
import { createOriginCheck } from "./uws/origin.js";
import { createUpgradeAnchor } from "./uws/upgrade-anchor.js";
import { createRouter } from "./uws/router.js";
import { writeResult } from "./uws/response.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import { createCommentRules } from "./realtime/comment-rules.js";
import { Hub } from "./realtime/hub.js";
import type { SetRoomState } from "./protocol/messages.js";
import { createRoomStore } from "./realtime/room-store.redis.js";
import { createRedisBroker } from "./realtime/broker/broker.redis.js";
import { attachRawTransport } from "./realtime/transport.uws.js";
import { createSlowReaderSweep } from "./realtime/slow-readers.js";
import { ConnectionsPerIp } from "./realtime/connections-per-ip.js";
import { attachSocketIoTransport } from "./realtime/transport.socketio.js";
import { redisKeys } from "./redis/keys.js";
import { socketIoAdapter } from "./redis/socketio-adapter.js";
import type { LoginCredentials, PayCredentials, SandboxPaySecrets } from "./wechat/credentials.js";
import { createPayClient } from "./wechat/pay.client.js";
import { paySandboxRoutes } from "./wechat/sandbox/pay.sandbox.js";
import { paymentsRoutes } from "./http/payments.routes.js";
import { createPayments } from "./payments/payments.service.js";
import { createFlashGate } from "./orders/flash-gate.redis.js";
import { createFlashCheckout } from "./orders/flash-checkout.js";
import { createLifecycle } from "./orders/lifecycle.js";
import { createOrderEvents } from "./orders/order-events.js";
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
import { createCleanup } from "./jobs/cleanup.js";
import { createPushes } from "./live/pushes.service.js";
import { pushesRoutes } from "./http/pushes.routes.js";
import { loginSandboxRoutes } from "./wechat/sandbox/login.sandbox.js";
import { imageUrlResolver } from "./media/image-url.js";
import { createImages } from "./media/images.service.js";
import { createImageStore } from "./media/images.store.js";
import { imagesRoutes } from "./http/images.routes.js";
import { profileRoutes } from "./http/profile.routes.js";
import { staffRoutes } from "./http/staff.routes.js";
import { createStaff } from "./staff/staff.service.js";
import { createLoginLimits } from "./staff/login-limits.redis.js";
import { liveRoomRoutes } from "./http/live-room.routes.js";
import { createStreamStats } from "./live/stream-stats.js";
import { createSensitiveWords } from "./live/sensitive-words.js";
import { createStaticSite, redirect } from "./http/static.js";
import { LiveSessions, watchEndedSessions } from "./realtime/ended-sessions.js";
import { RoomBans, watchBans } from "./realtime/room-bans.js";
import { createBans } from "./live/bans.service.js";
import { reportsRoutes } from "./http/reports.routes.js";
import { bestEffort } from "./redis/best-effort.js";

/** How long a request waits for a Redis side effect after its commit (a timer, an announcement) before answering anyway. */
const REDIS_SIDE_EFFECT_MS = 1000;
/** Every node reads the bans that changed in PostgreSQL this often (announcements are at most once). */
const BANS_REFRESH_MS = 30_000;

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  database: Database;
  /** Commands and scripts. */
  redis: RedisClient;
  /** What every request of a rush sends (route limits, the flash gate's scripts): auto-pipelined. */
  rushRedis: RedisClient;
  /** Sharded subscriptions of the hub's rooms. */
  redisSub: RedisClient;
  /** socket.io adapter's publisher and subscriber. */
  ioPub: RedisClient;
  ioSub: RedisClient;
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
  // HTTP requests' sessions, kept briefly per node; sockets look theirs up once, when they connect.
  const sessions = cachedSessions(authenticate, { ttlMs: config.auth.cacheMs, maxEntries: 100_000 });
  let draining = false;

  const rules = createCommentRules(config.comments);
  const liveSessions = new LiveSessions(log.child({ part: "sessions" }));
  const roomBans = new RoomBans(log.child({ part: "bans" }));
  // The rooms' broker: Redis scripts and sharded channels, shared by every node.
  const store = createRoomStore(redis, keys, metrics, { maxLen: config.hub.eventsMaxLen, ttlSec: config.hub.roomTtlSec, statsBucketMs: config.hub.statsBucketMs });
  const broker = createRedisBroker({ store, subscriber: deps.redisSub, log });
  const hub = new Hub({
    config,
    log,
    metrics,
    broker,
    rules,
    sessions: liveSessions,
    bans: roomBans,
    streams: {
      find: async (id) => {
        const s = await findStream(database.db, id);
        return s && { id: s.id, title: s.title, hostId: s.hostUserId, status: s.status, sensitiveWords: s.sensitiveWords };
      },
      setStatus: (id, status) => setStreamStatus(database.db, id, status),
    },
  });

  const setRoomState: SetRoomState = (roomId, field, value, push) => hub.setState(roomId, field, value, push);
  const slowReaders = createSlowReaderSweep({ ws: config.ws, metrics });
  const connections = new ConnectionsPerIp(config.ws.maxConnectionsPerIp);
  const upgradeAnchor = createUpgradeAnchor(app, log);
  const transportDeps = { app, config, log, metrics, hub, authenticate, originAllowed, slowReaders, bans: roomBans, connections, upgrade: upgradeAnchor.upgrade, anchored: upgradeAnchor.anchored };
  const raw = attachRawTransport(transportDeps);
  const sio = attachSocketIoTransport({
    ...transportDeps,
    adapter: socketIoAdapter(deps.ioPub, deps.ioSub, keys.socketIo),
  });
  hub.addSink(raw.sink);
  hub.addSink(sio.sink);

  const router = createRouter(app, log, { maxBodyBytes: 64 * 1024, trustProxy: config.http.trustProxy });
  const healthDeps = { metrics, draining: () => draining, checks: {
      redis: () => redis.ping(),
      // Rooms open only with their channel subscribed: a subscriber still reconnecting means no room can.
      redisSubscriber: () => connectionUp(deps.redisSub),
      database: () => database.ping(),
    },
  };
  healthRoutes(router, { ...healthDeps, details: !config.production });
  const ops = config.ops ? opsServer(healthDeps) : null;
  let opsPort: number | null = null;
  let selfBase = "";
  const wechatApiBase = () => config.wechat.apiBase ?? `${selfBase}/sandbox/wechat`;
  if (config.wechat.sandbox) loginSandboxRoutes(router, { redis, keys, credentials: deps.wechatLogin, latencyMs: config.wechat.sandboxLatencyMs });
  if (config.http.devTokens) devRoutes(router, { db: database.db, authenticate });
  const { rushRedis } = deps;
  const limiter = createRateLimiter(rushRedis, keys, log);
  const api = createApi(router, sessions.authenticate, database.db, imageUrlResolver(config.media.baseUrl), {
    limiter,
    policies: config.rateLimits,
  });
  // Ended sessions close their live sockets and leave the HTTP session cache, on every node that hears of them.
  const endedSessions = watchEndedSessions({
    subscriber: deps.redisSub,
    publisher: redis,
    channel: keys.sessionsChannel,
    log,
    sessions: {
      endUser: (userId) => {
        sessions.forgetUser(userId);
        liveSessions.endUser(userId);
      },
      endSession: (hash) => {
        sessions.forgetSession(hash);
        liveSessions.endSession(hash);
      },
    },
    resubscribed: () => {
      sessions.forgetAll();
      log.info("ended-session announcements may have been missed: the HTTP session cache was emptied");
    },
  });
  authRoutes(api, {
    db: database.db,
    sessionTtlSec: config.auth.sessionTtlSec,
    login: createWechatLogin({ apiBase: wechatApiBase, credentials: deps.wechatLogin }),
    // Every node closes the session's live sockets; one that misses it refuses the token from now on anyway.
    sessionEnded: (hash) => {
      sessions.forgetSession(hash);
      return bestEffort(endedSessions.announceSession(hash), REDIS_SIDE_EFFECT_MS, log, { msg: "session end not announced" });
    },
  });
  const images = createImages({ db: database.db, store: createImageStore(config.media.dir), maxBytes: config.media.maxBytes });
  imagesRoutes(api, router, { images, maxBytes: config.media.maxBytes });
  profileRoutes(api, { db: database.db, images, maxImageBytes: config.media.maxBytes });
  staffRoutes(
    api,
    createStaff({
      db: database.db,
      limits: createLoginLimits(redis, keys, config.auth.staff),
      sessionTtlSec: config.auth.staff.sessionTtlSec,
      sessionsEnded: (userId) => {
        sessions.forgetUser(userId);
        return endedSessions.announce(userId);
      },
    }),
  );
  catalogRoutes(api, database.db);
  shoppingRoutes(api, database.db);
  const jobs = createJobs({ redis: config.redis, prefix: keys.jobs, nodeId: config.nodeId, log: log.child({ part: "jobs" }), metrics, ...config.jobs, commandTimeoutMs: config.redis.commandTimeoutMs });
  // The order lifecycle: the one writer of order state, stock, flash units and coupon use; the
  // others subscribe to its events (once, here, while the app is built).
  const orderEvents = createOrderEvents(log.child({ part: "orders" }));
  const flashGate = createFlashGate(rushRedis, keys, { takeTimeoutMs: config.redis.commandTimeoutMs });
  const pricing = { maxTotalFen: config.orders.maxTotalFen, couponMaxDiscountPercent: config.coupons.maxDiscountPercent };
  const lifecycle = createLifecycle({ db: database.db, events: orderEvents, log, payTimeoutSec: config.orders.payTimeoutSec, holds: config.orders.holds, pricing, gate: flashGate });
  const orders = createOrders({ db: database.db, lifecycle, pricing });
  const checkout = createFlashCheckout({
    db: database.db,
    lifecycle,
    gate: flashGate,
    log: log.child({ part: "flash" }),
    options: {
      gatherMs: config.orders.flashBatchWaitMs,
      maxBatch: config.orders.flashBatchMax,
      staleMs: config.orders.flashTakeStaleMs,
      maxTotalFen: config.orders.maxTotalFen,
    },
  });
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
    lifecycle,
    events: orderEvents,
    pay: payClient,
    log,
    notifyUrl: () => `${publicBase()}/v1/pay/notify`,
    refundNotifyUrl: () => `${publicBase()}/v1/pay/refund-notify`,
    publish: (roomId, event) => hub.publish(roomId, event),
  });
  paymentsRoutes(api, router, { payments, log });
  const timeouts = createOrderTimeouts({ db: database.db, jobs, events: orderEvents, close: (orderId, reason) => payments.cancelOrder(null, orderId, reason), log });
  jobs.handle("order.timeout", (d) => timeouts.run(d));
  jobs.handle("order.timeouts", (d) => timeouts.runBatch(d));

  const groupFeed = createGroupFeed({ db: database.db, redis, channel: keys.groupsChannel, setRoomState });
  const groups = createGroups({ db: database.db, orders, lifecycle, events: orderEvents, payments, jobs, log: log.child({ part: "groups" }), holdSec: config.groups.holdSec, announce: groupFeed });
  groupsRoutes(api, { db: database.db, groups, activities: createActivities(database.db) });
  jobs.handle("group.expire", (d) => groups.expire(d));
  jobs.handle("group.settle", (d) => groups.settle(d));
  attachGroupWatch({ app, io: sio.io, subscriber: deps.redisSub, channel: keys.groupsChannel, log, originAllowed, progress: (id) => progressOf(database.db, id), connections, trustProxy: config.http.trustProxy, upgrade: upgradeAnchor.upgrade });
  ordersRoutes(api, { orders, cancel: payments.cancelOrder });
  const flash = createFlash({
    db: database.db,
    checkout,
    events: orderEvents,
    log,
    maxPerUserLimit: config.orders.holds.maxUnpaidUnitsPerSku,
    setRoomState,
  });
  orderEvents.seal();
  flashRoutes(api, flash);
  reportsRoutes(api, database.db);
  const coupons = createCoupons({ db: database.db, log, defaultLimits: config.coupons.defaultLimits, setRoomState });
  couponsRoutes(api, coupons);
  // RTMP ingest: a publish with the stream's key marks it live, the publisher leaving marks it ended.
  const ingest = createIngest({
    config: config.ingest,
    log,
    db: database.db,
    setRoomState,
  });
  streamsRoutes(api, createStreams(database.db, ingest.urls, (ids) => broker.peekCounts(ids)));
  // Bans and kicks: PostgreSQL keeps the bans, every node mirrors them and closes the user's sockets.
  const banWatch = watchBans({
    bans: roomBans,
    subscriber: deps.redisSub,
    publisher: redis,
    channel: keys.bansChannel,
    nodeId: config.nodeId,
    log,
    changes: (cursor) => bans.changes(cursor),
    refreshMs: BANS_REFRESH_MS,
  });
  const bans = createBans({ db: database.db, changed: async (change) => {
      await bestEffort(banWatch.announce(change), REDIS_SIDE_EFFECT_MS, log, { msg: "ban not announced", kind: change.kind });
    },
  });
  liveRoomRoutes(api, {
    stats: createStreamStats({ db: database.db, redis, keys, bucketMs: config.hub.statsBucketMs }),
    words: createSensitiveWords({ db: database.db, globalWords: rules.globalWords, publish: (streamId, words) => hub.setWords(streamId, words) }),
    bans,
  });

  const pushes = createPushes({ db: database.db, jobs, log, setRoomState });
  pushesRoutes(api, pushes);
  jobs.handle("push.fire", (d) => pushes.fire(d));
  jobs.handle("push.countdown", (d) => pushes.countdown(d));
  const cleanup = createCleanup({
    db: database.db,
    jobs,
    log: log.child({ part: "cleanup" }),
    idempotencyTtlSec: config.cleanup.idempotencyKeyTtlSec,
    batch: config.cleanup.batch,
    intervalSec: config.cleanup.intervalSec,
  });
  jobs.handle("maintenance.cleanup", async () => {
    await cleanup.run();
  });
  let reconciler: ReturnType<typeof startReconciler> | null = null;
  const openapi = JSON.stringify(api.openapi({ title: "pinlive HTTP API", version: "1" }));
  router.get("/openapi.json", () => ({ status: 200, body: openapi }));
  // The host console (a built SPA); the site's root leads to it.
  createStaticSite({ root: config.http.consoleDir ?? fileURLToPath(new URL("../console/dist", import.meta.url)), prefix: "/console", log }).register(app);
  for (const method of ["get", "head"] as const) app[method]("/", (res) => redirect(res, "/console/"));
  app.any("/*", (res) => writeResult(res, { status: 404, body: { code: "NOT_FOUND", message: "No such route." } }));

  let listenSocket: us_listen_socket | null = null;

  return {
    app,
    hub,
    io: sio.io,
    jobs,
    /** Re-schedules every job PostgreSQL says is due (tests; it also runs on start and periodically). */
    reconcile: () => reconciler?.runNow() ?? Promise.resolve(),
    /** The ops listener's bound port (OPS_PORT), once listening; null without one. */
    get opsPort() {
      return opsPort;
    },
    /** Resolves with the bound port (port 0 picks a free one). */
    async listen(host: string, port: number): Promise<number> {
      hub.start();
      await banWatch.start();
      await ingest.listen();
      if (ops && config.ops) opsPort = await ops.listen(config.ops.host, config.ops.port);
      const bound = await new Promise<number>((resolve, reject) => {
        app.listen(host, port, (socket) => {
          if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
          listenSocket = socket;
          const bound = uWS.us_socket_local_port(socket);
          const selfHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
          selfBase = `http://${selfHost}:${bound}`;
          void upgradeAnchor.start().then(() => resolve(bound));
          // Jobs call WeChat (our own sandbox in development) and the hub: start them once both answer.
          jobs.start();
          checkout.start();
          // Its first round (now) also schedules the repeating cleanup, and every round sets it again should Redis have lost it.
          reconciler = startReconciler(
            { pushes: () => pushes.reconcile(), orders: () => timeouts.reconcile(), groups: () => groups.reconcile(), cleanup: () => cleanup.reconcile() },
            config.jobs.reconcileIntervalSec,
            log.child({ part: "reconciler" }),
          );
        });
      });
      return bound;
    },
    /**
     * Graceful stop: stop accepting connections, close live sockets (clients reconnect elsewhere),
     * let HTTP requests in flight finish (up to SHUTDOWN_GRACE_MS), then stop jobs, flush, drain.
     */
    async close() {
      draining = true;
      await ingest.close();
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = null;
      upgradeAnchor.stop();
      raw.close();
      slowReaders.stop();
      const waiting = router.inFlight;
      if (waiting > 0) log.info({ requests: waiting, graceMs: config.shutdownGraceMs }, "waiting for requests in flight");
      if (!(await router.drain(config.shutdownGraceMs))) log.warn({ requests: router.inFlight }, "requests still in flight after SHUTDOWN_GRACE_MS; stopping anyway");
      flash.stop();
      checkout.stop();
      coupons.stop();
      await reconciler?.stop();
      await jobs.close();
      payments.flushAnnouncements();
      await sio.close();
      await hub.stop();
      liveSessions.stop();
      banWatch.stop();
      await limiter.stop();
      await ops?.close();
    },
  };
}

export type PinliveApp = ReturnType<typeof createApp>;
