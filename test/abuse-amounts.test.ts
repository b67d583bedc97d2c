// Issue 11, finding 4: a large order total never overflows the integer column and never answers
// 500. Totals above ORDER_MAX_TOTAL_FEN (default ¥1,000,000) are refused with 400
// ORDER_TOTAL_TOO_LARGE by buy now, the cart, quotes and flash buys alike, and nothing is taken.
import { describe, expect, it } from "vitest";
import { makeProduct } from "./support/http.js";
import { useShop } from "./support/shop.js";

type ErrorBody = { code: string; details?: Record<string, unknown> };
type Order = { id: string; totalFen: number };

describe("order amounts", () => {
  const shop = useShop();
  const call: typeof shop.call = (...args) => shop.call(...args);

  it("refuses a total above the limit with 400 ORDER_TOTAL_TOO_LARGE instead of overflowing into a 500", async () => {
    // ¥1,000,000 a unit, the catalog's highest price: 99 units are 9.9 billion fen, past a 32-bit integer.
    const p = await makeProduct(call, shop.admin, { priceFen: 100_000_000, stock: 1000 });
    const u = await shop.buyer("Whale");
    const items = [{ skuId: p.skuId, quantity: 99 }];
    const placed = await call<ErrorBody>("POST", "/v1/orders", { token: u.token, headers: shop.key(), body: { items, addressId: u.addressId } });
    expect(placed).toMatchObject({ status: 400, body: { code: "ORDER_TOTAL_TOO_LARGE", details: { itemsFen: 9_900_000_000, maxTotalFen: 100_000_000 } } });
    const quoted = await call<ErrorBody>("POST", "/v1/orders/quote", { token: u.token, body: { items } });
    expect(quoted).toMatchObject({ status: 400, body: { code: "ORDER_TOTAL_TOO_LARGE" } });
    await call("POST", "/v1/cart/items", { token: u.token, body: { skuId: p.skuId, quantity: 3 } });
    const cart = await call<ErrorBody>("POST", "/v1/orders", { token: u.token, headers: shop.key(), body: { fromCart: true, addressId: u.addressId } });
    expect(cart).toMatchObject({ status: 400, body: { code: "ORDER_TOTAL_TOO_LARGE" } });
    expect(await shop.stockOf(p.productId)).toBe(1000);

    // At the limit it is an order like any other.
    const one = await call<Order>("POST", "/v1/orders", { token: u.token, headers: shop.key(), body: { items: [{ skuId: p.skuId, quantity: 1 }], addressId: u.addressId } });
    expect(one).toMatchObject({ status: 201, body: { totalFen: 100_000_000 } });
  });

  it("refuses a flash buy whose total is above the limit before the gate takes anything", async () => {
    const p = await makeProduct(call, shop.admin, { priceFen: 100_000_000, stock: 1000 });
    const host = await shop.host("Host", [p.productId]);
    const sale = await call<{ id: string }>("POST", `/v1/streams/${host.streamId}/flash-sales`, {
      token: host.token,
      body: { skuId: p.skuId, priceFen: 90_000_000, quantity: 500, perUserLimit: 50 },
    });
    expect(sale.status).toBe(201);
    const u = await shop.buyer("Rush");
    const buy = (quantity: number) => call<Order & ErrorBody>("POST", `/v1/flash-sales/${sale.body.id}/buy`, { token: u.token, headers: shop.key(), body: { quantity, addressId: u.addressId } });
    expect(await buy(30)).toMatchObject({ status: 400, body: { code: "ORDER_TOTAL_TOO_LARGE", details: { itemsFen: 2_700_000_000 } } });
    expect((await call<{ left: number }>("GET", `/v1/flash-sales/${sale.body.id}`)).body.left).toBe(500);
    expect(await buy(1)).toMatchObject({ status: 201, body: { totalFen: 90_000_000 } });
  });
});
