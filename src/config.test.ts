import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

const wechatEnv = {
  WECHAT_APPID: "wx0123456789abcdef",
  WECHAT_SECRET: "s",
  PUBLIC_BASE_URL: "https://shop.example.com",
  WECHATPAY_MCHID: "1900000001",
  WECHATPAY_MERCHANT_SERIAL: "ABC",
  WECHATPAY_PRIVATE_KEY_FILE: "/etc/pinlive/apiclient_key.pem",
  WECHATPAY_APIV3_KEY: "0123456789abcdef0123456789abcdef",
  WECHATPAY_PLATFORM_KEY_ID: "PUB_KEY_ID_0001",
  WECHATPAY_PLATFORM_PUBLIC_KEY_FILE: "/etc/pinlive/pub_key.pem",
};

describe("config", () => {
  it("has working defaults in development", () => {
    const c = loadConfig({ NODE_ENV: "development" });
    expect(c.http.port).toBe(8080);
    expect(c.db.url).toBeNull();
    expect(c.http.devTokens).toBe(true);
    expect(c.http.allowedOrigins).toBeNull();
    expect(c.wechat.sandbox).toBe(true);
    expect(Object.isFrozen(c.hub)).toBe(true);
  });
  it("is production when NODE_ENV is unset: dev tokens, the WeChat sandbox, any origin and the demo need an explicit opt-in", () => {
    expect(() => loadConfig({})).toThrow(/WECHAT_APPID[\s\S]*NODE_ENV is unset/);
    const c = loadConfig({ ...wechatEnv });
    expect(c.production).toBe(true);
    expect(c.env).toBe("production");
    expect(c.http.devTokens).toBe(false);
    expect(c.wechat.sandbox).toBe(false);
    expect(c.http.allowedOrigins).toEqual(["https://shop.example.com"]);
    for (const name of ["DEMO_DATA", "DEMO_AUDIENCE", "DEMO_PUBLISH", "DEV_TOKENS", "WECHAT_SANDBOX"]) {
      expect(() => loadConfig({ ...wechatEnv, [name]: "true" }), name).toThrow(name);
    }
    for (const env of ["development", "test"]) {
      const dev = loadConfig({ NODE_ENV: env, DEMO_DATA: "true" });
      expect(dev).toMatchObject({ production: false, http: { devTokens: true }, wechat: { sandbox: true }, db: { demoData: true } });
    }
  });
  it("names every bad variable in one message", () => {
    expect(() => loadConfig({ PORT: "nope", REDIS_URL: "not a url", HUB_TICK_MS: "1" })).toThrow(
      /PORT[\s\S]*REDIS_URL[\s\S]*HUB_TICK_MS|PORT[\s\S]*HUB_TICK_MS[\s\S]*REDIS_URL/,
    );
  });
  it("refuses dev tokens in production and closes origins there but the site's own (where the console is served)", () => {
    const wechat = wechatEnv;
    expect(() => loadConfig({ NODE_ENV: "production", DEV_TOKENS: "true", ...wechat })).toThrow(/DEV_TOKENS/);
    const prod = loadConfig({ NODE_ENV: "production", ...wechat });
    expect(prod.http.devTokens).toBe(false);
    expect(prod.http.allowedOrigins).toEqual(["https://shop.example.com"]);
    const listed = loadConfig({ NODE_ENV: "production", ...wechat, ALLOWED_ORIGINS: "https://admin.example.com, https://shop.example.com" });
    expect(listed.http.allowedOrigins).toEqual(["https://admin.example.com", "https://shop.example.com"]);
  });
  it("never runs the WeChat sandbox in production, and needs real credentials there", () => {
    expect(() => loadConfig({ NODE_ENV: "production", WECHAT_SANDBOX: "true", ...wechatEnv })).toThrow(/WECHAT_SANDBOX/);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/WECHAT_APPID[\s\S]*WECHATPAY_APIV3_KEY/);
    expect(loadConfig({ NODE_ENV: "production", ...wechatEnv }).wechat).toMatchObject({
      sandbox: false,
      apiBase: "https://api.weixin.qq.com",
      payApiBase: "https://api.mch.weixin.qq.com",
    });
    expect(loadConfig({ NODE_ENV: "development" }).wechat).toMatchObject({ sandbox: true, apiBase: null });
  });

  it("runs RTMP ingest by default, except under NODE_ENV=test unless asked", () => {
    expect(loadConfig({ NODE_ENV: "development" }).ingest).toMatchObject({ enabled: true, rtmpPort: 1935, flvPort: 8000, rtmpPublicUrl: null, flvPublicUrl: null, idleTimeoutMs: 10_000 });
    expect(loadConfig({ NODE_ENV: "test" }).ingest.enabled).toBe(false);
    expect(loadConfig({ NODE_ENV: "test", INGEST_ENABLED: "true", RTMP_PORT: "0" }).ingest).toMatchObject({ enabled: true, rtmpPort: 0 });
    const proxied = loadConfig({ NODE_ENV: "development", RTMP_PUBLIC_URL: "rtmp://live.example.com/", FLV_PUBLIC_URL: "https://cdn.example.com//" }).ingest;
    expect(proxied).toMatchObject({ rtmpPublicUrl: "rtmp://live.example.com", flvPublicUrl: "https://cdn.example.com" });
    expect(() => loadConfig({ RTMP_PUBLIC_URL: "http://live.example.com", FLV_PUBLIC_URL: "rtmp://x" })).toThrow(/RTMP_PUBLIC_URL[\s\S]*FLV_PUBLIC_URL/);
  });

  it("limits sign-ins and order placement per address and per user, except the demo audience's one address", () => {
    expect(loadConfig({ NODE_ENV: "development" }).rateLimits).toEqual({
      login: { perIp: { limit: 20, windowSec: 60 }, perUser: { limit: 10, windowSec: 60 } },
      orders: { perIp: { limit: 120, windowSec: 60 }, perUser: { limit: 20, windowSec: 60 } },
      uploads: { perIp: { limit: 60, windowSec: 60 }, perUser: { limit: 10, windowSec: 60 } },
    });
    const demo = loadConfig({ NODE_ENV: "development", DEMO_AUDIENCE: "true" }).rateLimits;
    expect([demo.login.perIp.limit, demo.orders.perIp.limit, demo.orders.perUser.limit]).toEqual([1_000_000, 1_000_000, 20]);
    expect(loadConfig({ NODE_ENV: "development", RATE_LIMIT_ORDERS_PER_USER_PER_MIN: "3" }).rateLimits.orders.perUser.limit).toBe(3);
  });

  it("limits live sockets per address to 20 per node, except the demo audience's one address", () => {
    expect(loadConfig({ NODE_ENV: "development" }).ws.maxConnectionsPerIp).toBe(20);
    expect(loadConfig({ NODE_ENV: "development", DEMO_AUDIENCE: "true" }).ws.maxConnectionsPerIp).toBe(0);
    expect(loadConfig({ NODE_ENV: "development", WS_MAX_CONNECTIONS_PER_IP: "3" }).ws.maxConnectionsPerIp).toBe(3);
  });

  it("parses lists", () => {
    expect(loadConfig({ NODE_ENV: "development", SENSITIVE_WORDS: " a, b ,,c" }).comments.sensitiveWords).toEqual(["a", "b", "c"]);
  });
  it("takes a Redis Cluster's seed nodes as host:port or URLs, with the first URL's credentials and TLS for every node", () => {
    expect(loadConfig({ NODE_ENV: "test" }).redis.cluster).toBeNull();
    expect(loadConfig({ NODE_ENV: "test", REDIS_CLUSTER_NODES: "10.0.0.1:7000, 10.0.0.2:7001" }).redis.cluster).toEqual({
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
      ],
      username: null,
      password: null,
      tls: false,
    });
    expect(loadConfig({ NODE_ENV: "test", REDIS_CLUSTER_NODES: "rediss://app:s%40cret@redis-0.example.com:6380,redis-1.example.com" }).redis.cluster).toEqual({
      nodes: [
        { host: "redis-0.example.com", port: 6380 },
        { host: "redis-1.example.com", port: 6379 },
      ],
      username: "app",
      password: "s@cret",
      tls: true,
    });
    expect(() => loadConfig({ NODE_ENV: "test", REDIS_CLUSTER_NODES: "http://x:1" })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ NODE_ENV: "test", REDIS_CLUSTER_NODES: "host:99999" })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ NODE_ENV: "test", REDIS_CLUSTER_NODES: " , " })).toThrow(/REDIS_CLUSTER_NODES: no node given/);
    expect(loadConfig({ NODE_ENV: "test", REDIS_CLUSTER_NODES: "" }).redis.cluster).toBeNull();
  });
});
