// The group-buy page (pages/group/detail) in seed 003's join-first flow, against a real server:
// three phones fill and pay a group through the page; a second group lapses and its paid member is refunded once.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl } from "../support/env.js";
import { groupTruth } from "../support/groups.js";
import { makeProduct, testAddress } from "../support/http.js";
import { screenshot, useMiniProgram, type PageHandle } from "./support/harness.js";

/** Every member's payment window once the group is full: long enough for three phones in turn. */
const HOLD_SEC = 12;

type GroupData = {
  group: { status: string; taken: number; paid: number; left: number; size: number } | null;
  action: { kind: string; text: string } | null;
  me: { paid: boolean; payBy: number } | null;
  members: { name: string; paid: boolean; leader: boolean }[];
};
const view = (p: PageHandle) => p.data as GroupData;

describe("group-buy page", () => {
  const mp = useMiniProgram({ env: { GROUP_HOLD_SEC: String(HOLD_SEC) } });
  let truth: ReturnType<typeof groupTruth>;
  let activityId = "";
  let productId = "";

  beforeAll(async () => {
    truth = groupTruth(mp.databaseUrl);
    const admin = await mp.adminToken();
    const p = await makeProduct(mp.call, admin, { priceFen: 12800, stock: 100 }, "明前龙井 250g 礼盒装");
    productId = p.productId;
    const a = await mp.call<{ id: string; flow: string }>("POST", "/v1/admin/group-activities", {
      token: admin,
      body: { productId, groupSize: 3, groupPriceFen: 6900, windowSec: 3600, flow: "join_first" },
    });
    expect(a.body.flow).toBe("join_first");
    activityId = a.body.id;
  });
  afterAll(async () => {
    await truth?.close();
  });

  /** A phone with a signed-in WeChat user and a default address. */
  async function phone(name: string) {
    mp.useDevice(name);
    const me = await mp.signIn(name);
    expect((await mp.call("POST", "/v1/addresses", { token: me.token, body: testAddress })).status).toBe(201);
    return me;
  }

  async function openGroup(groupId: string) {
    const page = await mp.openPage("pages/group/detail", { groupId });
    await page.waitFor((p) => view(p).group !== null && view(p).action !== null, "the group");
    return page;
  }

  /** What the phone has shown so far (before an action whose modal and payment a test waits for). */
  const marks = () => ({ modals: mp.wx.modals.length, payments: mp.wx.payments.length });

  /** Confirms the "pay now" modal the page shows for a full group, and waits for the payment. */
  async function payThroughModal(page: PageHandle, { modals, payments } = marks()) {
    await page.waitFor(() => mp.wx.modals.length > modals, "the pay-now modal");
    expect(mp.wx.modals.at(-1)).toMatchObject({ title: "拼团成功", confirmed: true });
    await page.waitFor(() => mp.wx.payments.length > payments, "wx.requestPayment");
    expect(mp.wx.payments.at(-1)!.errMsg).toBe("requestPayment:ok");
    await page.waitFor((p) => view(p).me?.paid === true, "my place paid");
  }

  it("three phones complete a group through the page: join, full, everyone pays, complete", async () => {
    // The leader opens the group (as the product page does) and shares the group page.
    const leader = await phone("团长老李");
    const opened = await mp.call<{ group: { id: string } }>("POST", `/v1/group-activities/${activityId}/groups`, { token: leader.token, body: {} });
    expect(opened.status).toBe(201);
    const groupId = opened.body.group.id;
    let page = await openGroup(groupId);
    expect(view(page).group).toMatchObject({ status: "open", taken: 1, size: 3 });
    expect(view(page).action).toMatchObject({ kind: "share", text: "邀请好友参团，还差2人" });
    expect(page.text(".status")).toBe("还差2人成团");
    expect(page.text(".product-name")).toBe("明前龙井 250g 礼盒装");
    expect(page.text(".product-price")).toContain("69.00");
    const share = (page.instance as { onShareAppMessage(): { path: string; title: string } }).onShareAppMessage();
    expect(share.path).toBe(`/pages/group/detail?groupId=${groupId}`);
    expect(share.title).toContain("就差2人");
    await page.unload();

    // A friend opens the shared page and joins.
    await phone("阿美");
    page = await openGroup(groupId);
    expect(view(page).action).toMatchObject({ kind: "join" });
    await page.tap(".btn--primary");
    await page.waitFor((p) => view(p).group?.taken === 2 && view(p).me !== null, "the second place");
    expect(page.toasts.map((t) => t.title)).toContain("参团成功");
    expect(view(page).action).toMatchObject({ kind: "share", text: "邀请好友参团，还差1人" });
    // Paying before the group is full is refused, and the page says so.
    await (page.instance as { processGroupPayment(): Promise<void> }).processGroupPayment();
    expect(page.toasts.map((t) => t.title)).toContain("成团后再付款");
    await page.unload();

    // The third takes the last place: full; the page asks to pay at once, and the third pays.
    await phone("小周");
    page = await openGroup(groupId);
    const beforeJoin = marks();
    await page.tap(".btn--primary");
    await payThroughModal(page, beforeJoin);
    await page.waitFor((p) => view(p).group?.paid === 1, "the group shows the third's payment");
    expect(view(page).group).toMatchObject({ status: "open", taken: 3, paid: 1 });
    await screenshot(page, "group-page");
    await page.unload();

    // The others come back to the page (from the share card or a notice): asked to pay, they pay.
    mp.useDevice("阿美");
    let before = marks();
    page = await openGroup(groupId);
    expect(view(page).me?.payBy).toBeGreaterThan(Date.now());
    await payThroughModal(page, before);
    await page.unload();

    mp.useDevice("团长老李");
    before = marks();
    page = await openGroup(groupId);
    await payThroughModal(page, before);
    // The last payment completes the group: the page's watcher hears it.
    await page.waitFor((p) => view(p).group?.status === "complete" && view(p).action?.kind === "orders", "complete", 15_000);
    const watcher = mp.wx.sockets.filter((s) => s.url.includes(`/group-buy/${groupId}/ws`)).at(-1)!;
    await page.waitFor(() => watcher.received.some((f) => f.type === "group_complete"), "group_complete on the watcher");
    expect(page.text(".status")).toBe("拼团成功");
    expect(view(page).action).toMatchObject({ kind: "orders" });
    expect(view(page).members.every((m) => m.paid)).toBe(true);
    await screenshot(page, "group-page-complete");
    await page.unload();

    expect((await truth.group(groupId)).status).toBe("complete");
    const members = await truth.members(groupId);
    expect(members).toHaveLength(3);
    expect(members.every((m) => m.status === "paid" && m.total_fen === 6900)).toBe(true);
    expect(mp.wx.loading).toBeNull();
  });

  it("a group whose others never pay lapses at its deadline; its paid member is refunded once and the page says so", async () => {
    const leader = await phone("团长阿强");
    const opened = await mp.call<{ group: { id: string } }>("POST", `/v1/group-activities/${activityId}/groups`, { token: leader.token, body: {} });
    const groupId = opened.body.group.id;
    // Two friends take the last places over HTTP (their phones) and never pay.
    for (const name of ["路人甲", "路人乙"]) {
      mp.useDevice(name);
      const u = await mp.signIn(name);
      await mp.call("POST", "/v1/addresses", { token: u.token, body: testAddress });
      expect((await mp.call("POST", `/v1/groups/${groupId}/join`, { token: u.token, body: {} })).status).toBe(200);
    }
    mp.useDevice("团长阿强");
    const before = marks();
    const page = await openGroup(groupId);
    await payThroughModal(page, before);
    // The friends' windows lapse: their places are freed and the group re-opens with one paid member.
    await page.waitFor((p) => view(p).group?.taken === 1 && view(p).group?.status === "open" && view(p).members.length === 1, "the lapsed places freed", (HOLD_SEC + 15) * 1000);
    expect(view(page).members).toEqual([expect.objectContaining({ paid: true, leader: true })]);
    expect(view(page).action).toMatchObject({ kind: "share", text: "邀请好友参团" });

    // The deadline comes (brought forward here) and the expiry job runs.
    await truth.expireNow(groupId);
    const queue = new Queue("group", { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix: `{${mp.redisPrefix}:jobs}` });
    try {
      const job = await queue.getJob(`group-expire-${groupId}`);
      expect(job).toBeTruthy();
      await job!.promote();
    } finally {
      await queue.close();
    }
    await page.waitFor((p) => view(p).group?.status === "failed" && view(p).action?.kind === "create", "the failed group on the page", 20_000);
    expect(page.text(".status")).toBe("拼团失败");
    expect(page.toasts.map((t) => t.title)).toContain("拼团未成功，已付款项将原路退回");
    expect(view(page).action).toMatchObject({ kind: "create", text: "重新开团" });
    await truth.until(async () => (await truth.orders(groupId)).some((o) => o.status === "refunded"), "the refund");
    const orders = await truth.orders(groupId);
    const paid = orders.filter((o) => o.sandbox_state === "SUCCESS" || o.sandbox_state === "REFUND");
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({ status: "refunded", refunds: 1, sandbox_refunds: 1, refunded_fen: 6900 });
    expect(orders.filter((o) => o !== paid[0]).every((o) => o.status === "cancelled" && o.refunds === 0)).toBe(true);
    await screenshot(page, "group-page-failed");

    // "Open a new group" from the failed one: a fresh group to share.
    await page.tap(".btn--primary");
    await page.waitFor(() => mp.wx.navigations.some((n) => n.kind === "redirectTo" && n.url.startsWith("/pages/group/detail?groupId=")), "the new group");
    const fresh = decodeURIComponent(/groupId=([^&]+)/.exec(mp.wx.navigations.at(-1)!.url)![1]!);
    expect(fresh).not.toBe(groupId);
    expect((await truth.group(fresh)).status).toBe("open");
    await page.unload();
  });

  it("an expired group shows the expired modal when its countdown ends", async () => {
    mp.useDevice("看客");
    mp.signOut();
    const leader = await phone("团长小林");
    const opened = await mp.call<{ group: { id: string } }>("POST", `/v1/group-activities/${activityId}/groups`, { token: leader.token, body: {} });
    const groupId = opened.body.group.id;
    // The group's deadline is a second away (as seen when the page opens).
    await truth.sql`update groups set expires_at = now() + interval '1 second' where id = ${groupId}`;
    mp.useDevice("看客");
    const page = await openGroup(groupId);
    await page.waitFor(() => mp.wx.modals.some((m) => m.title === "拼团已结束"), "the expired modal", 10_000);
    expect(mp.wx.modals.find((m) => m.title === "拼团已结束")).toMatchObject({ showCancel: false });
    await page.waitFor(() => mp.wx.navigations.at(-1)?.kind === "navigateBack" || mp.wx.navigations.at(-1)?.kind === "switchTab", "leaving the page");
    await page.unload();
  });
});
