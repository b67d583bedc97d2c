// The live room page (pages/live/room) against a real server: comments, counts, the host's bubble and
// flash sale while others buy, buying and paying, coupons, group entry, errors, reconnects, the end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devSession, devStream, sleep, WsClient } from "../support/clients.js";
import { makeProduct, testAddress } from "../support/http.js";
import { payInSandbox, wechatUser } from "../support/wechat.js";
import { layout, overlaps, screenshot, useMiniProgram, type Box, type PageHandle } from "./support/harness.js";

type Comment = { content: string };
/** The parts of the room page's data the tests read. */
type RoomData = { bubble: { title: string; flash: { left: number } | null } | null; coupon: { claimed: boolean } | null };
const room = (p: PageHandle) => p.data as RoomData;

describe("live room page", () => {
  // A small comment burst so a quick third comment is refused with RATE_LIMITED.
  const mp = useMiniProgram({ env: { COUNTS_INTERVAL_MS: "200", COMMENT_BURST: "2", COMMENT_RATE_PER_SEC: "0.5" } });
  let host: { token: string; userId: string };
  let admin: string;
  const sockets: WsClient[] = [];

  beforeAll(async () => {
    host = await devSession(mp.server.url, "主播阿楠");
    admin = await mp.adminToken();
  });
  afterAll(() => {
    for (const s of sockets) s.close();
  });

  /** A live stream with one product, and the host's own socket. */
  async function liveStream(title = "明前龙井 春茶上新") {
    const streamId = await devStream(mp.server.url, host.token, title);
    const product = await makeProduct(mp.call, admin, { priceFen: 12800, stock: 100 }, "明前龙井 250g 礼盒装");
    expect((await mp.call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [product.productId] } })).status).toBe(200);
    const hostWs = await WsClient.connect(`${mp.server.ws}/live-stream/${streamId}/ws`, { token: host.token });
    sockets.push(hostWs);
    await hostWs.next("snapshot");
    hostWs.send({ type: "stream_start", id: "start" });
    await hostWs.until((f) => f.some((x) => x.type === "ack" && x.id === "start"), 10_000, "stream_start ack");
    return { streamId, hostWs, ...product };
  }

  async function viewerSocket(streamId: string, nickname: string) {
    const v = await devSession(mp.server.url, nickname);
    const ws = await WsClient.connect(`${mp.server.ws}/live-stream/${streamId}/ws`, { token: v.token });
    sockets.push(ws);
    await ws.next("snapshot");
    return ws;
  }

  async function hostSocket(streamId: string) {
    const ws = await WsClient.connect(`${mp.server.ws}/live-stream/${streamId}/ws`, { token: host.token });
    sockets.push(ws);
    await ws.next("snapshot");
    return ws;
  }

  async function openRoom(streamId: string) {
    const page = await mp.openPage("pages/live/room", { streamId });
    await page.waitFor((p) => p.data.connection === "live" && p.data.title !== "", "the room to connect");
    return page;
  }

  const contents = (page: PageHandle) => (page.data.comments as Comment[]).map((c) => c.content);
  /** The newest open socket of the page to this stream's room. */
  const roomSocket = (streamId: string) => mp.wx.openSockets().filter((s) => s.url.includes(`/live-stream/${streamId}/`)).at(-1)!;

  async function startSale(streamId: string, skuId: string, quantity: number) {
    const sale = await mp.call<{ id: string }>("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { skuId, priceFen: 9900, quantity, perUserLimit: 1, durationSec: 600 } });
    expect(sale.status).toBe(201);
    return sale.body.id;
  }

  /** Someone else buys at the live price over HTTP (and pays when asked). */
  async function buyerBuys(saleId: string, name: string, pay = false) {
    const u = await wechatUser(mp.call, name);
    const res = await mp.call<{ id: string; code?: string }>("POST", `/v1/flash-sales/${saleId}/buy`, {
      token: u.token,
      headers: { "idempotency-key": `buy-${u.userId}` },
      body: { addressId: u.addressId },
    });
    if (pay && res.status === 201) {
      const params = await mp.call<Record<string, unknown>>("POST", `/v1/orders/${res.body.id}/pay`, { token: u.token });
      expect(await payInSandbox(mp.call, params.body)).toBe("requestPayment:ok");
    }
    return res;
  }

  it("shows another viewer's comment once, and the viewer count", async () => {
    const { streamId } = await liveStream();
    const page = await openRoom(streamId);
    const other = await viewerSocket(streamId, "茶友小王");
    other.send({ type: "comment", id: "q1", comment: { content: "今年的新茶吗" } });
    await page.waitFor((p) => contents(p).includes("今年的新茶吗"), "the other viewer's comment");
    await page.waitFor((p) => p.text(".viewers") === "3", "three viewers (page, other viewer, host)");
    await sleep(400);
    expect(contents(page).filter((c) => c === "今年的新茶吗")).toHaveLength(1);
    expect(page.text()).toContain("茶友小王");
    expect(page.text()).toContain("今年的新茶吗");
    expect(page.text(".host-name")).toBe("主播阿楠");
    await page.unload();
    await page.waitFor(() => mp.wx.openSockets().filter((s) => s.url.includes(streamId)).length === 0, "the socket closed on unload");
  });

  it("shows the host's bubble and a flash sale whose units left fall as others buy; the viewer buys and pays", async () => {
    const { streamId, hostWs, productId, skuId } = await liveStream();
    mp.useDevice("buyer phone");
    const page = await openRoom(streamId);

    hostWs.send({ type: "product_highlight", productId, title: "明前龙井 250g 礼盒装", priceFen: 12800 });
    await page.waitFor((p) => room(p).bubble?.title === "明前龙井 250g 礼盒装", "the bubble");
    expect(page.text(".bubble-card")).toContain("讲解中");
    expect(page.text(".bubble-card")).toContain("128.00");

    const saleId = await startSale(streamId, skuId, 10);
    await page.waitFor((p) => p.text(".bubble-card").includes("仅剩 10 件"), "the flash sale in the bubble");
    expect(page.text(".bubble-card")).toContain("99.00");
    for (const name of ["阿美", "小周", "老陈"]) expect((await buyerBuys(saleId, name, name === "阿美")).status).toBe(201);
    await page.waitFor((p) => p.text(".bubble-card").includes("仅剩 7 件"), "units left falling to 7");
    // A paid order from this room: "just bought".
    await page.waitFor((p) => (p.data.justBought as string).includes("刚刚购买了 明前龙井"), "the just-bought note");

    // The viewer taps buy: asked to log in (wx.login), then to add an address first.
    expect(mp.wx.device.storage.has("pinlive.session")).toBe(false);
    await page.tap(".bubble-card >>> .btn--buy");
    await page.waitFor(() => mp.wx.navigations.some((n) => n.url === "/pages/usercenter/address/edit"), "sent to add an address");
    expect(page.toasts.map((t) => t.title)).toContain("请先添加收货地址");
    const session = mp.wx.device.storage.get("pinlive.session") as { token: string; user: { id: string } };
    expect(session.token).toBeTruthy();
    expect((await mp.call("POST", "/v1/addresses", { token: session.token, body: testAddress })).status).toBe(201);

    await page.tap(".bubble-card >>> .btn--buy");
    await page.waitFor(() => mp.wx.navigations.some((n) => n.url.startsWith("/pages/order/result")), "the result page", 15_000);
    const nav = mp.wx.navigations.find((n) => n.url.startsWith("/pages/order/result"))!;
    expect(nav.url).toMatch(/status=paid$/);
    expect(mp.wx.payments.at(-1)?.errMsg).toBe("requestPayment:ok");
    expect(mp.wx.loading).toBeNull();
    const orderId = decodeURIComponent(/orderId=([^&]+)/.exec(nav.url)![1]!);
    await page.waitFor(() => true);
    const paid = async () => (await mp.call<{ status: string; totalFen: number }>("GET", `/v1/orders/${orderId}`, { token: session.token })).body;
    for (let i = 0; i < 50 && (await paid()).status !== "paid"; i++) await sleep(100);
    expect(await paid()).toMatchObject({ status: "paid", totalFen: 9900 });
    await page.waitFor((p) => p.text(".bubble-card").includes("仅剩 6 件"), "units left after the viewer's own purchase");
    await page.unload();
    mp.useDevice("default");
  });

  it("counts down to a scheduled push, then shows it as the bubble; add to cart from it", async () => {
    const { streamId, productId, skuId } = await liveStream();
    const page = await openRoom(streamId);
    const at = Date.now() + 3000;
    const push = await mp.call("POST", `/v1/streams/${streamId}/pushes`, { token: host.token, body: { productId, at, countdownSec: 60, title: "宜兴紫砂壶 限量首发", priceFen: 39900 } });
    expect(push.status).toBe(201);
    await page.waitFor((p) => p.exists(".soon"), "the countdown");
    expect(page.text(".soon")).toMatch(/即将上架宜兴紫砂壶 限量首发00:00:0[0-3]/);
    await page.waitFor((p) => room(p).bubble?.title === "宜兴紫砂壶 限量首发" && !p.exists(".soon"), "the pushed bubble at its time", 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(page.text(".bubble-card")).toContain("399.00");

    // Add to cart from the bubble: the viewer is asked to log in, the product's only SKU goes in.
    mp.useDevice("cart phone");
    await page.tap(".bubble-card >>> .btn--cart");
    await page.waitFor((p) => p.toasts.some((t) => t.title === "已加入购物车"), "added to the cart");
    const session = mp.wx.device.storage.get("pinlive.session") as { token: string };
    const cart = await mp.call<{ items: { skuId: string; quantity: number }[] }>("GET", "/v1/cart", { token: session.token });
    expect(cart.body.items).toEqual([expect.objectContaining({ skuId, quantity: 1 })]);
    await page.unload();
    mp.useDevice("default");
  });

  it("says so when the stream does not exist, and stops trying to connect", async () => {
    const page = await mp.openPage("pages/live/room", { streamId: "no-such-stream" });
    await page.waitFor((p) => p.exists(".ended") && p.data.connection === "closed", "the failed room");
    expect(page.text(".ended")).toContain("直播间加载失败");
    expect(page.toasts.map((t) => t.title)).toContain("直播间不存在");
    const tries = mp.wx.sockets.filter((s) => s.url.includes("no-such-stream")).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(mp.wx.sockets.filter((s) => s.url.includes("no-such-stream")).length).toBe(tries);
    await page.unload();
  });

  it("shows the server's errors: SOLD_OUT when the sale is gone, RATE_LIMITED when commenting too fast", async () => {
    const { streamId, skuId } = await liveStream();
    mp.useDevice("error phone");
    const me = await mp.signIn("手快的人");
    expect((await mp.call("POST", "/v1/addresses", { token: me.token, body: testAddress })).status).toBe(201);
    const page = await openRoom(streamId);
    const saleId = await startSale(streamId, skuId, 1);
    await page.waitFor((p) => p.text(".bubble-card").includes("仅剩 1 件"), "the sale with one unit");

    // The phone's network is slow: it has not heard that someone else took the last unit.
    roomSocket(streamId).hold();
    expect((await buyerBuys(saleId, "更快的人")).status).toBe(201);
    const navigations = mp.wx.navigations.length;
    await page.tap(".bubble-card >>> .btn--buy");
    await page.waitFor((p) => p.toasts.some((t) => t.title === "已抢光") && !p.data.buying, "SOLD_OUT shown");
    // And left on screen: the spinner's hideLoading after it must not take the toast away with it.
    expect(page.toasts.find((t) => t.title === "已抢光")!.cutShort).toBeFalsy();
    expect(mp.wx.navigations.slice(navigations)).toEqual([]);
    roomSocket(streamId).release();
    await page.waitFor((p) => p.text(".bubble-card").includes("已抢光"), "the sold-out bubble");

    for (const text of ["第一条", "第二条", "第三条"]) {
      await page.input(".say-input", text);
      await page.tap(".send");
      await page.waitFor((p) => !p.data.sending, "the comment to be answered");
    }
    await page.waitFor((p) => p.toasts.some((t) => t.title === "操作太频繁，请稍后再试"), "RATE_LIMITED shown");
    expect(contents(page)).toEqual(expect.arrayContaining(["第一条", "第二条"]));
    expect(contents(page)).not.toContain("第三条");
    // The refused comment stays in the input to send again.
    expect(page.data.commentText).toBe("第三条");
    await page.unload();
    mp.signOut();
    mp.useDevice("default");
  });

  it("reconnects mid-stream, after a hide and after the network returns, with no duplicate and no gap", async () => {
    const { streamId } = await liveStream();
    const page = await openRoom(streamId);
    // The host talks (hosts are not held to the comment rate), from a second socket of its own.
    const talker = await hostSocket(streamId);
    let n = 0;
    const sayAsHost = async (count: number) => {
      for (let i = 0; i < count; i++) {
        n += 1;
        talker.send({ type: "comment", id: `t${n}`, comment: { content: `第${n}句` } });
        await talker.until((f) => f.some((x) => x.type === "ack" && x.id === `t${n}`), 10_000, `ack t${n}`);
      }
    };
    const expected = () => Array.from({ length: n }, (_, i) => `第${i + 1}句`);

    await sayAsHost(3);
    await page.waitFor((p) => contents(p).length === n, "the first comments");

    // 1. The connection dies (no close frame); comments go on meanwhile.
    const first = roomSocket(streamId);
    first.drop();
    await sayAsHost(4);
    await page.waitFor(() => mp.wx.openSockets().some((s) => s !== first && s.url.includes(streamId)), "a new socket");
    const second = roomSocket(streamId);
    expect(second.url).toMatch(/epoch=[^&]+&seq=\d+/);
    await sayAsHost(2);
    await page.waitFor((p) => contents(p).length >= n, "the missed and new comments");
    await sleep(300);
    expect(contents(page)).toEqual(expected());
    expect(second.received.find((f) => f.type === "snapshot")).toMatchObject({ recovered: true });

    // 2. onHide closes the socket and keeps the position; onShow gets what was missed.
    await page.hide();
    await page.waitFor(() => second.closed, "the socket closed on hide");
    expect(page.data.connection).toBe("closed");
    await sayAsHost(3);
    await page.show();
    await page.waitFor((p) => contents(p).length >= n && p.data.connection === "live", "comments from while hidden");
    expect(contents(page)).toEqual(expected());

    // 3. The network goes away and comes back.
    mp.wx.goOffline();
    await page.waitFor((p) => p.data.connection === "reconnecting", "reconnecting while offline");
    await sayAsHost(2);
    mp.wx.goOnline();
    await page.waitFor((p) => p.data.connection === "live" && contents(p).length >= n, "back online");
    await sayAsHost(1);
    await page.waitFor((p) => contents(p).length >= n, "the last comment");
    await sleep(300);
    expect(contents(page)).toEqual(expected());
    await page.unload();
  });

  it("looks like a live room (screenshot) and shows the ended screen on stream_end", async () => {
    const { streamId, hostWs, productId, skuId } = await liveStream("明前龙井 春茶上新 · 产地直发");
    mp.useDevice("screenshot phone");
    const me = await mp.signIn("小美");
    const page = await openRoom(streamId);
    hostWs.send({ type: "pin", text: "今晚下单顺丰包邮，坏果包赔" });
    const coupon = await mp.call("POST", `/v1/streams/${streamId}/coupons`, { token: host.token, body: { title: "直播专享券", discountFen: 1000, minSpendFen: 9900, quantity: 200 } });
    expect(coupon.status).toBe(201);
    const activity = await mp.call<{ id: string }>("POST", "/v1/admin/group-activities", {
      token: admin,
      body: { productId, streamId, groupSize: 3, groupPriceFen: 8800, windowSec: 3600, flow: "join_first" },
    });
    expect(activity.status).toBe(201);
    const leader = await wechatUser(mp.call, "团长老李");
    expect((await mp.call("POST", `/v1/group-activities/${activity.body.id}/groups`, { token: leader.token, body: {} })).status).toBe(201);
    hostWs.send({ type: "product_highlight", productId, title: "明前龙井 250g 礼盒装", priceFen: 12800 });
    const saleId = await startSale(streamId, skuId, 50);
    for (const [name, text] of [
      ["茶友小王", "今年的新茶吗"],
      ["Lily", "泡出来颜色好绿"],
      ["阿强", "已下单 期待"],
    ] as const) {
      const ws = await viewerSocket(streamId, name);
      ws.send({ type: "comment", comment: { content: text } });
    }
    hostWs.send({ type: "comment", comment: { content: "都是今年明前头采，放心买" } });
    await page.waitFor((p) => contents(p).length >= 4 && room(p).bubble?.flash && p.data.coupon && p.data.group && p.data.pinned, "a busy room");
    // The purchase ticker's lane is there before anyone buys, under the comment list.
    expect(page.exists(".ticker")).toBe(true);
    expect(page.exists(".bought")).toBe(false);
    const quiet = await layout(page, { list: ".comments", lane: ".ticker" });
    for (const name of ["阿美", "小周"]) await buyerBuys(saleId, name, true);
    await page.waitFor((p) => room(p).bubble?.flash?.left === 48, "units left");
    await page.tap(".like");
    await page.tap(".like");
    await page.tap(".like");
    expect(page.count(".heart")).toBe(3);
    await page.waitFor((p) => p.data.likeCount >= 3, "likes");
    expect(page.text(".coupon")).toContain("10");
    expect(page.text(".group")).toContain("1/3");
    await page.waitFor((p) => p.data.justBought !== "", "a just-bought note");
    // The note shows for a few seconds: both renders take the page as it is now.
    const [busy] = await Promise.all([layout(page, { list: ".comments", lane: ".ticker", note: ".bought", items: ".comments >>> .item" }), screenshot(page, "live-room")]);
    // The note is in its own lane, outside the scrolling comment list and after it: it never covers a comment.
    const note = page.find(".bought").dom;
    expect(page.find(".ticker").dom.contains(note)).toBe(true);
    expect(page.find(".comments").dom.contains(note)).toBe(false);
    expect(page.find(".comments").dom.compareDocumentPosition(page.find(".ticker").dom) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    if (quiet && busy) {
      // Laid out on a phone: the note shares no area with the list or any comment, the newest comment
      // ends above it, and neither the list nor the lane moved when it came.
      const [noteBox, list, lane, emptyLane] = [busy.note, busy.list, busy.lane, quiet.lane].map((boxes) => {
        expect(boxes).toHaveLength(1);
        return boxes[0]!;
      }) as [Box, Box, Box, Box];
      expect(overlaps(noteBox, list)).toBe(false);
      expect(busy.items.length).toBeGreaterThanOrEqual(4);
      for (const item of busy.items) expect(overlaps(noteBox, item)).toBe(false);
      expect(busy.items.at(-1)!.bottom).toBeLessThanOrEqual(noteBox.top);
      expect(list).toEqual(quiet.list[0]);
      expect(lane).toEqual(emptyLane);
      expect(emptyLane.bottom - emptyLane.top).toBeGreaterThanOrEqual(noteBox.bottom - noteBox.top);
    }

    // The coupon: claimed once.
    await page.tap(".coupon-btn");
    await page.waitFor((p) => room(p).coupon?.claimed === true, "the claimed coupon");
    const mine = await mp.call<{ couponId: string }[]>("GET", "/v1/me/coupons", { token: me.token });
    expect(mine.body).toHaveLength(1);
    // The group entry opens the group page.
    await page.tap(".group");
    expect(mp.wx.navigations.at(-1)?.url).toMatch(/^\/pages\/group\/detail\?groupId=/);

    hostWs.send({ type: "stream_end" });
    await page.waitFor((p) => p.exists(".ended"), "the ended screen");
    expect(page.text(".ended")).toContain("直播已结束");
    expect(page.exists(".player")).toBe(false);
    await screenshot(page, "live-room-ended");
    await page.unload();
    mp.useDevice("default");
  });
});
