import { hostname } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const list = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A base URL of `scheme` or its TLS variant, kept without a trailing slash. */
const publicUrl = (scheme: "rtmp" | "http") =>
  z
    .string()
    .url()
    .regex(new RegExp(`^${scheme}s?://`), `must be a ${scheme}:// or ${scheme}s:// URL`)
    .transform((v) => v.replace(/\/+$/, ""));

/**
 * `REDIS_CLUSTER_NODES`: seed nodes of a Redis Cluster, `host:port` or `redis://[user:password@]host:port`
 * (`rediss://` for TLS), comma-separated; the credentials and TLS of the first URL that has them
 * apply to every node the cluster reports.
 */
function parseClusterNodes(value: string) {
  const nodes: { host: string; port: number }[] = [];
  let auth: { username: string | null; password: string | null; tls: boolean } | null = null;
  for (const entry of value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
    const url = new URL(/^[a-z]+:\/\//i.test(entry) ? entry : `redis://${entry}`);
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new Error(`"${entry}": a node is host:port, redis:// or rediss://`);
    const port = Number(url.port || 6379);
    if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${entry}": a node is host:port`);
    nodes.push({ host: url.hostname.replace(/^\[|\]$/g, ""), port });
    if (!auth && (url.username || url.password || url.protocol === "rediss:")) {
      auth = { username: url.username ? decodeURIComponent(url.username) : null, password: url.password ? decodeURIComponent(url.password) : null, tls: url.protocol === "rediss:" };
    }
  }
  if (nodes.length === 0) throw new Error("no node given");
  return { nodes, username: auth?.username ?? null, password: auth?.password ?? null, tls: auth?.tls ?? false };
}

/** Every environment variable the server reads, with its default. The only reader of process.env. */
const envSchema = z.object({
  /** Unset is production: development features (dev tokens, the WeChat sandbox, any origin, the demo) need `development` or `test`. */
  NODE_ENV: z.enum(["development", "test", "production"]).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only").optional(),

  HOST: z.string().default("0.0.0.0"),
  PORT: int(0, 65535).default(8080),
  ALLOWED_ORIGINS: list.optional(),
  TRUST_PROXY: bool.default(false),
  OPS_HOST: z.string().optional(),
  OPS_PORT: int(0, 65535).optional(),
  CONSOLE_DIR: z.string().min(1).optional(),

  DATABASE_URL: z.string().url().optional(),
  DATABASE_CONNECT_TIMEOUT_SEC: int(1, 300).default(10),
  DATABASE_QUERY_TIMEOUT_MS: int(500, 10 * 60_000).default(15_000),
  DATA_DIR: z.string().default("./data"),

  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return null;
      try {
        return parseClusterNodes(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
  REDIS_COMMAND_TIMEOUT_MS: int(100, 60_000).default(2000),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only").default("pinlive"),

  DEV_TOKENS: bool.optional(),
  SESSION_TTL_SEC: int(60, 365 * 24 * 3600).default(30 * 24 * 3600),
  AUTH_CACHE_MS: int(0, 600_000).default(60_000),
  STAFF_SESSION_TTL_SEC: int(60, 365 * 24 * 3600).default(12 * 3600),
  STAFF_LOGIN_PER_IP_PER_MIN: int(1, 100_000).default(20),
  STAFF_LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  STAFF_LOGIN_LOCK_SEC: int(1, 7 * 24 * 3600).default(15 * 60),
  RATE_LIMIT_LOGIN_PER_IP_PER_MIN: int(1, 1_000_000).optional(),
  RATE_LIMIT_LOGIN_PER_USER_PER_MIN: int(1, 1_000_000).default(10),
  RATE_LIMIT_ORDERS_PER_IP_PER_MIN: int(1, 1_000_000).optional(),
  RATE_LIMIT_ORDERS_PER_USER_PER_MIN: int(1, 1_000_000).default(20),
  RATE_LIMIT_UPLOADS_PER_IP_PER_MIN: int(1, 1_000_000).default(60),
  RATE_LIMIT_UPLOADS_PER_USER_PER_MIN: int(1, 1_000_000).default(10),
  ORDER_PAY_TIMEOUT_SEC: int(1, 24 * 3600).default(15 * 60),
  ORDER_MAX_UNPAID_PER_USER: int(1, 1000).default(5),
  ORDER_MAX_UNPAID_UNITS_PER_SKU: int(1, 100_000).default(99),
  // The orders' money columns are 32-bit integers.
  ORDER_MAX_TOTAL_FEN: int(1, 2_147_483_647).default(100_000_000),
  FLASH_BATCH_WAIT_MS: int(0, 100).default(2),
  FLASH_BATCH_MAX: int(1, 2000).default(256),
  FLASH_TAKE_STALE_MS: int(1000, 10 * 60_000).default(5000),
  GROUP_HOLD_SEC: int(1, 3600).default(5 * 60),
  COUPON_MAX_DISCOUNT_PERCENT: int(1, 100).default(50),
  COUPON_MAX_DISCOUNT_FEN: int(1, 100_000_000).default(10_000),
  COUPON_MAX_DROPS_PER_STREAM: int(0, 100_000).default(20),

  WECHAT_SANDBOX: bool.optional(),
  WECHAT_SANDBOX_LATENCY_MS: int(0, 10_000).default(0),
  WECHAT_API_BASE: z.string().url().optional(),
  WECHAT_APPID: z.string().min(1).optional(),
  WECHAT_SECRET: z.string().min(1).optional(),
  PUBLIC_BASE_URL: z.string().url().optional(),
  WECHATPAY_API_BASE: z.string().url().optional(),
  WECHATPAY_MCHID: z.string().regex(/^\d{8,12}$/).optional(),
  WECHATPAY_MERCHANT_SERIAL: z.string().min(1).optional(),
  WECHATPAY_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  WECHATPAY_APIV3_KEY: z.string().length(32).optional(),
  WECHATPAY_PLATFORM_KEY_ID: z.string().min(1).optional(),
  WECHATPAY_PLATFORM_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  DEMO_DATA: bool.default(false),
  DEMO_AUDIENCE: bool.default(false),
  DEMO_AUDIENCE_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a stream id").default("demo"),
  DEMO_AUDIENCE_VIEWERS: int(1, 2000).default(40),
  DEMO_AUDIENCE_COMMENTS_PER_SEC: z.coerce.number().min(0).max(100).default(0.5),
  DEMO_AUDIENCE_LIKES_PER_SEC: z.coerce.number().min(0).max(1000).default(4),
  DEMO_AUDIENCE_PURCHASES_PER_MIN: z.coerce.number().min(0).max(600).default(2),
  DEMO_AUDIENCE_GROUP_JOINS_PER_MIN: z.coerce.number().min(0).max(600).default(0.5),
  DEMO_PUBLISH: bool.default(false),

  IMAGE_MAX_BYTES: int(1024, 50 * 1024 * 1024).default(2 * 1024 * 1024),
  IMAGE_BASE_URL: publicUrl("http").optional(),

  JOBS_WORKER: bool.default(true),
  JOBS_CONCURRENCY: int(1, 1000).default(16),
  JOBS_LOCK_MS: int(1000, 10 * 60_000).default(30_000),
  JOBS_RECONCILE_INTERVAL_SEC: int(10, 24 * 3600).default(300),
  CLEANUP_INTERVAL_SEC: int(1, 24 * 3600).default(600),
  CLEANUP_BATCH: int(1, 100_000).default(1000),
  IDEMPOTENCY_KEY_TTL_SEC: int(60, 365 * 24 * 3600).default(24 * 3600),

  HUB_TICK_MS: int(10, 1000).default(50),
  ROOM_EVENTS_MAXLEN: int(100, 1_000_000).default(2000),
  ROOM_TTL_SEC: int(60, 30 * 24 * 3600).default(48 * 3600),
  ROOM_RECENT_COMMENTS: int(0, 200).default(30),
  ROOM_READABLE_COMMENTS_PER_SEC: int(1, 1_000_000).default(30),
  COMMENT_MAX_LENGTH: int(1, 2000).default(200),
  COMMENT_RATE_PER_SEC: z.coerce.number().positive().max(1_000_000).default(1),
  COMMENT_BURST: int(1, 1_000_000).default(5),
  LIKES_PER_SEC_PER_USER: int(1, 10_000).default(20),
  SENSITIVE_WORDS: list.default([]),
  COUNTS_INTERVAL_MS: int(100, 60_000).default(1000),
  STATS_BUCKET_SEC: int(1, 3600).default(10),

  WS_MAX_PAYLOAD_BYTES: int(256, 1024 * 1024).default(16 * 1024),
  WS_SOFT_BACKPRESSURE_BYTES: int(1024, 64 * 1024 * 1024).default(64 * 1024),
  WS_MAX_BACKPRESSURE_BYTES: int(4096, 256 * 1024 * 1024).default(1024 * 1024),
  WS_IDLE_TIMEOUT_SEC: int(8, 960).default(120),
  WS_SWEEP_MS: int(50, 10_000).default(250),
  WS_MAX_CONNECTIONS_PER_IP: int(0, 1_000_000).optional(),
  SHUTDOWN_GRACE_MS: int(0, 60_000).default(5000),

  INGEST_ENABLED: bool.optional(),
  RTMP_PORT: int(0, 65535).default(1935),
  FLV_PORT: int(0, 65535).default(8000),
  RTMP_PUBLIC_URL: publicUrl("rtmp").optional(),
  FLV_PUBLIC_URL: publicUrl("http").optional(),
  RTMP_IDLE_TIMEOUT_SEC: int(2, 300).default(10),
  RTMP_KEY_CHECK_SEC: int(1, 3600).default(2),
});

export type Env = z.infer<typeof envSchema>;

/** Fails with one message that names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === undefined || e.NODE_ENV === "production";
  if (production && e.DEV_TOKENS === true) {
    throw new Error("Invalid configuration:\n  DEV_TOKENS: dev tokens cannot be enabled in production");
  }
  if (production && e.WECHAT_SANDBOX === true) {
    throw new Error("Invalid configuration:\n  WECHAT_SANDBOX: the WeChat sandbox cannot be enabled in production");
  }
  for (const name of ["DEMO_DATA", "DEMO_AUDIENCE", "DEMO_PUBLISH"] as const) {
    if (production && e[name]) throw new Error(`Invalid configuration:\n  ${name}: the demo cannot run in production`);
  }
  const sandbox = e.WECHAT_SANDBOX ?? !production;
  if (e.DEMO_AUDIENCE && !sandbox) {
    throw new Error("Invalid configuration:\n  DEMO_AUDIENCE: the simulated audience signs in and pays through the WeChat sandbox; turn WECHAT_SANDBOX on");
  }
  if (!sandbox) {
    const required = [
      "WECHAT_APPID",
      "WECHAT_SECRET",
      "PUBLIC_BASE_URL",
      "WECHATPAY_MCHID",
      "WECHATPAY_MERCHANT_SERIAL",
      "WECHATPAY_PRIVATE_KEY_FILE",
      "WECHATPAY_APIV3_KEY",
      "WECHATPAY_PLATFORM_KEY_ID",
      "WECHATPAY_PLATFORM_PUBLIC_KEY_FILE",
    ] as const;
    const missing = required.filter((k) => !e[k]);
    if (missing.length > 0) {
      const hint = e.NODE_ENV === undefined ? "\n  (NODE_ENV is unset, which means production; set NODE_ENV=development to use the WeChat sandbox)" : "";
      throw new Error(`Invalid configuration:\n${missing.map((k) => `  ${k}: required when the WeChat sandbox is off`).join("\n")}${hint}`);
    }
  }
  if (e.WS_SOFT_BACKPRESSURE_BYTES >= e.WS_MAX_BACKPRESSURE_BYTES) {
    throw new Error("Invalid configuration:\n  WS_SOFT_BACKPRESSURE_BYTES: must be below WS_MAX_BACKPRESSURE_BYTES");
  }
  const config = {
    env: e.NODE_ENV ?? "production",
    production,
    logLevel: e.LOG_LEVEL,
    nodeId: e.NODE_ID ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, "-")}-${process.pid}-${randomBytes(3).toString("hex")}`,
    http: {
      host: e.HOST,
      port: e.PORT,
      /** null: any origin is allowed (development default). In production the site's own origin (PUBLIC_BASE_URL, where the console is served) is always on the list. */
      allowedOrigins: production ? [...new Set([...(e.ALLOWED_ORIGINS ?? []), ...(e.PUBLIC_BASE_URL ? [new URL(e.PUBLIC_BASE_URL).origin] : [])])] : (e.ALLOWED_ORIGINS ?? null),
      devTokens: e.DEV_TOKENS ?? !production,
      /** Believe the last X-Forwarded-For entry as the client's address (behind our own proxy only). */
      trustProxy: e.TRUST_PROXY,
      /** The built console served at /console/; null: the repository's console/dist. */
      consoleDir: e.CONSOLE_DIR ?? null,
    },
    /**
     * The operators' listener: /metrics, /readyz with each check, /healthz. null: none. The API port
     * keeps /healthz and a bare /readyz; it serves /metrics and the checks only outside production.
     */
    ops: e.OPS_PORT === undefined ? null : { host: e.OPS_HOST ?? e.HOST, port: e.OPS_PORT },
    auth: {
      sessionTtlSec: e.SESSION_TTL_SEC,
      /** HTTP requests' sessions are kept this long per node (0: every request asks PostgreSQL). */
      cacheMs: e.AUTH_CACHE_MS,
      staff: {
        sessionTtlSec: e.STAFF_SESSION_TTL_SEC,
        perIpPerMin: e.STAFF_LOGIN_PER_IP_PER_MIN,
        maxFailures: e.STAFF_LOGIN_MAX_FAILURES,
        lockSec: e.STAFF_LOGIN_LOCK_SEC,
      },
    },
    /**
     * Named per-route limits (`rateLimit` in a route's spec), per client address and per signed-in
     * user, in one-minute windows shared by every node. `login`: WeChat sign-ins (per user: new
     * sessions per WeChat account); `orders`: every route that places an order or takes a place;
     * `uploads`: image uploads (each is kept on disk).
     */
    rateLimits: {
      // The demo's simulated audience signs in and buys from this machine's one address.
      login: { perIp: { limit: e.RATE_LIMIT_LOGIN_PER_IP_PER_MIN ?? (e.DEMO_AUDIENCE ? 1_000_000 : 20), windowSec: 60 }, perUser: { limit: e.RATE_LIMIT_LOGIN_PER_USER_PER_MIN, windowSec: 60 } },
      orders: { perIp: { limit: e.RATE_LIMIT_ORDERS_PER_IP_PER_MIN ?? (e.DEMO_AUDIENCE ? 1_000_000 : 120), windowSec: 60 }, perUser: { limit: e.RATE_LIMIT_ORDERS_PER_USER_PER_MIN, windowSec: 60 } },
      uploads: { perIp: { limit: e.RATE_LIMIT_UPLOADS_PER_IP_PER_MIN, windowSec: 60 }, perUser: { limit: e.RATE_LIMIT_UPLOADS_PER_USER_PER_MIN, windowSec: 60 } },
    },
    orders: {
      payTimeoutSec: e.ORDER_PAY_TIMEOUT_SEC,
      /**
       * What one user may hold unpaid: orders, and units of one SKU (placing counts them under the
       * user's lock). A flash sale's per-person limit may not exceed `maxUnpaidUnitsPerSku`: the gate
       * is that sale's cap, so its hot path counts nothing more.
       */
      holds: { maxUnpaidOrders: e.ORDER_MAX_UNPAID_PER_USER, maxUnpaidUnitsPerSku: e.ORDER_MAX_UNPAID_UNITS_PER_SKU },
      /** The most one order's items may cost (ORDER_TOTAL_TOO_LARGE above it); at most 2^31 - 1, the money columns' range. */
      maxTotalFen: e.ORDER_MAX_TOTAL_FEN,
      /** Flash buys of one sale are gathered this long (when no batch of it is being written) and written together. */
      flashBatchWaitMs: e.FLASH_BATCH_WAIT_MS,
      flashBatchMax: e.FLASH_BATCH_MAX,
      /** A gate take whose order is not in PostgreSQL this long after it was taken is given back. */
      flashTakeStaleMs: e.FLASH_TAKE_STALE_MS,
    },
    /**
     * Live coupons: a coupon takes at most `maxDiscountPercent` of an order's items; a stream's
     * coupons are worth at most `maxDiscountFen` each and it drops at most `maxDrops` of them,
     * unless an admin set the stream's own limits.
     */
    coupons: { maxDiscountPercent: e.COUPON_MAX_DISCOUNT_PERCENT, defaultLimits: { maxDiscountFen: e.COUPON_MAX_DISCOUNT_FEN, maxDrops: e.COUPON_MAX_DROPS_PER_STREAM } },
    /** How long a group-buy place is held for its payment (never past the group's own deadline). */
    groups: { holdSec: e.GROUP_HOLD_SEC },
    wechat: {
      /** The in-process stand-in for WeChat's servers, with credentials generated at first run. */
      sandbox,
      /** The sandbox's merchant API and jscode2session answer this much later (WeChat's real latency, for tests and demos). */
      sandboxLatencyMs: e.WECHAT_SANDBOX_LATENCY_MS,
      /** null: this node's own sandbox (known once it listens), or WeChat when the sandbox is off. */
      apiBase: e.WECHAT_API_BASE ?? (sandbox ? null : "https://api.weixin.qq.com"),
      appId: e.WECHAT_APPID ?? null,
      secret: e.WECHAT_SECRET ?? null,
      /** Where WeChat reaches us (notify URLs); null: this node's own address. */
      publicBaseUrl: e.PUBLIC_BASE_URL ?? null,
      payApiBase: e.WECHATPAY_API_BASE ?? (sandbox ? null : "https://api.mch.weixin.qq.com"),
      pay: {
        mchid: e.WECHATPAY_MCHID ?? null,
        merchantSerial: e.WECHATPAY_MERCHANT_SERIAL ?? null,
        privateKeyFile: e.WECHATPAY_PRIVATE_KEY_FILE ?? null,
        apiV3Key: e.WECHATPAY_APIV3_KEY ?? null,
        platformKeyId: e.WECHATPAY_PLATFORM_KEY_ID ?? null,
        platformPublicKeyFile: e.WECHATPAY_PLATFORM_PUBLIC_KEY_FILE ?? null,
      },
    },
    jobs: {
      /** Run BullMQ workers on this node. */
      work: e.JOBS_WORKER,
      concurrency: e.JOBS_CONCURRENCY,
      /** A killed worker's job runs again this long after its last lock renewal. */
      lockMs: e.JOBS_LOCK_MS,
      reconcileIntervalSec: e.JOBS_RECONCILE_INTERVAL_SEC,
    },
    /** Expired sessions and Idempotency-Key rows older than `idempotencyKeyTtlSec` are deleted every `intervalSec`, `batch` rows at a time. */
    cleanup: { intervalSec: e.CLEANUP_INTERVAL_SEC, batch: e.CLEANUP_BATCH, idempotencyKeyTtlSec: e.IDEMPOTENCY_KEY_TTL_SEC },
    /**
     * `connectTimeoutSec`: a PostgreSQL connection not made by then fails (at start too: the node
     * exits saying so). `queryTimeoutMs`: a busy connection silent this long is cut (the request is
     * UNAVAILABLE); PostgreSQL's statement_timeout is 80 % of it.
     */
    db: { url: e.DATABASE_URL ?? null, dataDir: e.DATA_DIR, demoData: e.DEMO_DATA, connectTimeoutSec: e.DATABASE_CONNECT_TIMEOUT_SEC, queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS },
    media: {
      /** Uploaded images, one file per content hash. */
      dir: join(e.DATA_DIR, "images"),
      maxBytes: e.IMAGE_MAX_BYTES,
      /** Prefix of root-relative image URLs in responses; null: they stay root-relative. */
      baseUrl: e.IMAGE_BASE_URL ?? (e.PUBLIC_BASE_URL ? e.PUBLIC_BASE_URL.replace(/\/+$/, "") : null),
    },
    demo: {
      /** Simulated viewers in a room, through the public API (never in production). */
      audience: e.DEMO_AUDIENCE
        ? {
            streamId: e.DEMO_AUDIENCE_STREAM,
            viewers: e.DEMO_AUDIENCE_VIEWERS,
            commentsPerSec: e.DEMO_AUDIENCE_COMMENTS_PER_SEC,
            likesPerSec: e.DEMO_AUDIENCE_LIKES_PER_SEC,
            purchasesPerMin: e.DEMO_AUDIENCE_PURCHASES_PER_MIN,
            groupJoinsPerMin: e.DEMO_AUDIENCE_GROUP_JOINS_PER_MIN,
          }
        : null,
      /** Publish an ffmpeg test pattern to the demo stream (when ffmpeg is installed). */
      publish: e.DEMO_PUBLISH,
    },
    /**
     * `cluster`: a Redis Cluster's seed nodes (REDIS_CLUSTER_NODES); then every Redis user is a cluster
     * client and `url` is not used. `commandTimeoutMs`: a command Redis does not answer fails after
     * this (and a silent connection is made again).
     */
    redis: { url: e.REDIS_URL, cluster: e.REDIS_CLUSTER_NODES, prefix: e.REDIS_PREFIX, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    hub: {
      tickMs: e.HUB_TICK_MS,
      eventsMaxLen: e.ROOM_EVENTS_MAXLEN,
      roomTtlSec: e.ROOM_TTL_SEC,
      recentComments: e.ROOM_RECENT_COMMENTS,
      readableCommentsPerSec: e.ROOM_READABLE_COMMENTS_PER_SEC,
      countsIntervalMs: e.COUNTS_INTERVAL_MS,
      /** Width of a stream stats point (GET /v1/streams/:id/stats). */
      statsBucketMs: e.STATS_BUCKET_SEC * 1000,
      /** A user's likes per second on one node, across all their sockets. */
      likesPerSecPerUser: e.LIKES_PER_SEC_PER_USER,
    },
    comments: {
      maxLength: e.COMMENT_MAX_LENGTH,
      ratePerSec: e.COMMENT_RATE_PER_SEC,
      burst: e.COMMENT_BURST,
      sensitiveWords: e.SENSITIVE_WORDS,
    },
    ws: {
      maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      softBackpressureBytes: e.WS_SOFT_BACKPRESSURE_BYTES,
      maxBackpressureBytes: e.WS_MAX_BACKPRESSURE_BYTES,
      idleTimeoutSec: e.WS_IDLE_TIMEOUT_SEC,
      sweepMs: e.WS_SWEEP_MS,
      /** Live sockets (raw, socket.io, group pages) one client address may hold on this node; 0: no limit. The demo's simulated viewers share one address. */
      maxConnectionsPerIp: e.WS_MAX_CONNECTIONS_PER_IP ?? (e.DEMO_AUDIENCE ? 0 : 20),
    },
    ingest: {
      /** RTMP ingest and HTTP-FLV playback on this node (off by default under NODE_ENV=test). */
      enabled: e.INGEST_ENABLED ?? e.NODE_ENV !== "test",
      host: e.HOST,
      rtmpPort: e.RTMP_PORT,
      flvPort: e.FLV_PORT,
      /** What hosts and viewers are given (a proxy, a CDN); null: this node's own ports. */
      rtmpPublicUrl: e.RTMP_PUBLIC_URL ?? null,
      flvPublicUrl: e.FLV_PUBLIC_URL ?? null,
      /** A publisher silent this long (its network died) is disconnected, ending the stream. */
      idleTimeoutMs: e.RTMP_IDLE_TIMEOUT_SEC * 1000,
      /** A live publisher's key is checked this often: one that was rotated (on any node) is disconnected. */
      keyCheckMs: e.RTMP_KEY_CHECK_SEC * 1000,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  };
  return deepFreeze(config);
}

export type Config = ReturnType<typeof loadConfig>;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
