import { hostname } from "node:os";
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

/** Every environment variable the server reads, with its default. The only reader of process.env. */
const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only").optional(),

  HOST: z.string().default("0.0.0.0"),
  PORT: int(0, 65535).default(8080),
  ALLOWED_ORIGINS: list.optional(),

  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default("./data"),

  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only").default("pinlive"),

  DEV_TOKENS: bool.optional(),
  SESSION_TTL_SEC: int(60, 365 * 24 * 3600).default(30 * 24 * 3600),
  ORDER_PAY_TIMEOUT_SEC: int(1, 24 * 3600).default(15 * 60),
  GROUP_HOLD_SEC: int(1, 3600).default(5 * 60),

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

  JOBS_WORKER: bool.default(true),
  JOBS_CONCURRENCY: int(1, 1000).default(16),
  JOBS_LOCK_MS: int(1000, 10 * 60_000).default(30_000),
  JOBS_RECONCILE_INTERVAL_SEC: int(10, 24 * 3600).default(300),

  HUB_TICK_MS: int(10, 1000).default(50),
  ROOM_EVENTS_MAXLEN: int(100, 1_000_000).default(2000),
  ROOM_TTL_SEC: int(60, 30 * 24 * 3600).default(48 * 3600),
  ROOM_RECENT_COMMENTS: int(0, 200).default(30),
  ROOM_READABLE_COMMENTS_PER_SEC: int(1, 1_000_000).default(30),
  COMMENT_MAX_LENGTH: int(1, 2000).default(200),
  COMMENT_RATE_PER_SEC: z.coerce.number().positive().max(1_000_000).default(1),
  COMMENT_BURST: int(1, 1_000_000).default(5),
  LIKES_PER_SEC_PER_SOCKET: int(1, 10_000).default(20),
  SENSITIVE_WORDS: list.default([]),
  COUNTS_INTERVAL_MS: int(100, 60_000).default(1000),

  WS_MAX_PAYLOAD_BYTES: int(256, 1024 * 1024).default(16 * 1024),
  WS_SOFT_BACKPRESSURE_BYTES: int(1024, 64 * 1024 * 1024).default(64 * 1024),
  WS_MAX_BACKPRESSURE_BYTES: int(4096, 256 * 1024 * 1024).default(1024 * 1024),
  WS_IDLE_TIMEOUT_SEC: int(8, 960).default(120),
  WS_SWEEP_MS: int(50, 10_000).default(250),
  SHUTDOWN_GRACE_MS: int(0, 60_000).default(5000),

  INGEST_ENABLED: bool.optional(),
  RTMP_PORT: int(0, 65535).default(1935),
  FLV_PORT: int(0, 65535).default(8000),
  RTMP_PUBLIC_URL: publicUrl("rtmp").optional(),
  FLV_PUBLIC_URL: publicUrl("http").optional(),
  RTMP_IDLE_TIMEOUT_SEC: int(2, 300).default(10),
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
  const production = e.NODE_ENV === "production";
  if (production && e.DEV_TOKENS === true) {
    throw new Error("Invalid configuration:\n  DEV_TOKENS: dev tokens cannot be enabled in production");
  }
  if (production && e.WECHAT_SANDBOX === true) {
    throw new Error("Invalid configuration:\n  WECHAT_SANDBOX: the WeChat sandbox cannot be enabled in production");
  }
  const sandbox = e.WECHAT_SANDBOX ?? !production;
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
      throw new Error(`Invalid configuration:\n${missing.map((k) => `  ${k}: required when the WeChat sandbox is off`).join("\n")}`);
    }
  }
  if (e.WS_SOFT_BACKPRESSURE_BYTES >= e.WS_MAX_BACKPRESSURE_BYTES) {
    throw new Error("Invalid configuration:\n  WS_SOFT_BACKPRESSURE_BYTES: must be below WS_MAX_BACKPRESSURE_BYTES");
  }
  const config = {
    env: e.NODE_ENV,
    production,
    logLevel: e.LOG_LEVEL,
    nodeId: e.NODE_ID ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, "-")}-${process.pid}-${randomBytes(3).toString("hex")}`,
    http: {
      host: e.HOST,
      port: e.PORT,
      /** null: any origin is allowed (development default). */
      allowedOrigins: e.ALLOWED_ORIGINS ?? (production ? [] : null),
      devTokens: e.DEV_TOKENS ?? !production,
    },
    auth: { sessionTtlSec: e.SESSION_TTL_SEC },
    orders: { payTimeoutSec: e.ORDER_PAY_TIMEOUT_SEC },
    /** How long a group-buy place is held for its payment (never past the group's own deadline). */
    groups: { holdSec: e.GROUP_HOLD_SEC },
    wechat: {
      /** The in-process stand-in for WeChat's servers, with credentials generated at first run. */
      sandbox,
      /** The sandbox's merchant API answers this much later (WeChat's real latency, for tests and demos). */
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
    db: { url: e.DATABASE_URL ?? null, dataDir: e.DATA_DIR, demoData: e.DEMO_DATA },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    hub: {
      tickMs: e.HUB_TICK_MS,
      eventsMaxLen: e.ROOM_EVENTS_MAXLEN,
      roomTtlSec: e.ROOM_TTL_SEC,
      recentComments: e.ROOM_RECENT_COMMENTS,
      readableCommentsPerSec: e.ROOM_READABLE_COMMENTS_PER_SEC,
      countsIntervalMs: e.COUNTS_INTERVAL_MS,
      likesPerSecPerSocket: e.LIKES_PER_SEC_PER_SOCKET,
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
