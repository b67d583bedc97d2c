// Acceptance 3: the seeds' pages, verbatim (test/mini-program/seeds), against the demo server: seed 001's
// home, cart and order page, seed 003's live page and group page, the group flow end to end.
import { afterAll, describe, expect, it } from "vitest";
import { waitFor, WsClient } from "../support/clients.js";
import { testAddress } from "../support/http.js";
import { useMiniProgram } from "./support/harness.js";
import { openSeedPage, seedWx } from "./support/seed-shim.js";

// The seed pages' methods these tests call.
type Home = { onLoad(): void; onProductTap(e: unknown): void };
type Cart = { onShow(): void; onQuantityChange(e: unknown): void; onCheckout(): void };
type OrderCreate = { onLoad(): void; onSubmitOrder(): Promise<void> };
type LiveStream = { onLoad(o: unknown): void; sendComment(e: unknown): void; onUnload(): void };
type GroupBuy = { onLoad(o: unknown): void; createGroup(): Promise<void>; joinGroup(): Promise<void>; processGroupPayment(): Promise<void> };

describe("the seeds' pages against the demo server", () => {
  const mp = useMiniProgram({ env: { DEMO_DATA: "true", COUNTS_INTERVAL_MS: "200" } });
  const sockets: WsClient[] = [];
  afterAll(() => {
    for (const s of sockets) s.close();
  });

  const wx = () => seedWx(mp.wx, (globalThis as unknown as { wx: Record<string, unknown> }).wx);

  /** A phone whose seed app has logged in: `token`, `userId` and `username` in storage, and an address. */
  async function seedUser(name: string) {
    mp.useDevice(name);
    const me = await mp.signIn(name);
    const storage = mp.wx.device.storage;
    storage.set("token", me.token);
    storage.set("userId", me.userId);
    storage.set("username", name);
    expect((await mp.call("POST", "/v1/addresses", { token: me.token, body: testAddress })).status).toBe(201);
    return me;
  }

  /** The demo host signs in as the console does, with the password the demo prints (no token is ever logged). */
  async function demoHostToken() {
    const password = /"host":\{"username":"host","password":"([^"]+)"\}/.exec(mp.server.output())![1]!;
    const res = await mp.call<{ token: string }>("POST", "/v1/auth/staff-login", { body: { username: "host", password } });
    expect(res.status).toBe(200);
    return res.body.token;
  }

  it("seed 001's home page loads banners, categories and hot products", async () => {
    const home = openSeedPage<Home>("001-home.js", wx());
    home.onLoad();
    await waitFor(() => home.data.loading === false, "the home page's data");
    expect(Array.isArray(home.data.banners)).toBe(true);
    expect((home.data.categories as { id: string }[]).map((c) => c.id)).toContain("demo-tea-cat");
    expect((home.data.hotProducts as { id: string }[]).map((p) => p.id)).toContain("demo-tea");
    expect(mp.wx.loadingShown).toContain("Loading...");
    expect(mp.wx.loading).toBeNull();
    home.onProductTap({ currentTarget: { dataset: { id: "demo-tea" } } });
    await waitFor(() => mp.wx.navigations.at(-1)?.url === "/pages/product/detail?id=demo-tea", "the product tap");
  });

  it("seed 001's cart and order pages: change a quantity, check out, place the order, pay", async () => {
    const me = await seedUser("Mei");
    for (const skuId of ["demo-tea-250", "demo-mug-1"]) {
      expect((await mp.call("POST", "/v1/cart/items", { token: me.token, body: { skuId, quantity: 1 } })).status).toBeLessThan(300);
    }
    const w = wx();
    const cart = openSeedPage<Cart>("001-cart.js", w);
    cart.onShow();
    await waitFor(() => (cart.data.cartItems as unknown[]).length === 2, "the cart");
    const items = cart.data.cartItems as { skuId: string; selected: boolean; price: number; quantity: number }[];
    const tea = items.findIndex((i) => i.skuId === "demo-tea-250");
    cart.onQuantityChange({ detail: { index: tea, quantity: 2 } });
    // The seed adds up yuan itself: 2 teas and a mug at the server's prices.
    const expected = items.reduce((sum, i) => sum + i.price * i.quantity, 0).toFixed(2);
    expect(cart.data.totalPrice).toBe(expected);
    const serverCart = async () => (await mp.call<{ items: { skuId: string; quantity: number }[] }>("GET", "/v1/cart", { token: me.token })).body.items;
    for (let i = 0; i < 50 && (await serverCart()).find((x) => x.skuId === "demo-tea-250")?.quantity !== 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await serverCart()).find((x) => x.skuId === "demo-tea-250")?.quantity).toBe(2);

    cart.onCheckout();
    await waitFor(() => mp.wx.navigations.at(-1)?.url === "/pages/order/create", "checkout");
    const order = openSeedPage<OrderCreate>("001-order-create.js", w, { channel: mp.wx.navigations.at(-1)!.channel });
    order.onLoad();
    await waitFor(() => order.data.address !== null && (order.data.orderItems as unknown[]).length === 2, "the order page's items and address");
    expect(order.data.totalAmount).toBe(expected);
    const payments = mp.wx.payments.length;
    await order.onSubmitOrder();
    await waitFor(() => mp.wx.payments.length > payments, "wx.requestPayment");
    expect(mp.wx.payments.at(-1)!.errMsg).toBe("requestPayment:ok");
    await waitFor(() => mp.wx.navigations.at(-1)?.kind === "redirectTo", "the order detail", 5000);
    const orderId = /\/pages\/order\/detail\?id=(.+)$/.exec(mp.wx.navigations.at(-1)!.url)![1]!;
    const placed = async () => (await mp.call<{ status: string; totalFen: number }>("GET", `/v1/orders/${orderId}`, { token: me.token })).body;
    for (let i = 0; i < 50 && (await placed()).status !== "paid"; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await placed()).toMatchObject({ status: "paid", totalFen: Math.round(Number(expected) * 100) });
    expect(mp.wx.toasts.map((t) => t.title)).toContain("Payment successful");
  });

  it("seed 003's live page: stream info, comments both ways, viewer count, highlight, stream end", async () => {
    const me = await seedUser("Lily");
    const host = await WsClient.connect(`${mp.server.ws}/live-stream/demo/ws`, { token: await demoHostToken() });
    const other = await WsClient.connect(`${mp.server.ws}/live-stream/demo/ws`);
    sockets.push(host, other);
    await host.next("snapshot");
    await other.next("snapshot");
    const live = openSeedPage<LiveStream>("003-live-stream.js", wx(), { missing: ["scrollToLatestComment"] });
    live.onLoad({ streamId: "demo" });
    await waitFor(() => live.data.streamInfo !== null && (live.data.products as unknown[]).length > 0, "the stream info");
    expect(live.data.streamInfo).toMatchObject({ id: "demo" });
    const highlighted = (live.data.products as { id: string }[]).at(-1)!.id;
    await waitFor(() => live.data.viewerCount === 3, "viewer_count 3");

    live.sendComment({ detail: { value: "  is the tea from this year? " } });
    const seen = await other.next("comment");
    expect(seen.comment).toMatchObject({ userId: me.userId, username: "Lily", content: "is the tea from this year?" });
    host.send({ type: "comment", comment: { content: "Yes, spring harvest!" } });
    await waitFor(() => (live.data.comments as { content: string }[]).some((c) => c.content === "Yes, spring harvest!"), "the host's comment");
    expect((live.data.comments as { content: string }[]).map((c) => c.content)).toEqual(["is the tea from this year?", "Yes, spring harvest!"]);

    host.send({ type: "product_highlight", productId: highlighted });
    await waitFor(() => (live.data.products as { id: string; highlighted: boolean }[]).some((p) => p.id === highlighted && p.highlighted), "the highlight");
    const modals = mp.wx.modals.length;
    host.send({ type: "stream_end" });
    await waitFor(() => mp.wx.modals.length > modals, "the stream-end modal");
    expect(mp.wx.modals.at(-1)).toMatchObject({ title: "Stream Ended", showCancel: false });
    expect(live.data.isLive).toBe(false);
    await waitFor(() => mp.wx.navigations.at(-1)?.kind === "navigateBack", "back after the end");
    live.onUnload();
  });

  it("seed 003's group page end to end on the demo activity: create and share, friends join, full, everyone pays, complete", async () => {
    // Someone already opened a group of the demo tea (from the product page); the leader looks at it.
    const early = await seedUser("Early");
    const first = await mp.call<{ group: { id: string } }>("POST", "/v1/group-activities/demo-tea-group/groups", { token: early.token, body: {} });
    expect(first.status).toBe(201);

    await seedUser("Leader");
    let w = wx();
    const leaderPage = openSeedPage<GroupBuy>("003-group-buy.js", w);
    leaderPage.onLoad({ groupId: first.body.group.id });
    await waitFor(() => leaderPage.data.groupInfo !== null, "the group page");
    expect(leaderPage.data.groupInfo).toMatchObject({ productId: "demo-tea", maxParticipants: 3 });
    await leaderPage.createGroup();
    const share = w.shared.at(-1) as { path: string; title: string };
    expect(share.title).toContain((leaderPage.data.groupInfo as { productName: string }).productName);
    const groupId = /groupId=(.+)$/.exec(share.path)![1]!;
    expect(groupId).not.toBe(first.body.group.id);

    // Friends open the shared page and join; the last place makes it full and its taker pays at once.
    const pageOf = async (name: string) => {
      await seedUser(name);
      w = wx();
      const page = openSeedPage<GroupBuy>("003-group-buy.js", w);
      page.onLoad({ groupId });
      await waitFor(() => page.data.groupInfo !== null, `${name}'s group page`);
      return page;
    };
    const friend1 = await pageOf("Friend1");
    expect(friend1.data.canJoin).toBe(true);
    await friend1.joinGroup();
    expect(mp.wx.toasts.at(-1)).toMatchObject({ title: "Joined successfully!" });
    await waitFor(() => (friend1.data.participants as unknown[]).length === 2, "two members");

    const friend2 = await pageOf("Friend2");
    const modals = mp.wx.modals.length;
    const payments = mp.wx.payments.length;
    await friend2.joinGroup();
    await waitFor(() => mp.wx.modals.length > modals, "Group Complete! modal");
    expect(mp.wx.modals.at(-1)).toMatchObject({ title: "Group Complete!", confirmed: true });
    await waitFor(() => mp.wx.payments.length > payments, "Friend2 pays");
    expect(mp.wx.payments.at(-1)!.errMsg).toBe("requestPayment:ok");

    // The others are asked to pay (handleGroupComplete → processGroupPayment on their phones).
    for (const name of ["Leader", "Friend1"]) {
      mp.useDevice(name);
      w = wx();
      const page = openSeedPage<GroupBuy>("003-group-buy.js", w);
      page.onLoad({ groupId });
      await waitFor(() => page.data.groupInfo !== null, `${name}'s page`);
      const before = mp.wx.payments.length;
      await page.processGroupPayment();
      await waitFor(() => mp.wx.payments.length > before, `${name} pays`);
      expect(mp.wx.payments.at(-1)!.errMsg).toBe("requestPayment:ok");
    }
    const status = async () => (await mp.call<{ status: string; participants: { paid: boolean }[] }>("GET", `/api/group-buy/${groupId}`)).body;
    for (let i = 0; i < 100 && (await status()).status !== "complete"; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await status()).toMatchObject({ status: "complete" });
    expect((await status()).participants.every((p) => p.paid)).toBe(true);
    await waitFor(() => mp.wx.navigations.at(-1)?.url === "/pages/order/list", "the seed's redirect to the order list", 5000);
  });
});
