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
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(8080);
    expect(c.db.url).toBeNull();
    expect(c.http.devTokens).toBe(true);
    expect(c.http.allowedOrigins).toBeNull();
    expect(Object.isFrozen(c.hub)).toBe(true);
  });
  it("names every bad variable in one message", () => {
    expect(() => loadConfig({ PORT: "nope", REDIS_URL: "not a url", HUB_TICK_MS: "1" })).toThrow(
      /PORT[\s\S]*REDIS_URL[\s\S]*HUB_TICK_MS|PORT[\s\S]*HUB_TICK_MS[\s\S]*REDIS_URL/,
    );
  });
  it("refuses dev tokens in production and closes origins by default there", () => {
    const wechat = wechatEnv;
    expect(() => loadConfig({ NODE_ENV: "production", DEV_TOKENS: "true", ...wechat })).toThrow(/DEV_TOKENS/);
    const prod = loadConfig({ NODE_ENV: "production", ...wechat });
    expect(prod.http.devTokens).toBe(false);
    expect(prod.http.allowedOrigins).toEqual([]);
  });
  it("never runs the WeChat sandbox in production, and needs real credentials there", () => {
    expect(() => loadConfig({ NODE_ENV: "production", WECHAT_SANDBOX: "true", ...wechatEnv })).toThrow(/WECHAT_SANDBOX/);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/WECHAT_APPID[\s\S]*WECHATPAY_APIV3_KEY/);
    expect(loadConfig({ NODE_ENV: "production", ...wechatEnv }).wechat).toMatchObject({
      sandbox: false,
      apiBase: "https://api.weixin.qq.com",
      payApiBase: "https://api.mch.weixin.qq.com",
    });
    expect(loadConfig({}).wechat).toMatchObject({ sandbox: true, apiBase: null });
  });

  it("runs RTMP ingest by default, except under NODE_ENV=test unless asked", () => {
    expect(loadConfig({}).ingest).toMatchObject({ enabled: true, rtmpPort: 1935, flvPort: 8000, rtmpPublicUrl: null, flvPublicUrl: null, idleTimeoutMs: 10_000 });
    expect(loadConfig({ NODE_ENV: "test" }).ingest.enabled).toBe(false);
    expect(loadConfig({ NODE_ENV: "test", INGEST_ENABLED: "true", RTMP_PORT: "0" }).ingest).toMatchObject({ enabled: true, rtmpPort: 0 });
    const proxied = loadConfig({ RTMP_PUBLIC_URL: "rtmp://live.example.com/", FLV_PUBLIC_URL: "https://cdn.example.com//" }).ingest;
    expect(proxied).toMatchObject({ rtmpPublicUrl: "rtmp://live.example.com", flvPublicUrl: "https://cdn.example.com" });
    expect(() => loadConfig({ RTMP_PUBLIC_URL: "http://live.example.com", FLV_PUBLIC_URL: "rtmp://x" })).toThrow(/RTMP_PUBLIC_URL[\s\S]*FLV_PUBLIC_URL/);
  });

  it("parses lists", () => {
    expect(loadConfig({ SENSITIVE_WORDS: " a, b ,,c" }).comments.sensitiveWords).toEqual(["a", "b", "c"]);
  });
});
