// Bans, kicks and coupon limits in the console, in Chromium against a real server with raw
// WebSocket viewers: a host bans and kicks from a comment and lifts from the room's ban list, the
// coupons panel keeps to the stream's limits, an admin lifts bans and sets a stream's limits.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { CLOSE_CODES } from "../../src/protocol/errors.js";
import { WsClient } from "../support/clients.js";
import { wechatUser } from "../support/wechat.js";
import { shot, useConsole } from "./harness.js";

type Ban = { streamId: string | null; userId: string; reason: string; expiresAt: string | null };

/** How a refused upgrade answered: its status and error code (null when it opened). */
async function refusal(connecting: Promise<WsClient>) {
  try {
    (await connecting).close();
    return null;
  } catch (err) {
    const { status, body } = err as { status?: number; body?: string };
    return { status, code: (JSON.parse(body ?? "{}") as { code?: string }).code };
  }
}

describe("console moderation and coupon limits", () => {
  const { h, page, signIn, stream } = useConsole();
  const roomUrl = (streamId: string) => `${h.server.ws}/live-stream/${streamId}/ws`;

  async function openRoom(p: Page, streamId: string) {
    await p.goto(`${h.url}/console/streams/${streamId}`);
    await p.locator("[data-test=room-status]").waitFor();
    await expect.poll(() => p.locator("[data-test=comment-list]").textContent()).toContain("还没有评论");
  }

  async function viewerIn(streamId: string, nickname: string) {
    const user = await wechatUser(h.call, nickname);
    const ws = await WsClient.connect(roomUrl(streamId), { token: user.token });
    await ws.next("snapshot");
    return { ...user, ws };
  }

  it("a host bans a viewer from a comment: the socket closes with 4503, nothing they send shows, the ban is listed, lifting lets them back; a kick only closes", async () => {
    const s = await stream(h.host, "封禁测试专场");
    const troll = await viewerIn(s.id, "刷屏小号");
    const p = await page();
    await signIn(p, h.host);
    await openRoom(p, s.id);
    const comments = p.locator("[data-test=comment]");

    troll.ws.send({ type: "comment", comment: { content: "加我领红包" } });
    const row = comments.filter({ hasText: "加我领红包" });
    await row.waitFor();
    await row.locator("[data-test=ban-user]").click();
    const dialog = p.getByRole("dialog", { name: "封禁 刷屏小号" });
    await dialog.getByText("1 小时").click();
    await dialog.getByLabel("原因").fill("刷屏广告");
    await shot(p, "control-room-ban-dialog");
    await dialog.locator("[data-test=confirm-ban]").click();
    await dialog.waitFor({ state: "hidden" });

    // Sent after the ban was answered (if the socket is still open): refused, never shown.
    troll.ws.send({ type: "comment", comment: { content: "封禁后的评论" } });
    expect(await troll.ws.closed).toBe(CLOSE_CODES.BANNED.code);
    expect(await refusal(WsClient.connect(roomUrl(s.id), { token: troll.token }))).toEqual({ status: 403, code: "BANNED" });
    await row.locator("[data-test=banned-tag]").waitFor();
    expect(await row.locator("[data-test=row-note]").textContent()).toContain("已封禁 刷屏小号");
    expect(await p.locator("[data-test=open-bans]").textContent()).toBe("封禁名单（1 人）");
    await shot(p, "control-room-banned");

    const listed = await h.call<Ban[]>("GET", `/v1/streams/${s.id}/bans`, { token: h.host.token });
    expect(listed.body).toEqual([expect.objectContaining({ streamId: s.id, userId: troll.userId, reason: "刷屏广告" })]);
    const hours = (Date.parse(listed.body[0]!.expiresAt!) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(0.95);
    expect(hours).toBeLessThanOrEqual(1);

    // The room's ban list: who, when, until, why; lifting lets them back in.
    await p.locator("[data-test=open-bans]").click();
    const list = p.getByRole("dialog", { name: "封禁名单" });
    const banRow = list.locator(".el-table__row", { hasText: "刷屏小号" });
    await banRow.waitFor();
    expect(await banRow.textContent()).toContain("刷屏广告");
    expect(await banRow.locator("[data-test=ban-until]").textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    await shot(p, "control-room-bans");
    await banRow.locator("[data-test=lift-ban]").click();
    await banRow.waitFor({ state: "detached" });
    expect(await list.textContent()).toContain("没有封禁中的用户");
    await p.keyboard.press("Escape");
    await list.waitFor({ state: "hidden" });
    await row.locator("[data-test=banned-tag]").waitFor({ state: "detached" });

    const back = await WsClient.connect(roomUrl(s.id), { token: troll.token });
    await back.next("snapshot");
    back.send({ type: "comment", id: "back", comment: { content: "我回来了" } });
    expect(await back.next("ack")).toMatchObject({ id: "back" });
    await comments.filter({ hasText: "我回来了" }).waitFor();
    expect((await comments.allTextContents()).filter((t) => t.includes("封禁后的评论"))).toEqual([]);

    // A kick closes with 4502 and nothing lasts.
    await comments.filter({ hasText: "我回来了" }).locator("[data-test=ban-user]").click();
    await dialog.locator("[data-test=kick-user]").click();
    expect(await back.closed).toBe(CLOSE_CODES.KICKED.code);
    expect(await comments.filter({ hasText: "我回来了" }).locator("[data-test=row-note]").textContent()).toContain("已踢出直播间");
    const again = await WsClient.connect(roomUrl(s.id), { token: troll.token });
    await again.next("snapshot");
    again.close();
    expect((await h.call<Ban[]>("GET", `/v1/streams/${s.id}/bans`, { token: h.host.token })).body).toEqual([]);
  }, 120_000);

  it("the coupons panel shows the stream's limits, shows the server's refusals, and disables the drop at the limit", async () => {
    const s = await stream(h.host, "限额优惠券专场");
    const setLimits = (maxDiscountFen: number, maxDrops: number) =>
      h.call("PUT", `/v1/admin/streams/${s.id}/coupon-limits`, { token: h.admin.token, body: { maxDiscountFen, maxDrops } });
    expect((await setLimits(2000, 1)).status).toBe(200);
    const viewer = await viewerIn(s.id, "领券的人");
    const p = await page();
    await signIn(p, h.host);
    await openRoom(p, s.id);
    await p.getByRole("tab", { name: "优惠券" }).click();
    const limits = p.locator("[data-test=coupon-limits]");
    await expect.poll(() => limits.textContent()).toContain("单张最多减 ¥20.00");
    expect(await p.locator("[data-test=coupon-drops]").textContent()).toBe("0/1");

    // Above the most off per coupon: the server refuses, the panel says why.
    const discount = p.locator("#coupon-discount");
    await discount.fill("50");
    await discount.press("Tab");
    const drop = p.locator("[data-test=drop-coupon]");
    await drop.click();
    await expect.poll(() => p.locator("[data-test=coupon-error]").textContent()).toBe("优惠券面额超过本场单张上限（本场单张最多减 ¥20.00）");
    expect(viewer.ws.of("coupon").filter((f) => f.coupon)).toEqual([]);

    // Within it: dropped, and the drops count.
    await discount.fill("10");
    await discount.press("Tab");
    await drop.click();
    await viewer.ws.until((f) => f.some((x) => x.type === "coupon" && x.coupon), 10_000, "the coupon");
    await expect.poll(() => p.locator("[data-test=coupon-drops]").textContent()).toBe("1/1");
    await p.locator("[data-test=end-coupon]").click();
    await expect.poll(() => drop.isDisabled()).toBe(true);
    expect(await p.locator("[data-test=coupon-limit-reached]").textContent()).toContain("本场已发满 1 张优惠券，不能再发");
    await shot(p, "control-room-coupon-limit");

    // Raised: the drop is open again; lowered while the page still shows room: the refusal is shown.
    expect((await setLimits(2000, 2)).status).toBe(200);
    await p.reload();
    await p.getByRole("tab", { name: "优惠券" }).click();
    await expect.poll(() => p.locator("[data-test=coupon-drops]").textContent()).toBe("1/2");
    expect(await drop.isEnabled()).toBe(true);
    expect((await setLimits(2000, 1)).status).toBe(200);
    await drop.click();
    await expect.poll(() => p.locator("[data-test=coupon-error]").textContent()).toBe("本场优惠券发放已达上限，需要再发请联系管理员调整");
    await expect.poll(() => drop.isDisabled()).toBe(true);
    expect(await p.locator("[data-test=coupon-drops]").textContent()).toBe("1/1");
    viewer.ws.close();
  }, 120_000);

  it("admins: the bans page lists and lifts bans from every room and a room's own, bans a user everywhere; the stream list sets coupon limits", async () => {
    const s = await stream(h.host, "管理封禁的直播间");
    const everywhere = await viewerIn(s.id, "全站封禁的人");
    const inRoom = await wechatUser(h.call, "房间封禁的人");
    const third = await viewerIn(s.id, "后来封禁的人");
    expect((await h.call("PUT", `/v1/admin/bans/${everywhere.userId}`, { token: h.admin.token, body: { reason: "机器人" } })).status).toBe(200);
    expect(await everywhere.ws.closed).toBe(CLOSE_CODES.BANNED.code);
    expect((await h.call("PUT", `/v1/streams/${s.id}/bans/${inRoom.userId}`, { token: h.host.token, body: { reason: "骂人", durationSec: 86_400 } })).status).toBe(200);

    const p = await page();
    await signIn(p, h.admin);
    await p.locator("[data-test=menu-bans]").click();
    const table = p.locator("[data-test=ban-table]");
    await expect.poll(() => p.locator("[data-test=ban-scope-filter]").textContent()).toContain("全站封禁（所有直播间）");
    const siteRow = table.locator(".el-table__row", { hasText: "全站封禁的人" });
    await siteRow.waitFor();
    expect(await siteRow.textContent()).toContain("机器人");
    expect(await siteRow.textContent()).toContain("全站所有直播间");
    expect(await siteRow.textContent()).toContain("王管理");
    expect(await siteRow.locator("[data-test=ban-until]").textContent()).toBe("直到解除");
    expect(await table.textContent()).not.toContain("房间封禁的人");
    await shot(p, "admin-bans");

    // Lifted: they may enter every room again.
    await siteRow.locator("[data-test=lift-ban]").click();
    await siteRow.waitFor({ state: "detached" });
    const back = await WsClient.connect(roomUrl(s.id), { token: everywhere.token });
    await back.next("snapshot");
    back.close();

    // A ban from every room made here closes the user's socket.
    await p.locator("[data-test=new-site-ban]").click();
    const dialog = p.getByRole("dialog", { name: "全站封禁用户" });
    await dialog.getByLabel("用户 ID").fill(h.host.id);
    await dialog.locator("[data-test=create-site-ban]").click();
    await expect.poll(() => dialog.locator("[role=alert]").textContent()).toBe("员工账号不能封禁，请在“员工”里停用该账号。");
    await dialog.getByLabel("用户 ID").fill(third.userId);
    await dialog.getByText("直到解除").click();
    await dialog.getByLabel("原因").fill("多次违规");
    await dialog.locator("[data-test=create-site-ban]").click();
    await dialog.waitFor({ state: "hidden" });
    expect(await third.ws.closed).toBe(CLOSE_CODES.BANNED.code);
    await table.locator(".el-table__row", { hasText: "后来封禁的人" }).waitFor();
    expect((await h.call<Ban[]>("GET", "/v1/admin/bans", { token: h.admin.token })).body).toEqual([expect.objectContaining({ userId: third.userId, reason: "多次违规", expiresAt: null })]);

    // One room's own bans: the host's, lifted by the admin.
    await p.getByRole("combobox", { name: "查看哪里的封禁" }).click();
    await p.locator(".el-select-dropdown__item", { hasText: "管理封禁的直播间" }).click();
    const roomRow = table.locator(".el-table__row", { hasText: "房间封禁的人" });
    await roomRow.waitFor();
    expect(await roomRow.textContent()).toContain("骂人");
    expect(await roomRow.textContent()).toContain("李主播");
    await shot(p, "admin-bans-room");
    await roomRow.locator("[data-test=lift-ban]").click();
    await roomRow.waitFor({ state: "detached" });
    expect((await h.call<Ban[]>("GET", `/v1/streams/${s.id}/bans`, { token: h.admin.token })).body).toEqual([]);

    // Coupon limits from the stream list.
    await p.locator("[data-test=menu-streams]").click();
    await p.locator(`[data-test=limits-${s.id}]`).click();
    const limits = p.getByRole("dialog", { name: "优惠券上限：管理封禁的直播间" });
    await expect.poll(() => limits.locator("[data-test=limits-now]").textContent()).toContain("目前为默认上限");
    await limits.locator("#limit-discount").fill("30");
    await limits.locator("#limit-discount").press("Tab");
    await limits.locator("#limit-drops").fill("5");
    await limits.locator("#limit-drops").press("Tab");
    await limits.locator("[data-test=save-limits]").click();
    await limits.locator("[data-test=limits-saved]").waitFor();
    expect(await limits.locator("[data-test=limits-now]").textContent()).toContain("本场单独设置：单张最多减 ¥30.00，最多发 5 张");
    await shot(p, "streams-admin-coupon-limits");
    const now = await h.call("GET", `/v1/streams/${s.id}/coupon-limits`, { token: h.host.token });
    expect(now.body).toMatchObject({ maxDiscountFen: 3000, maxDrops: 5, dropped: 0, custom: true });
  }, 120_000);
});
