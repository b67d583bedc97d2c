// POST /v1/orders/quote: what the order confirm page shows. It must be exactly what placing then
// charges (the same pricing code), with and without a coupon, list my coupons with what each
// would take off, and take no stock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { wechatUser } from "./support/wechat.js";

type Item = { productId: string; skuId: string; name: string; specs: Record<string, string>; cover: string; unitPriceFen: number; quantity: number; subtotalFen: number };
type QuoteCoupon = { couponId: string; title: string; faceValueFen: number; minSpendFen: number; applicable: boolean; discountFen: number; reason: string | null };
type Quote = { items: Item[]; itemsFen: number; discountFen: number; totalFen: number; total: number; couponId: string | null; coupons: QuoteCoupon[] };
type Order = { id: string; items: Item[]; itemsFen: number; discountFen: number; couponId: string | null; totalFen: number; total: number };
type ErrorBody = { code: string; message: string };

describe("order quotes", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  const services = useTestServices();
  let keyNo = 0;
  const key = () => ({ "idempotency-key": `q-${Date.now()}-${keyNo++}` });

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const stockOf = async (productId: string) => (await call<{ stock: number }>("GET", `/v1/products/${productId}`)).body.stock;
  const quote = (token: string, body: Record<string, unknown>) => call<Quote & ErrorBody>("POST", "/v1/orders/quote", { token, body });
  const place = (u: { token: string; addressId: string }, body: Record<string, unknown>) =>
    call<Order & ErrorBody>("POST", "/v1/orders", { token: u.token, headers: key(), body: { addressId: u.addressId, ...body } });
  /** The parts of a quote that placing must reproduce. */
  const charged = (q: Quote | Order) => ({ items: q.items, itemsFen: q.itemsFen, discountFen: q.discountFen, totalFen: q.totalFen, total: q.total, couponId: q.couponId });

  /** A stream that sells `productIds`, and coupons dropped in it. */
  async function streamWithCoupons(coupons: Record<string, unknown>[], productIds: string[]) {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds } });
    const ids: string[] = [];
    for (const c of coupons) {
      const res = await call<{ id: string }>("POST", `/v1/streams/${streamId}/coupons`, { token: host.token, body: { title: "Coupon", quantity: 10, ...c } });
      ids.push(res.body.id);
    }
    return { streamId, ids };
  }

  it("quotes exactly what placing then charges, without a coupon, and takes no stock", async () => {
    const tea = await makeProduct(call, admin, { priceFen: 3000, stock: 10 }, "Tea");
    const mug = await makeProduct(call, admin, { priceFen: 1250, stock: 5 }, "Mug");
    const mei = await wechatUser(call, "Mei");
    const items = [{ skuId: mug.skuId, quantity: 1 }, { skuId: tea.skuId, quantity: 2 }, { skuId: mug.skuId, quantity: 1 }];

    const q = await quote(mei.token, { items });
    expect(q.status).toBe(200);
    expect(q.body).toMatchObject({ itemsFen: 8500, discountFen: 0, totalFen: 8500, total: 85, couponId: null, coupons: [] });
    // One line per SKU, in SKU order, as the order will list them.
    const lines = [[tea.skuId, "Tea", 2, 3000, 6000], [mug.skuId, "Mug", 2, 1250, 2500]].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(q.body.items.map((i) => [i.skuId, i.name, i.quantity, i.unitPriceFen, i.subtotalFen])).toEqual(lines);
    // Quoting the whole stock, many times at once, takes none of it.
    await Promise.all(Array.from({ length: 10 }, () => quote(mei.token, { items: [{ skuId: tea.skuId, quantity: 10 }] })));
    expect(await stockOf(tea.productId)).toBe(10);
    expect(await stockOf(mug.productId)).toBe(5);

    const order = await place(mei, { items });
    expect(order.status).toBe(201);
    expect(charged(order.body)).toEqual(charged(q.body));
    expect(await stockOf(tea.productId)).toBe(8);

    // A price change shows in the next quote, and placing charges the same new price.
    const sku = (await call<{ skus: { id: string }[] }>("GET", `/v1/products/${tea.productId}`)).body.skus[0]!;
    await call("PATCH", `/v1/admin/skus/${sku.id}`, { token: admin, body: { priceFen: 2800 } });
    const q2 = await quote(mei.token, { items: [{ skuId: tea.skuId, quantity: 1 }] });
    expect(q2.body.totalFen).toBe(2800);
    expect(charged((await place(mei, { items: [{ skuId: tea.skuId, quantity: 1 }] })).body)).toEqual(charged(q2.body));
  });

  it("quotes a claimed coupon as placing applies it, lists my coupons with what each would take off, and refuses what placing refuses", async () => {
    const p = await makeProduct(call, admin, { priceFen: 3000, stock: 20 }, "Fan");
    const { ids } = await streamWithCoupons([
      { title: "¥10 off ¥50", discountFen: 1000, minSpendFen: 5000 },
      { title: "¥50 off ¥500", discountFen: 5000, minSpendFen: 50000 },
      { title: "¥100 off", discountFen: 10000 },
    ], [p.productId]);
    const [tenOff, bigSpend, huge] = ids as [string, string, string];
    const mei = await wechatUser(call, "Mei");
    for (const id of ids) expect((await call("POST", `/v1/coupons/${id}/claim`, { token: mei.token })).status).toBe(200);
    const items = [{ skuId: p.skuId, quantity: 2 }];

    const q = await quote(mei.token, { items, couponId: tenOff });
    expect(q.body).toMatchObject({ itemsFen: 6000, discountFen: 1000, totalFen: 5000, couponId: tenOff });
    const byId = Object.fromEntries(q.body.coupons.map((c) => [c.couponId, c]));
    expect(byId[tenOff]).toMatchObject({ applicable: true, discountFen: 1000, faceValueFen: 1000, minSpendFen: 5000, reason: null });
    expect(byId[bigSpend]).toMatchObject({ applicable: false, discountFen: 0, faceValueFen: 5000 });
    expect(byId[bigSpend]!.reason).toMatch(/minimum spend/);
    // At most half the items (COUPON_MAX_DISCOUNT_PERCENT): the ¥100 coupon takes ¥30 off ¥60, in the list and when chosen.
    expect(byId[huge]).toMatchObject({ applicable: true, discountFen: 3000, faceValueFen: 10000 });
    expect((await quote(mei.token, { items, couponId: huge })).body).toMatchObject({ discountFen: 3000, totalFen: 3000 });
    // A coupon that does not apply is refused as placing refuses it, and nothing is placed.
    const refused = await quote(mei.token, { items, couponId: bigSpend });
    expect(refused).toMatchObject({ status: 409, body: { code: "COUPON_NOT_APPLICABLE" } });
    const placedRefused = await place(mei, { items, couponId: bigSpend });
    expect(placedRefused.body).toMatchObject({ code: "COUPON_NOT_APPLICABLE", message: refused.body.message });

    const order = await place(mei, { items, couponId: tenOff });
    expect(order.status).toBe(201);
    expect(charged(order.body)).toEqual(charged(q.body));
    // Used now: gone from my coupons, and refused by quote and order alike.
    const after = await quote(mei.token, { items });
    expect(after.body.coupons.map((c) => c.couponId).sort()).toEqual([bigSpend, huge].sort());
    expect((await quote(mei.token, { items, couponId: tenOff })).body.code).toBe("COUPON_NOT_APPLICABLE");
    // Somebody else's claim is not mine.
    const lan = await wechatUser(call, "Lan");
    expect((await quote(lan.token, { items, couponId: huge })).body.code).toBe("COUPON_NOT_APPLICABLE");
    expect((await quote(lan.token, { items })).body.coupons).toEqual([]);
  });

  it("quotes the cart's selected lines as checkout from the cart charges them, leaving the cart alone", async () => {
    const a = await makeProduct(call, admin, { priceFen: 990, stock: 10 }, "A");
    const b = await makeProduct(call, admin, { priceFen: 4500, stock: 10 }, "B");
    const mei = await wechatUser(call, "Mei");
    await call("POST", "/v1/cart/items", { token: mei.token, body: { skuId: a.skuId, quantity: 3 } });
    const cart = await call<{ items: { id: string; skuId: string }[] }>("POST", "/v1/cart/items", { token: mei.token, body: { skuId: b.skuId, quantity: 1 } });
    const lineB = cart.body.items.find((l) => l.skuId === b.skuId)!;
    await call("PATCH", `/v1/cart/items/${lineB.id}`, { token: mei.token, body: { selected: false } });

    const q = await quote(mei.token, { fromCart: true });
    expect(q.body).toMatchObject({ itemsFen: 2970, totalFen: 2970 });
    expect(q.body.items.map((i) => i.skuId)).toEqual([a.skuId]);
    expect((await call<{ items: unknown[] }>("GET", "/v1/cart", { token: mei.token })).body.items).toHaveLength(2);
    expect(await stockOf(a.productId)).toBe(10);
    const order = await place(mei, { fromCart: true });
    expect(charged(order.body)).toEqual(charged(q.body));
  });

  it("refuses bad input and what placing would refuse, with the same codes", async () => {
    const p = await makeProduct(call, admin, { priceFen: 100, stock: 2 });
    const mei = await wechatUser(call, "Mei");
    expect((await quote(mei.token, { items: [{ skuId: p.skuId, quantity: 3 }] })).body).toMatchObject({ code: "OUT_OF_STOCK", details: { skuId: p.skuId } });
    expect((await place(mei, { items: [{ skuId: p.skuId, quantity: 3 }] })).body.code).toBe("OUT_OF_STOCK");
    expect((await quote(mei.token, { items: [{ skuId: "no-such-sku", quantity: 1 }] })).body.code).toBe("NOT_FOUND");
    expect((await quote(mei.token, { fromCart: true })).body.code).toBe("INVALID_PARAMS"); // an empty cart
    for (const body of [{}, { items: [{ skuId: p.skuId, quantity: 1 }], fromCart: true }, { items: [{ skuId: p.skuId, quantity: 0 }] }]) {
      expect((await quote(mei.token, body)).body.code, JSON.stringify(body)).toBe("INVALID_PARAMS");
    }
    expect((await call("POST", "/v1/orders/quote", { body: { items: [{ skuId: p.skuId, quantity: 1 }] } })).status).toBe(401);
    expect(await stockOf(p.productId)).toBe(2);
  });
});
