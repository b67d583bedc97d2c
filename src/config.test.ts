import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

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
    const wechat = { WECHAT_APPID: "wx0123456789abcdef", WECHAT_SECRET: "s" };
    expect(() => loadConfig({ NODE_ENV: "production", DEV_TOKENS: "true", ...wechat })).toThrow(/DEV_TOKENS/);
    const prod = loadConfig({ NODE_ENV: "production", ...wechat });
    expect(prod.http.devTokens).toBe(false);
    expect(prod.http.allowedOrigins).toEqual([]);
  });
  it("never runs the WeChat sandbox in production, and needs real credentials there", () => {
    expect(() => loadConfig({ NODE_ENV: "production", WECHAT_SANDBOX: "true", WECHAT_APPID: "wx1", WECHAT_SECRET: "s" })).toThrow(/WECHAT_SANDBOX/);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/WECHAT_APPID/);
    expect(loadConfig({ NODE_ENV: "production", WECHAT_APPID: "wx1", WECHAT_SECRET: "s" }).wechat).toMatchObject({
      sandbox: false,
      apiBase: "https://api.weixin.qq.com",
    });
    expect(loadConfig({}).wechat).toMatchObject({ sandbox: true, apiBase: null });
  });

  it("parses lists", () => {
    expect(loadConfig({ SENSITIVE_WORDS: " a, b ,,c" }).comments.sensitiveWords).toEqual(["a", "b", "c"]);
  });
});
