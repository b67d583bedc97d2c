// The harness itself: a fixture page over the real network, recorded UI, navigation, a screenshot.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pngSize, screenshot, useMiniProgram } from "./support/harness.js";

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), "fixtures");

describe("mini program harness", () => {
  const mp = useMiniProgram();

  it("opens a page whose wx.request reaches the server; records toasts, modals and navigations", async () => {
    const page = await mp.runtime.openPage("smoke/index", { from: "test", base: mp.server.url }, { root: fixtures });
    expect(page.data).toMatchObject({ from: "test", pages: 1, hasApp: true });
    await page.waitFor((p) => p.data.status === "200", "the health check");
    expect(page.toasts.map((t) => t.title)).toEqual(["服务正常 200"]);
    expect(page.text(".status")).toBe("状态 200");

    await page.input(".name", "小美");
    expect(page.data.text).toBe("小美");
    expect(page.text(".name")).toBe("小美");

    await page.tap(".go");
    await page.waitFor(() => mp.wx.navigations.length === 1, "navigation");
    expect(mp.wx.modals[0]).toMatchObject({ title: "确认", confirmed: true });
    expect(mp.wx.navigations[0]).toMatchObject({ kind: "navigateTo", url: "/smoke/index?from=tap" });

    mp.wx.modalAnswers.push(false);
    await page.tap(".go");
    await page.waitFor(() => mp.wx.modals.length === 2, "second modal");
    expect(mp.wx.navigations).toHaveLength(1);

    const file = await screenshot(page, "harness-smoke");
    if (file) {
      expect(existsSync(file)).toBe(true);
      expect(pngSize(file).width).toBe(750);
    }
    await page.unload();
    expect(mp.runtime.stack).toHaveLength(0);
  });

  it("logs a phone in through the WeChat sandbox and keeps each phone's storage apart", async () => {
    const a = await mp.signIn("小美");
    expect(a.token).toMatch(/.{20,}/);
    const me = await mp.call<{ nickname: string }>("GET", "/v1/me", { token: a.token });
    expect(me.body.nickname).toBe("小美");
    mp.useDevice("second phone");
    expect((globalThis as unknown as { wx: { getStorageSync(k: string): unknown } }).wx.getStorageSync("pinlive.session")).toBe("");
    const b = await mp.signIn("阿强");
    expect(b.userId).not.toBe(a.userId);
    mp.useDevice("default");
    // wx.login from the same phone maps to the same WeChat account.
    expect((await mp.signIn()).userId).toBe(a.userId);
  });
});
