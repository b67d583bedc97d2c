// Issue 11, finding 1: one user cannot hold a product's stock unpaid. Repeated lines are merged
// before the per-line cap, and unpaid orders and unpaid units per SKU are capped per user (the
// defaults: 5 orders, 99 units of a SKU), however many requests arrive at once.
import { describe, expect, it } from "vitest";
import { makeProduct } from "./support/http.js";
import { useShop } from "./support/shop.js";

type Order = { id: string; status: string; totalFen: number; items: { skuId: string; quantity: number }[] };
type ErrorBody = { code: string; details?: Record<string, unknown> };

describe("stock hoarding", () => {
  // The defaults of the hold limits; only the per-minute rate limits are lifted (every client is 127.0.0.1).
  const shop = useShop();
  const call: typeof shop.call = (...args) => shop.call(...args);
  const { buyer, stockOf, key } = shop;
  const admin = () => shop.admin;
  const order = (u: { token: string; addressId: string }, items: { skuId: string; quantity: number }[]) =>
    call<Order & ErrorBody>("POST", "/v1/orders", { token: u.token, headers: key(), body: { items, addressId: u.addressId } });

  it("merges repeated lines of one SKU before the 99-per-line cap: 50 lines of 99 are refused, not one line of 4,950", async () => {
    const p = await makeProduct(call, admin(), { priceFen: 100, stock: 9900 });
    const u = await buyer("Hoarder");
    const lines = Array.from({ length: 50 }, () => ({ skuId: p.skuId, quantity: 99 }));
    const placed = await order(u, lines);
    expect(placed).toMatchObject({ status: 400, body: { code: "QUANTITY_TOO_LARGE", details: { skuId: p.skuId, quantity: 4950, limit: 99 } } });
    const quoted = await call<ErrorBody>("POST", "/v1/orders/quote", { token: u.token, body: { items: lines } });
    expect(quoted).toMatchObject({ status: 400, body: { code: "QUANTITY_TOO_LARGE" } });
    // Two lines that add up to the cap are one line of 99.
    const ok = await order(u, [
      { skuId: p.skuId, quantity: 60 },
      { skuId: p.skuId, quantity: 39 },
    ]);
    expect(ok.status).toBe(201);
    expect(ok.body.items).toEqual([expect.objectContaining({ skuId: p.skuId, quantity: 99 })]);
    expect(await stockOf(p.productId)).toBe(9900 - 99);
  });

  it("caps one user's unpaid units of a SKU: two requests no longer lock 9,900 units", async () => {
    const p = await makeProduct(call, admin(), { priceFen: 100, stock: 9900 });
    const other = await makeProduct(call, admin(), { priceFen: 100, stock: 100 });
    const u = await buyer("Locker");
    const first = await order(u, [{ skuId: p.skuId, quantity: 99 }]);
    expect(first.status).toBe(201);
    const second = await order(u, [{ skuId: p.skuId, quantity: 99 }]);
    expect(second).toMatchObject({ status: 409, body: { code: "UNPAID_UNITS_LIMIT", details: { skuId: p.skuId, limit: 99, held: 99 } } });
    expect((await order(u, [{ skuId: p.skuId, quantity: 1 }])).body.code).toBe("UNPAID_UNITS_LIMIT");
    expect(await stockOf(p.productId)).toBe(9900 - 99);
    // Another SKU is not held back; another user is not held back.
    expect((await order(u, [{ skuId: other.skuId, quantity: 5 }])).status).toBe(201);
    expect((await order(await buyer("Neighbour"), [{ skuId: p.skuId, quantity: 99 }])).status).toBe(201);
    // Cancelling frees the units for the same user.
    expect((await call<Order>("POST", `/v1/orders/${first.body.id}/cancel`, { token: u.token, body: {} })).body.status).toBe("cancelled");
    expect((await order(u, [{ skuId: p.skuId, quantity: 99 }])).status).toBe(201);
    expect(await stockOf(p.productId)).toBe(9900 - 99 - 99);
  });

  it("caps one user's unpaid orders at 5, also when 12 arrive at once, and frees a place on cancel", async () => {
    const p = await makeProduct(call, admin(), { priceFen: 100, stock: 1000 });
    const u = await buyer("Rusher");
    const rush = await Promise.all(Array.from({ length: 12 }, () => order(u, [{ skuId: p.skuId, quantity: 1 }])));
    const won = rush.filter((r) => r.status === 201);
    expect(won).toHaveLength(5);
    expect(rush.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.code === "UNPAID_ORDERS_LIMIT")).toBe(true);
    expect(await stockOf(p.productId)).toBe(995);
    // The cart and seed 001's page are held to the same cap.
    await call("POST", "/v1/cart/items", { token: u.token, body: { skuId: p.skuId, quantity: 1 } });
    expect((await call<ErrorBody>("POST", "/v1/orders", { token: u.token, headers: key(), body: { fromCart: true, addressId: u.addressId } })).body.code).toBe("UNPAID_ORDERS_LIMIT");
    const cart = (await call<{ items: { id: string; quantity: number }[] }>("GET", "/api/cart", { token: u.token })).body;
    const seed = await call<ErrorBody>("POST", "/api/orders", { token: u.token, body: { items: cart.items, address: { id: u.addressId }, totalAmount: "1.00", paymentMethod: "wechat" } });
    expect(seed).toMatchObject({ status: 409, body: { code: "UNPAID_ORDERS_LIMIT" } });
    // Paying or cancelling one frees its place.
    expect((await call<Order>("POST", `/v1/orders/${won[0]!.body.id}/cancel`, { token: u.token, body: {} })).status).toBe(200);
    expect((await order(u, [{ skuId: p.skuId, quantity: 1 }])).status).toBe(201);
    expect(await stockOf(p.productId)).toBe(995);
  });

  it("keeps a flash sale's per-person limit within the per-SKU cap, so the hot path needs no count of its own", async () => {
    const p = await makeProduct(call, admin(), { priceFen: 100, stock: 1000 });
    const { token, streamId } = await shop.host("Host", [p.productId]);
    const start = (perUserLimit: number) => call<ErrorBody>("POST", `/v1/streams/${streamId}/flash-sales`, { token, body: { skuId: p.skuId, priceFen: 50, quantity: 500, perUserLimit } });
    expect(await start(100)).toMatchObject({ status: 400, body: { code: "INVALID_PARAMS", details: { maxPerUserLimit: 99 } } });
    expect((await start(99)).status).toBe(201);
  });
});
