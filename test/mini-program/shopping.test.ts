// The shopping pages against a real server: buy now → order → wx.requestPayment → the sandbox pays
// → the order list shows it paid; a cart checkout with a live coupon shows the server's totals; a
// server error reaches the viewer; the pages people look at are screenshotted. The server runs with
// its demo catalog (generated pictures, banners, stream covers), so the pictures look like a shop.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { testAddress } from "../support/http.js";
import { screenshot, useMiniProgram, type PageHandle } from "./support/harness.js";

type Sku = { id: string; priceFen: number; stock: number };
type Quote = { items: unknown[]; itemsFen: number; discountFen: number; totalFen: number };
type Order = { id: string; status: string; itemsFen: number; discountFen: number; totalFen: number; couponId: string | null };

interface DetailsView { product?: { id: string }; sheetVisible: boolean }
interface ConfirmView { lines: unknown[]; address: unknown; quoting: boolean; submitting: boolean; itemsFen: number; discountFen: number; totalFen: number; couponId: string }
interface ResultView { order?: Order }
interface ListView { list: Order[]; active: string }
interface CartView { items: { productId: string; selected: boolean }[]; totalFen: number; busy: boolean }
interface HomeView {
  loading: boolean;
  banners: unknown[];
  categories: { name: string }[];
  liveStreams: { id: string }[];
  upcomingStreams: { id: string }[];
  hotProducts: unknown[];
}
interface MyGroupsView { list: { id: string; statusText: string; note: string; taken: number; size: number; leader: boolean }[] }
interface GroupOffer { activity: { id: string } | null; openGroups: { id: string; left: number }[] }
interface MeView { loggedIn: boolean; avatar: string; shortcuts: { badge: string }[] }
/** A page's data, typed as the test reads it. */
const view = <T>(page: PageHandle) => page.data as T;

const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;

describe("shopping pages", () => {
  const mp = useMiniProgram({ env: { DEMO_DATA: "true" } });
  let admin = "";
  let sn = 0;

  beforeAll(async () => {
    admin = await mp.adminToken();
  });

  /** A listed product with two SKUs (a picker to choose from) in a category. */
  async function product(name: string, skus: { specs: Record<string, string>; priceFen: number; stock: number }[]) {
    const category = await mp.call<{ id: string }>("POST", "/v1/admin/categories", { token: admin, body: { name: "茶叶" } });
    const res = await mp.call<{ id: string; skus: Sku[] }>("POST", "/v1/admin/products", {
      token: admin,
      body: { sn: `MP-${process.pid}-${sn++}`, name, brief: "明前采摘 · 豆香清雅 · 产地直发", categoryId: category.body.id, skus },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** A product of the demo catalog (with its pictures). */
  async function demoProduct(id: string) {
    const res = await mp.call<{ id: string; name: string; skus: Sku[] }>("GET", `/v1/products/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  /** The active phone signs in (as the pages would) and has a default address. */
  async function shopper(device: string, nickname: string) {
    mp.useDevice(device);
    const s = await mp.signIn(nickname);
    const address = { ...testAddress, name: "李梅", province: "浙江省", city: "杭州市", district: "西湖区", detail: "龙井路 18 号" };
    expect((await mp.call("POST", "/v1/addresses", { token: s.token, body: address })).status).toBe(201);
    return s;
  }

  /** The latest navigation's target once it starts with `prefix`. */
  async function navigatedTo(page: PageHandle, prefix: string) {
    await page.waitFor(() => (mp.wx.navigations.at(-1)?.url ?? "").startsWith(prefix), `navigation to ${prefix}`);
    return mp.wx.navigations.at(-1)!;
  }

  /**
   * A screenshot with the pictures in it: j-component does not copy `src` onto the native <img>
   * the harness renders for <image>, so it is copied here from the image component's data.
   */
  async function shot(page: PageHandle, name: string, opts: { fullPage?: boolean } = {}) {
    for (const el of page.dom.querySelectorAll("wx-image")) {
      const src = (el as unknown as { __wxElement?: { data?: { src?: unknown } } }).__wxElement?.data?.src;
      const img = el.querySelector("img");
      if (img && typeof src === "string" && src) img.setAttribute("src", src);
    }
    return screenshot(page, name, opts);
  }

  /** Each page's WXSS shares the `main--` prefix under miniprogram-simulate: keep only the next page's in the head. */
  function onlyNextPageStyles() {
    document.head.querySelectorAll("style").forEach((s) => s.remove());
  }

  it("home: banners, categories, live and upcoming streams with covers and viewers, hot products; pull to refresh", async () => {
    // The demo room goes live as an RTMP publish would make it (no encoder in this test).
    const sql = postgres(mp.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`update live_streams set status = 'live', started_at = now() where id = 'demo'`;
    } finally {
      await sql.end();
    }
    mp.useDevice("browser");
    onlyNextPageStyles();
    const home = await mp.openPage("pages/home/index");
    await home.waitFor((p) => !view<HomeView>(p).loading, "the home sections");
    const data = view<HomeView>(home);
    expect(home.toasts).toEqual([]);
    expect(data.banners.length).toBeGreaterThan(0);
    expect(data.categories.map((c) => c.name)).toContain("茶叶");
    expect(data.liveStreams.map((st) => st.id)).toEqual(["demo"]);
    expect(data.upcomingStreams.length).toBeGreaterThan(0);
    expect(data.hotProducts.length).toBeGreaterThan(0);
    expect(home.text()).toContain("正在直播");
    expect(home.text()).toContain("即将开播");
    expect(home.text()).toMatch(/刚刚开播|人观看/);
    await shot(home, "home");
    await shot(home, "home-full", { fullPage: true });

    await home.tap(".stream-card >>> .card");
    expect((await navigatedTo(home, "/pages/live/room")).url).toBe("/pages/live/room?streamId=demo");
    await (home.instance.onPullDownRefresh as () => Promise<void>)();
    expect(view<HomeView>(home).hotProducts.length).toBe(data.hotProducts.length);
  });

  it("search: a query lists matching products (paged), and an unknown one shows the empty state", async () => {
    mp.useDevice("browser");
    type SearchView = { results: { name: string }[]; status: string; total: number };
    const search = await mp.openPage("pages/search/index");
    await search.input(".input", "茶");
    await search.tap(".go");
    await search.waitFor((p) => view<SearchView>(p).status === "done" || view<SearchView>(p).status === "more", "the results");
    const results = view<SearchView>(search).results;
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.name.includes("茶"))).toBe(true);
    expect(search.text()).toContain(`找到 ${view<SearchView>(search).total} 件“茶”相关商品`);

    await search.input(".input", "不存在的商品名");
    await search.tap(".go");
    await search.waitFor((p) => view<SearchView>(p).status === "done", "no results");
    expect(view<SearchView>(search).results).toEqual([]);
    expect(search.text()).toContain("没有找到相关商品");
    expect(search.toasts).toEqual([]);
  });

  it("buy now → order → wx.requestPayment → the sandbox pays → the order list shows it paid", async () => {
    const tea = await demoProduct("demo-tea");
    await shopper("buyer", "小美");

    onlyNextPageStyles();
    const details = await mp.openPage("pages/goods/details", { id: tea.id });
    await details.waitFor((p) => view<DetailsView>(p).product?.id === tea.id, "the product");
    expect(details.text()).toContain("西湖龙井");
    expect(details.text()).toContain("128.00");
    await details.waitFor((p) => view<GroupOffer>(p).activity !== null, "the tea's group buy");
    expect(details.text()).toContain("3人团");
    await shot(details, "product");

    await details.tap(".bar-btn--buy");
    await details.waitFor((p) => view<DetailsView>(p).sheetVisible === true, "the SKU sheet");
    await shot(details, "product-sku-sheet");
    await details.tap(".sku-sheet >>> .btn--buy");
    const toConfirm = await navigatedTo(details, "/pages/order/confirm");
    expect(toConfirm.url).toContain(`skuId=${tea.skus[0]!.id}`);

    onlyNextPageStyles();
    const confirm = await mp.openNavigated();
    await confirm.waitFor((p) => view<ConfirmView>(p).lines.length === 1 && view<ConfirmView>(p).address && !view<ConfirmView>(p).quoting, "the quote and the address");
    expect(view<ConfirmView>(confirm).totalFen).toBe(12800);
    expect(confirm.text()).toContain("龙井路 18 号");

    await confirm.tap(".submit");
    const toResult = await navigatedTo(confirm, "/pages/order/result");
    const orderId = new URLSearchParams(toResult.url.split("?")[1]).get("orderId")!;
    expect(toResult.url).toContain("status=paid");
    expect(toResult.kind).toBe("redirectTo");

    // The page handed WeChat the server's JSAPI parameters, and the sandbox took the payment.
    const payment = mp.wx.payments.at(-1)!;
    expect(payment.errMsg).toBe("requestPayment:ok");
    const params = payment.params;
    expect(params.signType).toBe("RSA");
    expect(String(params.package)).toMatch(/^prepay_id=/);
    expect(String(params.timeStamp)).toMatch(/^\d+$/);
    expect(String(params.nonceStr)).not.toBe("");
    expect(String(params.paySign)).not.toBe("");

    const result = await mp.openNavigated();
    await result.waitFor((p) => view<ResultView>(p).order?.status === "paid", "the paid order on the result page");
    expect(result.text()).toContain("支付成功");

    onlyNextPageStyles();
    const list = await mp.openPage("pages/order/list", { status: "paid" });
    await list.waitFor((p) => view<ListView>(p).list.some((o: Order) => o.id === orderId && o.status === "paid"), "the paid order in the list");
    expect(view<ListView>(list).active).toBe("paid");
    expect(list.text()).toContain("待发货");
    expect(list.text()).toContain("128.00");
    await shot(list, "order-list");
  });

  it("a cart checkout with my live coupon shows the totals the server quotes, and the order keeps them", async () => {
    const tea = await demoProduct("demo-honey");
    const me = await shopper("coupon phone", "阿强");
    // A live coupon dropped in a room and claimed by this viewer.
    const stream = await mp.call<{ id: string }>("POST", "/v1/streams", { token: admin, body: { title: "春茶上新" } });
    // A coupon is only for what its stream sells.
    expect((await mp.call("PUT", `/v1/streams/${stream.body.id}/products`, { token: admin, body: { productIds: [tea.id] } })).status).toBe(200);
    const coupon = await mp.call<{ id: string }>("POST", `/v1/streams/${stream.body.id}/coupons`, {
      token: admin,
      body: { title: "直播间专享券", discountFen: 1500, minSpendFen: 5000, quantity: 10, durationSec: 3600 },
    });
    expect(coupon.status).toBe(201);
    expect((await mp.call("POST", `/v1/coupons/${coupon.body.id}/claim`, { token: me.token })).status).toBe(200);

    // Two bags into the cart through the product page's SKU sheet.
    const details = await mp.openPage("pages/goods/details", { id: tea.id });
    await details.waitFor((p) => view<DetailsView>(p).product?.id === tea.id, "the product");
    await details.tap(".bar-btn--cart");
    await details.waitFor((p) => view<DetailsView>(p).sheetVisible === true, "the SKU sheet");
    await details.tap(".sku-sheet >>> .qty-stepper >>> .plus");
    await details.tap(".sku-sheet >>> .btn--cart");
    await details.waitFor((p) => p.toasts.some((t) => t.title === "已加入购物车"), "added to the cart");

    // A fan was already in the cart; this time the viewer leaves it out.
    expect((await mp.call("POST", "/v1/cart/items", { token: me.token, body: { skuId: "demo-fan-1", quantity: 1 } })).status).toBe(201);

    onlyNextPageStyles();
    const cart = await mp.openPage("pages/cart/index");
    await cart.waitFor((p) => view<CartView>(p).items.length === 2 && view<CartView>(p).totalFen === 9800 + 3900, "both cart lines");
    const fan = view<CartView>(cart).items.findIndex((l) => l.productId === "demo-fan");
    cart.node.querySelectorAll(".check")[fan]!.dispatchEvent("tap");
    await cart.waitFor((p) => view<CartView>(p).totalFen === 9800 && !view<CartView>(p).busy, "the fan left out");
    const serverCart = await mp.call<{ totalFen: number }>("GET", "/v1/cart", { token: me.token });
    expect(view<CartView>(cart).totalFen).toBe(serverCart.body.totalFen);
    expect(cart.text()).toContain("98.00");
    await shot(cart, "cart");
    await cart.tap(".checkout");
    await navigatedTo(cart, "/pages/order/confirm?fromCart=1");

    onlyNextPageStyles();
    const confirm = await mp.openNavigated();
    await confirm.waitFor((p) => view<ConfirmView>(p).discountFen > 0 && !view<ConfirmView>(p).quoting, "the quote with the coupon");
    const quote = await mp.call<Quote>("POST", "/v1/orders/quote", { token: me.token, body: { fromCart: true, couponId: coupon.body.id } });
    expect(quote.status).toBe(200);
    expect(view<ConfirmView>(confirm).couponId).toBe(coupon.body.id);
    expect({ itemsFen: view<ConfirmView>(confirm).itemsFen, discountFen: view<ConfirmView>(confirm).discountFen, totalFen: view<ConfirmView>(confirm).totalFen }).toEqual({
      itemsFen: quote.body.itemsFen,
      discountFen: quote.body.discountFen,
      totalFen: quote.body.totalFen,
    });
    expect(quote.body).toMatchObject({ itemsFen: 9800, discountFen: 1500, totalFen: 8300 });
    expect(confirm.text()).toContain(yuan(quote.body.totalFen));
    expect(confirm.text()).toContain(`-¥${yuan(quote.body.discountFen)}`);
    await shot(confirm, "order-confirm");

    // The viewer places it and then cancels WeChat's payment sheet: the order keeps the quoted totals.
    mp.wx.cancelNextPayment = true;
    await confirm.tap(".submit");
    const toResult = await navigatedTo(confirm, "/pages/order/result");
    expect(toResult.url).toContain("status=cancelled");
    const orderId = new URLSearchParams(toResult.url.split("?")[1]).get("orderId")!;
    const order = await mp.call<Order>("GET", `/v1/orders/${orderId}`, { token: me.token });
    expect(order.body).toMatchObject({ status: "pending_payment", couponId: coupon.body.id, itemsFen: 9800, discountFen: 1500, totalFen: 8300 });
    const result = await mp.openNavigated();
    await result.waitFor((p) => view<ResultView>(p).order?.id === orderId, "the unpaid order");
    expect(result.text()).toContain("已取消支付");
    expect(result.text()).toContain("重新支付");
  });

  it("shows the server's error when the last unit sells before the viewer submits (OUT_OF_STOCK)", async () => {
    const rare = await product("大红袍 母树 限量 50g", [{ specs: { 规格: "50g" }, priceFen: 99900, stock: 1 }]);
    const skuId = rare.skus[0]!.id;
    await shopper("slow phone", "慢一步");
    const confirm = await mp.openPage("pages/order/confirm", { skuId, quantity: 1 });
    await confirm.waitFor((p) => view<ConfirmView>(p).lines.length === 1 && view<ConfirmView>(p).address && !view<ConfirmView>(p).quoting, "the quote");

    // Someone else buys the last one meanwhile.
    const other = await shopper("fast phone", "快一步");
    const addresses = await mp.call<{ id: string }[]>("GET", "/v1/addresses", { token: other.token });
    const taken = await mp.call("POST", "/v1/orders", { token: other.token, headers: { "idempotency-key": `fast-${Date.now()}` }, body: { items: [{ skuId, quantity: 1 }], addressId: addresses.body[0]!.id } });
    expect(taken.status).toBe(201);

    mp.useDevice("slow phone");
    const navigations = mp.wx.navigations.length;
    await confirm.tap(".submit");
    await confirm.waitFor((p) => p.toasts.some((t) => t.title === "库存不足"), "the OUT_OF_STOCK toast");
    await confirm.waitFor((p) => !view<ConfirmView>(p).submitting && !view<ConfirmView>(p).quoting, "the page to settle");
    expect(mp.wx.navigations.length).toBe(navigations);
    expect(mp.wx.loading).toBeNull();
    expect(confirm.text()).toContain("提交订单");
  });

  it("a product's group buy: open a group from the product page, then it shows under my groups; others see it open", async () => {
    const tea = await demoProduct("demo-scarf");
    const activity = await mp.call<{ id: string }>("POST", "/v1/admin/group-activities", {
      token: admin,
      body: { productId: tea.id, groupSize: 3, groupPriceFen: 15900, windowSec: 3600, flow: "join_first" },
    });
    expect(activity.status).toBe(201);
    await shopper("group leader", "团长小王");

    const details = await mp.openPage("pages/goods/details", { id: tea.id });
    await details.waitFor((p) => view<GroupOffer>(p).activity?.id === activity.body.id, "the group-buy offer");
    await details.waitFor((p) => view<GroupOffer>(p).activity !== null, "the tea's group buy");
    expect(details.text()).toContain("3人团");
    expect(details.text()).toContain("159.00");
    await details.tap(".group-open");
    const toGroup = await navigatedTo(details, "/pages/group/detail?groupId=");
    const groupId = toGroup.url.split("groupId=")[1]!;

    onlyNextPageStyles();
    const mine = await mp.openPage("pages/group/mine");
    await mine.waitFor((p) => view<MyGroupsView>(p).list.some((g) => g.id === groupId), "my group");
    const mineView = view<MyGroupsView>(mine).list.find((g) => g.id === groupId)!;
    expect(mineView).toMatchObject({ statusText: "拼团中", taken: 1, size: 3, leader: true, note: "还差 2 人成团" });
    expect(mine.text()).toContain("桑蚕丝印花围巾");
    await shot(mine, "my-groups");

    // Another viewer sees the open group on the product page, with a way in.
    await shopper("group friend", "小李");
    const seen = await mp.openPage("pages/goods/details", { id: tea.id });
    await seen.waitFor((p) => view<GroupOffer>(p).openGroups.some((g) => g.id === groupId && g.left === 2), "the open group");
    await seen.tap(".group-join");
    expect((await navigatedTo(seen, "/pages/group/detail")).url).toBe(`/pages/group/detail?groupId=${groupId}`);
  });

  it("addresses: inline errors, save, default first; an order's detail cancels with the server's state", async () => {
    mp.useDevice("address phone");
    const me = await mp.signIn("地址测试");
    type ListOfAddresses = { list: { id: string; name: string; isDefault: boolean }[]; loading: boolean };
    const list = await mp.openPage("pages/usercenter/address/list");
    await list.waitFor((p) => !view<ListOfAddresses>(p).loading, "the address list");
    expect(list.text()).toContain("还没有收货地址");
    await list.tap(".add");
    await navigatedTo(list, "/pages/usercenter/address/edit");
    onlyNextPageStyles();
    const edit = await mp.openNavigated();
    await edit.tap(".save");
    type EditView = { errors: Record<string, string>; saving: boolean };
    expect(view<EditView>(edit).errors).toMatchObject({ name: "请填写收货人姓名", phone: "请填写手机号", region: "请选择所在地区", detail: "请填写详细地址" });
    expect(edit.text()).toContain("请填写收货人姓名");
    await edit.input(".input-phone", "12345");
    await edit.tap(".save");
    expect(view<EditView>(edit).errors.phone).toBe("请输入 11 位大陆手机号");
    await shot(edit, "address-edit-errors");

    for (const [field, value] of [["name", "王芳"], ["phone", "13912345678"], ["province", "上海市"], ["city", "上海市"], ["district", "徐汇区"], ["detail", "漕溪北路 88 号"]] as const) {
      await edit.input(`.input-${field}`, value);
    }
    await edit.tap(".save");
    await edit.waitFor(() => mp.wx.navigations.at(-1)?.kind === "navigateBack", "back to the list");
    expect(edit.toasts.map((t) => t.title)).toContain("已保存");
    await edit.unload();
    const saved = await mp.call<{ id: string; name: string; isDefault: boolean }[]>("GET", "/v1/addresses", { token: me.token });
    expect(saved.body).toMatchObject([{ name: "王芳", isDefault: true }]);
    await mp.call("POST", "/v1/addresses", { token: me.token, body: testAddress });

    await list.show();
    await list.waitFor((p) => view<ListOfAddresses>(p).list.length === 2, "both addresses");
    expect(view<ListOfAddresses>(list).list[0]).toMatchObject({ name: "王芳", isDefault: true });
    list.node.querySelectorAll(".default")[1]!.dispatchEvent("tap");
    await list.waitFor((p) => view<ListOfAddresses>(p).list[0]?.name === testAddress.name, "the new default first");
    expect(list.toasts.map((t) => t.title)).toContain("已设为默认");

    const order = await mp.call<Order>("POST", "/v1/orders", {
      token: me.token,
      headers: { "idempotency-key": `detail-${Date.now()}` },
      body: { items: [{ skuId: "demo-cake-osmanthus", quantity: 2 }], addressId: saved.body[0]!.id },
    });
    onlyNextPageStyles();
    const detail = await mp.openPage("pages/order/detail", { id: order.body.id });
    await detail.waitFor((p) => view<{ order?: Order }>(p).order?.id === order.body.id, "the order");
    expect(detail.text()).toContain("待付款");
    expect(detail.text()).toContain("72.00");
    await shot(detail, "order-detail");
    await detail.tap(".bar .btn");
    await detail.waitFor((p) => view<{ order?: Order }>(p).order?.status === "cancelled", "the cancelled order");
    expect(mp.wx.modals.at(-1)?.content).toBe("确定取消这个订单吗？");
    expect(detail.text()).toContain("已取消");
    expect((await mp.call<Order>("GET", `/v1/orders/${order.body.id}`, { token: me.token })).body.status).toBe("cancelled");
  });

  it("me: login on tap, avatar and nickname fill-in, order shortcuts with counts", async () => {
    mp.useDevice("new phone");
    onlyNextPageStyles();
    const me = await mp.openPage("pages/usercenter/index");
    expect(me.text()).toContain("微信一键登录");
    await me.tap(".login-btn");
    await me.waitFor((p) => view<MeView>(p).loggedIn === true, "the login");

    // chooseAvatar hands the page a temporary file; the page uploads it with wx.uploadFile.
    const png = new PNG({ width: 64, height: 64 });
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) png.data.set([255, 190 - (x + y), 150 - (x + y), 255], (y * 64 + x) * 4);
    const file = join(mkdtempSync(join(tmpdir(), "pinlive-avatar-")), "avatar.png");
    writeFileSync(file, PNG.sync.write(png));
    await me.trigger(".avatar", "chooseavatar", { avatarUrl: file });
    await me.waitFor((p) => /\/images\/[0-9a-f]{64}\.png$/.test(view<MeView>(p).avatar), "the uploaded avatar");

    await me.trigger(".nickname", "blur", { value: "茶小白" });
    await me.waitFor((p) => p.toasts.some((t) => t.title === "昵称已更新"), "the nickname saved");
    const token = (mp.wx.device.storage.get("pinlive.session") as { token: string }).token;
    const profile = await mp.call<{ nickname: string; avatarUrl: string }>("GET", "/v1/me", { token });
    expect(profile.body.nickname).toBe("茶小白");
    expect(view<MeView>(me).avatar).toContain(profile.body.avatarUrl.replace(/^https?:\/\/[^/]+/, ""));

    // An unpaid order shows on the 待付款 shortcut.
    const tea = await product("龙井 茶小罐 50g", [{ specs: { 规格: "50g" }, priceFen: 3900, stock: 9 }]);
    await mp.call("POST", "/v1/addresses", { token, body: testAddress });
    const addresses = await mp.call<{ id: string }[]>("GET", "/v1/addresses", { token });
    await mp.call("POST", "/v1/orders", { token, headers: { "idempotency-key": `me-${Date.now()}` }, body: { items: [{ skuId: tea.skus[0]!.id, quantity: 1 }], addressId: addresses.body[0]!.id } });
    await me.show();
    await me.waitFor((p) => view<MeView>(p).shortcuts[0]?.badge === "1", "the unpaid count");
    await shot(me, "me");
  });
});
