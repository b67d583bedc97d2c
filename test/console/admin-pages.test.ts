// The admin pages in Chromium against a real server: catalog (create, SKUs, delist), orders
// (filter, ship, refund), group activities and staff accounts (a new host can sign in).
import { describe, expect, it } from "vitest";
import { waitUntil } from "../support/clients.js";
import { testPng } from "../support/images.js";
import { payInSandbox, wechatUser } from "../support/wechat.js";
import type { Page } from "playwright-core";
import { shot, useConsole } from "./harness.js";

describe("console admin pages", () => {
  const { h, page, signIn, stream } = useConsole();

  it("catalog: creates a product with SKUs, edits stock, delists it", async () => {
    await stream(h.host, "目录用的直播间", [{ name: "云南滇红 100g", priceFen: 4500, stock: 80 }]);
    const p = await page();
    await signIn(p, h.admin);
    expect(await p.locator("[data-test^=menu-]").allTextContents()).toEqual(["直播间", "商品", "订单", "拼团", "封禁", "员工"]);
    await p.locator("[data-test=menu-catalog]").click();
    await expect.poll(() => p.locator("[data-test=product-table]").textContent()).toContain("云南滇红 100g");
    await shot(p, "admin-catalog");

    await p.locator("[data-test=new-product]").click();
    await p.locator("#n-name").fill("手工竹茶则");
    await p.getByLabel("规格1 价格(元)").fill("35");
    await p.getByLabel("规格1 库存").fill("12");
    await p.getByRole("textbox", { name: "规格1", exact: true }).fill("颜色:原竹");
    await p.locator("[data-test=create-product]").click();
    const drawer = p.locator(".el-drawer", { hasText: "规格与库存" });
    await expect.poll(() => drawer.textContent()).toContain("颜色:原竹");
    expect(await drawer.textContent()).toContain("总库存 12");
    await shot(p, "admin-catalog-product");

    // A picture uploaded in the drawer becomes the product's cover once saved.
    await drawer.locator("[data-test=product-picture-upload]").setInputFiles({ name: "bamboo.png", mimeType: "image/png", buffer: testPng(200, 200, [120, 160, 60]) });
    await expect.poll(() => drawer.locator("#p-pics").inputValue()).toMatch(/^\/images\/[0-9a-f]{64}\.png$/);
    await drawer.locator("[data-test=save-product]").click();
    await expect.poll(() => drawer.locator("img.big").count()).toBe(1);

    await drawer.getByRole("button", { name: "下架" }).click();
    await expect.poll(() => drawer.textContent()).toContain("已下架");
    const list = await h.call<{ items: { name: string; listed: boolean; stock: number }[] }>("GET", "/v1/admin/products?q=竹茶则", { token: h.admin.token });
    expect(list.body.items).toEqual([expect.objectContaining({ name: "手工竹茶则", listed: false, stock: 12 })]);
    expect((list.body.items[0] as unknown as { cover: string }).cover).toMatch(/\/images\/[0-9a-f]{64}\.png$/);
  });

  it("orders: filters by state and stream, ships with a tracking number, refunds", async () => {
    const s = await stream(h.host, "订单用的直播间", [{ name: "正山小种 200g", priceFen: 8800, stock: 10 }]);
    const buyer = await wechatUser(h.call, "刘女士");
    const placed = await h.call<{ id: string }>("POST", "/v1/orders", {
      token: buyer.token,
      headers: { "idempotency-key": `admin-order-${Date.now()}` },
      body: { items: [{ skuId: s.products[0]!.skuId, quantity: 2 }], addressId: buyer.addressId, streamId: s.id },
    });
    expect(placed.status).toBe(201);
    const params = await h.call<Record<string, string>>("POST", `/v1/orders/${placed.body.id}/pay`, { token: buyer.token });
    await payInSandbox(h.call, params.body);
    await waitUntil(async () => (await h.call<{ status: string }>("GET", `/v1/orders/${placed.body.id}`, { token: buyer.token })).body.status === "paid", "order paid");

    const p = await page();
    await signIn(p, h.admin);
    await p.goto(`${h.url}/console/admin/orders`);
    await p.locator("[data-test=order-status-filter]").click();
    await p.locator(".el-select-dropdown__item", { hasText: "待发货" }).click();
    await p.getByRole("combobox", { name: "按直播间筛选" }).click();
    await p.locator(".el-select-dropdown__item", { hasText: "订单用的直播间" }).click();
    await p.getByRole("button", { name: "查询" }).click();
    const table = p.locator("[data-test=order-table]");
    await expect.poll(() => table.textContent()).toContain("正山小种 200g×2");
    expect(await table.locator(".el-table__row").count()).toBe(1);
    await shot(p, "admin-orders");

    await table.getByRole("button", { name: "发货" }).click();
    const drawer = p.locator(".el-drawer", { hasText: "收货地址" });
    await drawer.getByLabel("运单号").fill("SF1234567890");
    await drawer.locator("[data-test=ship]").click();
    await expect.poll(() => drawer.textContent()).toContain("SF1234567890");
    expect(await drawer.textContent()).toContain("已发货");
    await shot(p, "admin-orders-drawer");

    await drawer.getByLabel("原因").fill("茶叶受潮，全额退款");
    await drawer.locator("[data-test=refund]").click();
    await expect.poll(() => drawer.textContent()).toContain("已提交退款 ¥176.00");
    await waitUntil(async () => ["refunding", "refunded"].includes((await h.call<{ status: string }>("GET", `/v1/orders/${placed.body.id}`, { token: buyer.token })).body.status), "order refunded");
  });

  /** A paid order at `priceFen` in a stream of its own, through the API and the WeChat Pay sandbox. */
  async function paidOrder(title: string, productName: string, priceFen: number) {
    const s = await stream(h.host, title, [{ name: productName, priceFen, stock: 10 }]);
    const buyer = await wechatUser(h.call, "周先生");
    const placed = await h.call<{ id: string }>("POST", "/v1/orders", {
      token: buyer.token,
      headers: { "idempotency-key": `admin-order-${Date.now()}-${Math.random().toString(36).slice(2)}` },
      body: { items: [{ skuId: s.products[0]!.skuId, quantity: 1 }], addressId: buyer.addressId, streamId: s.id },
    });
    expect(placed.status).toBe(201);
    const params = await h.call<Record<string, string>>("POST", `/v1/orders/${placed.body.id}/pay`, { token: buyer.token });
    await payInSandbox(h.call, params.body);
    await waitUntil(async () => (await h.call<{ status: string }>("GET", `/v1/orders/${placed.body.id}`, { token: buyer.token })).body.status === "paid", "order paid");
    return { streamId: s.id, orderId: placed.body.id, buyerToken: buyer.token };
  }

  /** The admin's orders page filtered to one stream, with its one order's drawer open. */
  async function openOrderDrawer(p: Page, title: string) {
    await signIn(p, h.admin);
    await p.goto(`${h.url}/console/admin/orders`);
    await p.getByRole("combobox", { name: "按直播间筛选" }).click();
    await p.locator(".el-select-dropdown__item", { hasText: title }).click();
    await p.getByRole("button", { name: "查询" }).click();
    const table = p.locator("[data-test=order-table]");
    await expect.poll(() => table.locator(".el-table__row").count()).toBe(1);
    await table.getByRole("button", { name: "发货" }).click();
    const drawer = p.locator(".el-drawer", { hasText: "收货地址" });
    await drawer.waitFor({ timeout: 5_000 });
    return drawer;
  }

  it("orders: refunds work where crypto.randomUUID is missing (the console over plain http on a LAN address)", async () => {
    const order = await paidOrder("明文访问的直播间", "白毫银针 50g", 12800);
    const p = await page();
    // Browsers offer crypto.randomUUID in secure contexts only; 127.0.0.1 is one, a LAN address is not.
    await p.addInitScript(() => {
      delete (Crypto.prototype as { randomUUID?: unknown }).randomUUID;
    });
    const drawer = await openOrderDrawer(p, "明文访问的直播间");
    await drawer.getByLabel("原因").fill("买家不想要了");
    await drawer.locator("[data-test=refund]").click();
    await expect.poll(() => drawer.textContent()).toContain("已提交退款 ¥128.00");
    await waitUntil(async () => ["refunding", "refunded"].includes((await h.call<{ status: string }>("GET", `/v1/orders/${order.orderId}`, { token: order.buyerToken })).body.status), "order refunded");
    expect(h.pageErrors).toEqual([]);
  });

  it("orders: a refund the server refuses can be corrected and sent again", async () => {
    const order = await paidOrder("部分退款的直播间", "凤凰单丛 100g", 12800);
    // Another admin already refunded ¥100 of ¥128: the drawer's full amount is too much.
    const earlier = await h.call("POST", `/v1/admin/orders/${order.orderId}/refund`, {
      token: h.admin.token,
      headers: { "idempotency-key": `earlier-refund-${Date.now()}` },
      body: { amountFen: 10000, reason: "部分缺货" },
    });
    expect(earlier.status, JSON.stringify(earlier.body)).toBe(200);
    const p = await page();
    const drawer = await openOrderDrawer(p, "部分退款的直播间");
    await drawer.getByLabel("原因").fill("补退余款");
    await drawer.locator("[data-test=refund]").click();
    await expect.poll(() => drawer.locator("[role=alert]").textContent()).toContain("冲突");
    const amount = drawer.locator("input#refund-amount");
    await amount.fill("28");
    await amount.blur();
    await drawer.locator("[data-test=refund]").click();
    await expect.poll(() => drawer.textContent()).toContain("已提交退款 ¥28.00");
    await waitUntil(async () => ["refunding", "refunded"].includes((await h.call<{ status: string }>("GET", `/v1/orders/${order.orderId}`, { token: order.buyerToken })).body.status), "order refunded in full");
  });

  it("streams: an admin creates a stream for a host, sees its publish key once, and the host finds it", async () => {
    const p = await page();
    await signIn(p, h.admin);
    await p.locator("[data-test=new-stream]").click();
    await p.locator("#new-stream-title").fill("周五晚茶会");
    await p.locator("#new-stream-host").click();
    await p.locator(".el-select-dropdown__item", { hasText: "赵主播（host_zhao）" }).click();
    await p.getByRole("button", { name: "创建", exact: true }).click();
    const key = p.locator("input[data-test=created-key], [data-test=created-key] input").first();
    await key.waitFor();
    await p.getByRole("button", { name: "显示推流密钥" }).click();
    expect(await key.inputValue()).toMatch(/^sk_/);
    await shot(p, "streams-admin-created");
    await p.getByRole("button", { name: "完成" }).click();
    await expect.poll(() => p.locator("[data-test=stream-table]").textContent()).toContain("周五晚茶会");
    await shot(p, "streams-admin");
    const mine = await h.call<{ title: string }[]>("GET", "/v1/streams/mine", { token: h.otherHost.token });
    expect(mine.body.map((s) => s.title)).toContain("周五晚茶会");
  });

  it("group activities and staff: lists, details, and a new host account that can sign in", async () => {
    const s = await stream(h.host, "拼团用的直播间", [{ name: "桂圆红枣茶", priceFen: 3900, stock: 50 }]);
    const activity = await h.call<{ id: string }>("POST", "/v1/admin/group-activities", {
      token: h.admin.token,
      body: { productId: s.products[0]!.productId, streamId: s.id, groupSize: 3, groupPriceFen: 2900 },
    });
    expect(activity.status, JSON.stringify(activity.body)).toBe(201);
    const p = await page();
    await signIn(p, h.admin);
    await p.goto(`${h.url}/console/admin/groups`);
    const table = p.locator("[data-test=activity-table]");
    await expect.poll(() => table.textContent()).toContain("桂圆红枣茶");
    expect(await table.textContent()).toContain("3 人");
    await shot(p, "admin-groups");
    await table.locator(".el-table__row", { hasText: "桂圆红枣茶" }).click();
    await expect.poll(() => p.getByRole("dialog", { name: "拼团：桂圆红枣茶" }).textContent()).toContain("正在拼的团");
    await shot(p, "admin-groups-drawer");

    await p.goto(`${h.url}/console/admin/staff`);
    await expect.poll(() => p.locator("[data-test=staff-table]").textContent()).toContain("host_li");
    await p.locator("[data-test=new-staff]").click();
    await p.locator("#s-username").fill("host_sun");
    await p.locator("#s-nickname").fill("孙主播");
    const password = await p.locator("#s-password").inputValue();
    expect(password.length).toBeGreaterThanOrEqual(10);
    await p.locator("[data-test=create-staff]").click();
    await expect.poll(() => p.locator(".el-dialog").textContent()).toContain(`初始密码：${password}`);
    await p.getByRole("button", { name: "完成" }).click();
    await expect.poll(() => p.locator("[data-test=staff-table]").textContent()).toContain("孙主播");
    await shot(p, "admin-staff");
    const login = await h.call<{ user: { role: string } }>("POST", "/v1/auth/staff-login", { body: { username: "host_sun", password } });
    expect(login.status).toBe(200);
    expect(login.body.user.role).toBe("host");
  });
});
