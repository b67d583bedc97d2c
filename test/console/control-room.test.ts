// The control room in Chromium against a real server, with a raw WebSocket viewer and HTTP buyers:
// pushes, comments and moderation, a scheduled push, a flash sale selling out live.
import { describe, expect, it } from "vitest";
import type { Page, WebSocketRoute } from "playwright-core";
import { sleep, WsClient, type Frame } from "../support/clients.js";
import { groupBuyer } from "../support/groups.js";
import { testPng, upload } from "../support/images.js";
import { wechatUser } from "../support/wechat.js";
import { shot, useConsole } from "./harness.js";

describe("console control room", () => {
  // With RTMP ingest on (free ports), so the setup tab shows real publish URLs.
  const { h, page, signIn, stream } = useConsole({ INGEST_ENABLED: "true", RTMP_PORT: "0", FLV_PORT: "0" });

  async function openRoom(p: Page, streamId: string) {
    await p.goto(`${h.url}/console/streams/${streamId}`);
    await p.locator("[data-test=room-status]").waitFor();
    await expect.poll(() => p.locator("[data-test=comment-list]").textContent()).toContain("还没有评论");
  }

  it("pushes a product, shows a viewer's comment within a second, deletes it and mutes the viewer", async () => {
    const s = await stream(h.host, "春茶上新专场", [
      { name: "明前龙井 250g", priceFen: 12800, stock: 100 },
      { name: "白瓷盖碗", priceFen: 5900, stock: 50 },
    ]);
    const viewer = await wechatUser(h.call, "小美");
    const ws = await WsClient.connect(`${h.server.ws}/live-stream/${s.id}/ws`, { token: viewer.token });
    await ws.next("snapshot");

    const p = await page();
    await signIn(p, h.host);
    await openRoom(p, s.id);

    // Push now: the viewer's bubble.
    const tea = s.products[0]!;
    await p.locator(`[data-test=product-row][data-product-id="${tea.productId}"] [data-test=push-now]`).click();
    const bubble = await ws.next("product_highlight");
    expect(bubble).toMatchObject({ productId: tea.productId, product: { title: "明前龙井 250g", priceFen: 12800 } });
    await expect.poll(() => p.locator("[data-test=current-bubble]").textContent()).toContain("明前龙井 250g");

    // A viewer's comment reaches the console within a second.
    const sentAt = Date.now();
    ws.send({ type: "comment", comment: { content: "这个茶今年的吗？" } });
    const row = p.locator("[data-test=comment]", { hasText: "这个茶今年的吗" }); // the server NFKC-normalizes "？" to "?"
    await row.waitFor({ timeout: 1_000 });
    expect(Date.now() - sentAt).toBeLessThan(1_000);
    const commentId = await row.getAttribute("data-comment-id");
    await shot(p, "control-room-comment");

    // Delete: removed for every viewer.
    await row.locator("[data-test=delete-comment]").click();
    expect(await ws.next("comment_deleted")).toMatchObject({ commentId });
    await row.waitFor({ state: "detached" });

    // Mute: the viewer's next comment is refused.
    ws.send({ type: "comment", comment: { content: "再便宜点" } });
    const second = p.locator("[data-test=comment]", { hasText: "再便宜点" });
    await second.waitFor();
    await second.locator("[data-test=mute-user]").click();
    await second.locator("[data-test=unmute-user]").waitFor();
    ws.send({ type: "comment", id: "after-mute", comment: { content: "我被禁言了吗" } });
    const refused = await ws.next("error");
    expect(refused).toMatchObject({ code: "MUTED", id: "after-mute" });

    // Pin and slow mode reach the viewer too.
    await p.getByLabel("置顶公告内容").fill("今晚 9 点抽奖");
    await p.getByRole("button", { name: "置顶", exact: true }).click();
    expect(await ws.next("pinned")).toMatchObject({ pin: { text: "今晚 9 点抽奖" } });
    await p.locator("[data-test=slow-mode]").click();
    await p.locator(".el-select-dropdown__item", { hasText: "10 秒" }).click();
    expect(await ws.next("slow_mode")).toMatchObject({ seconds: 10 });

    // The word filter: the stream's own words are masked in later comments.
    await p.locator("[data-test=open-words]").click();
    await p.getByLabel("屏蔽词，每行一个").fill("代购\n加微信");
    await shot(p, "control-room-word-filter");
    await p.locator("[data-test=save-words]").click();
    await p.getByRole("dialog", { name: "屏蔽词" }).waitFor({ state: "hidden" });
    const other = await wechatUser(h.call, "路人");
    const ws2 = await WsClient.connect(`${h.server.ws}/live-stream/${s.id}/ws`, { token: other.token });
    await ws2.next("snapshot");
    ws2.send({ type: "comment", comment: { content: "找我代购请加微信" } });
    await p.locator("[data-test=comment]", { hasText: "找我**请***" }).waitFor();
    ws2.close();
    ws.close();
  }, 120_000);

  it("a push scheduled 3 s ahead counts down and fires; a flash sale's units fall while buyers buy", async () => {
    const s = await stream(h.host, "秒杀专场", [
      { name: "古树普洱饼", priceFen: 39900, stock: 20 },
      { name: "桂花乌龙", priceFen: 6800, stock: 30 },
    ]);
    const viewer = await wechatUser(h.call, "阿杰");
    const ws = await WsClient.connect(`${h.server.ws}/live-stream/${s.id}/ws`, { token: viewer.token });
    await ws.next("snapshot");
    const p = await page();
    await signIn(p, h.host);
    await openRoom(p, s.id);

    // Schedule a push 3 s ahead with a 3 s countdown.
    const oolong = s.products[1]!;
    await p.locator(`[data-test=product-row][data-product-id="${oolong.productId}"] [data-test=schedule-push]`).click();
    const inSec = p.locator("[data-test=push-in-sec] input");
    await inSec.fill("3");
    await inSec.press("Tab");
    const countdownSec = p.locator("[data-test=push-countdown-sec] input");
    await countdownSec.fill("3");
    await countdownSec.press("Tab");
    await p.locator("[data-test=confirm-schedule]").click();
    await p.getByRole("tab", { name: "定时推送" }).click();
    const item = p.locator("[data-test=push-item]", { hasText: "桂花乌龙" });
    await expect.poll(() => item.locator("[data-test=push-left]").textContent()).toMatch(/还有 00:0[0-3]/);
    await expect.poll(() => p.locator("[data-test=countdown]").textContent(), { timeout: 4_000 }).toMatch(/桂花乌龙.*00:0[0-3]/);
    await shot(p, "control-room-countdown");
    await ws.until((f) => f.some((x) => x.type === "product_highlight" && x.productId === oolong.productId), 10_000, "the scheduled push");
    await item.waitFor({ state: "detached" });

    // Another push, moved and then cancelled from the timeline.
    await p.getByRole("tab", { name: "商品" }).click();
    await p.locator(`[data-test=product-row][data-product-id="${oolong.productId}"] [data-test=schedule-push]`).click();
    await inSec.fill("600");
    await inSec.press("Tab");
    await p.locator("[data-test=confirm-schedule]").click();
    await p.getByRole("tab", { name: "定时推送" }).click();
    const later = p.locator("[data-test=push-item]", { hasText: "桂花乌龙" });
    await expect.poll(() => later.locator("[data-test=push-left]").textContent()).toMatch(/还有 (10:00|09:5\d)/);
    await later.locator("[data-test=move-push]").click();
    const moveIn = p.locator("#move-in");
    await moveIn.fill("300");
    await moveIn.press("Tab");
    await p.getByRole("dialog", { name: /改时间/ }).getByRole("button", { name: "确定" }).click();
    await expect.poll(() => later.locator("[data-test=push-left]").textContent()).toMatch(/还有 0[45]:\d\d/);
    await ws.until((f) => f.some((x) => x.type === "upcoming_products" && (x.items as { at: number }[]).some((i) => i.at - Date.now() < 320_000)), 5_000, "the moved push");
    await later.locator("[data-test=cancel-push]").click();
    await later.waitFor({ state: "detached" });
    await p.getByRole("tab", { name: "商品" }).click();
    await expect.poll(() => p.locator("[data-test=current-bubble]").textContent()).toContain("桂花乌龙");

    // Start a flash sale of 5 units from the console.
    await p.getByRole("tab", { name: "秒杀" }).click();
    await p.locator("[data-test=flash-product]").click();
    await p.locator(".el-select-dropdown__item", { hasText: "古树普洱饼" }).click();
    await expect.poll(() => p.locator(".el-form-item", { hasText: "规格" }).textContent()).toContain("原价 ¥399.00");
    const qty = p.locator("[data-test=flash-quantity] input");
    await qty.fill("5");
    await qty.press("Tab");
    await p.locator("[data-test=start-flash]").click();
    const left = p.locator("[data-test=flash-left]");
    await expect.poll(() => left.textContent()).toBe("5");
    const sale = (await ws.until((f) => f.some((x) => x.type === "flash_sale" && x.sale), 10_000, "flash_sale"), ws.of("flash_sale").find((x) => x.sale)!) as Frame & { sale: { id: string } };

    // Buyers buy over HTTP; the page's units left fall and units sold rise.
    for (const [i, name] of ["买家甲", "买家乙", "买家丙"].entries()) {
      const buyer = await wechatUser(h.call, name);
      const res = await h.call("POST", `/v1/flash-sales/${sale.sale.id}/buy`, { token: buyer.token, body: { quantity: 1, addressId: buyer.addressId }, headers: { "idempotency-key": `flash-${i}-${buyer.userId}` } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      await expect.poll(() => left.textContent(), { timeout: 5_000 }).toBe(String(4 - i));
    }
    expect(await p.locator("[data-test=flash-sold]").textContent()).toBe("3");
    await shot(p, "control-room-flash-sale");

    // A group buy in the room: the leader pays, the open group's progress shows.
    const tea = s.products[0]!;
    const activity = await h.call<{ id: string }>("POST", "/v1/admin/group-activities", {
      token: h.admin.token,
      body: { productId: tea.productId, streamId: s.id, groupSize: 3, groupPriceFen: 29900 },
    });
    expect(activity.status, JSON.stringify(activity.body)).toBe(201);
    const groups = groupBuyer(h.call);
    const leader = await groups.user("团长");
    const opened = await groups.open(leader.token, activity.body.id);
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    await groups.pay(leader.token, opened.body.group.id);
    await p.getByRole("tab", { name: "拼团" }).click();
    await expect.poll(() => p.locator("[data-test=open-group]").textContent(), { timeout: 10_000 }).toContain("1/3 人 · 已付 1");
    expect(await p.locator("[data-test=open-group]").textContent()).toContain("还差 2 人");
    await shot(p, "control-room-group-progress");

    // A coupon drop: the viewer claims one and the page shows it claimed.
    await p.getByRole("tab", { name: "优惠券" }).click();
    await p.locator("[data-test=drop-coupon]").click();
    const coupon = (await ws.until((f) => f.some((x) => x.type === "coupon" && x.coupon), 10_000, "coupon"), ws.of("coupon").find((x) => x.coupon)!) as Frame & { coupon: { id: string } };
    const claim = await h.call("POST", `/v1/coupons/${coupon.coupon.id}/claim`, { token: viewer.token });
    expect(claim.status, JSON.stringify(claim.body)).toBe(200);
    await expect.poll(() => p.locator("[data-test=coupon-claimed]").textContent(), { timeout: 5_000 }).toBe("1");
    expect(await p.locator("[data-test=coupon-left]").textContent()).toBe("99");
    await shot(p, "control-room-coupon");

    // Stop the flash sale: it leaves the room and shows in the history.
    await p.getByRole("tab", { name: "秒杀" }).click();
    await p.locator("[data-test=end-flash]").click();
    await ws.until((f) => f.some((x) => x.type === "flash_sale" && x.sale === null), 5_000, "the sale's end");
    await expect.poll(() => p.locator(".flash").textContent()).toContain("售出 3/5");

    // Setup: title, cover (an uploaded picture's URL) and schedule, then a new publish key with copyable RTMP settings.
    await p.getByRole("tab", { name: "设置" }).click();
    const picture = await upload<{ url: string }>(h.url, "/v1/admin/images", h.admin.token, testPng(320, 180, [200, 60, 40]), { filename: "cover.png", type: "image/png" });
    expect(picture.status).toBe(201);
    await p.locator("#stream-title").fill("秒杀专场（周五）");
    await p.getByLabel("封面图片地址").fill(picture.body.url);
    await p.locator("#stream-schedule").fill("2030-01-04 20:00");
    await p.locator("#stream-schedule").press("Enter");
    await p.locator("[data-test=save-stream]").click();
    await expect.poll(() => p.locator(".setup").textContent()).toContain("已保存");
    const info = await h.call<{ stream: { title: string; coverUrl: string; scheduledAt: string } }>("GET", `/v1/streams/${s.id}`);
    expect(info.body.stream).toMatchObject({ title: "秒杀专场（周五）", coverUrl: picture.body.url });
    expect(new Date(info.body.stream.scheduledAt).toISOString()).toBe("2030-01-04T12:00:00.000Z"); // 20:00 in Asia/Shanghai
    await p.locator("[data-test=rotate-key]").click();
    await expect.poll(() => p.locator("input[data-test=obs-server], [data-test=obs-server] input").first().inputValue()).toMatch(/^rtmp:\/\/.+\/live$/);
    await shot(p, "control-room-setup");
    await p.getByRole("tab", { name: "商品" }).click();
    await p.setViewportSize({ width: 1024, height: 768 });
    await shot(p, "control-room-1024x768");
    await p.setViewportSize({ width: 768, height: 1024 });
    await shot(p, "control-room-768x1024");
    ws.close();
  }, 120_000);

  it("a lost connection shows a banner; back online, the page catches up without repeats", async () => {
    const s = await stream(h.host, "断线重连专场");
    const viewer = await wechatUser(h.call, "小林");
    const ws = await WsClient.connect(`${h.server.ws}/live-stream/${s.id}/ws`, { token: viewer.token });
    await ws.next("snapshot");
    const p = await page();
    // The console's socket.io connection passes through here, so the test can cut it.
    let offline = false;
    const open = new Set<WebSocketRoute>();
    await p.routeWebSocket(/\/socket\.io\//, (route) => {
      if (offline) return route.close({ code: 4000, reason: "offline" });
      open.add(route);
      route.connectToServer();
    });
    await signIn(p, h.host);
    await openRoom(p, s.id);

    const comments = p.locator("[data-test=comment]");
    ws.send({ type: "comment", comment: { content: "断线前的评论" } });
    await comments.filter({ hasText: "断线前的评论" }).waitFor();

    offline = true;
    for (const r of open) await r.close({ code: 4000, reason: "cut" });
    open.clear();
    const banner = p.locator("[data-test=reconnect-banner]");
    await banner.waitFor();
    for (const text of ["断线时的评论一", "断线时的评论二"]) {
      ws.send({ type: "comment", id: text, comment: { content: text } });
      await ws.until((f) => f.some((x) => x.type === "comment" && (x.comment as { content: string }).content === text), 5_000, text);
    }
    await sleep(500);
    await shot(p, "control-room-reconnecting");

    offline = false;
    await banner.waitFor({ state: "detached", timeout: 15_000 });
    await comments.filter({ hasText: "断线时的评论二" }).waitFor();
    expect(await comments.allTextContents()).toEqual([
      expect.stringContaining("断线前的评论"),
      expect.stringContaining("断线时的评论一"),
      expect.stringContaining("断线时的评论二"),
    ]);
    ws.close();
  }, 120_000);
});
