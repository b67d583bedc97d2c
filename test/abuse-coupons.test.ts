// Issue 11, finding 2: a host's coupon cannot drain the catalog. It applies only to orders from its
// stream and only to products that stream sells (attached and listed); its discount is at most a
// share of the items (COUPON_MAX_DISCOUNT_PERCENT, 50) and its face value at most the stream's
// maximum (an admin's setting, else COUPON_MAX_DISCOUNT_FEN, ¥100); a stream drops a bounded number
// of coupons (else COUPON_MAX_DROPS_PER_STREAM, 20); and hosts cannot attach unlisted products.
import { describe, expect, it } from "vitest";
import { makeProduct } from "./support/http.js";
import { useShop } from "./support/shop.js";

type ErrorBody = { code: string; details?: Record<string, unknown> };
type Coupon = { id: string };
type Order = { id: string; itemsFen: number; discountFen: number; totalFen: number; streamId: string | null; couponId: string | null };
type Quote = Order & { coupons: { couponId: string; applicable: boolean; discountFen: number; reason: string | null }[] };
type Limits = { streamId: string; maxDiscountFen: number; maxDrops: number; dropped: number };

describe("coupon bounds", () => {
  const shop = useShop();
  const call: typeof shop.call = (...args) => shop.call(...args);
  const drop = (token: string, streamId: string, body: Record<string, unknown>) =>
    call<Coupon & ErrorBody>("POST", `/v1/streams/${streamId}/coupons`, { token, body: { title: "Live coupon", quantity: 10, ...body } });
  const claim = (token: string, couponId: string) => call("POST", `/v1/coupons/${couponId}/claim`, { token });
  const order = (u: { token: string; addressId: string }, skuId: string, extra: Record<string, unknown>) =>
    call<Order & ErrorBody>("POST", "/v1/orders", { token: u.token, headers: shop.key(), body: { items: [{ skuId, quantity: 1 }], addressId: u.addressId, ...extra } });

  it("no longer sells a ¥1,000,000 product for 1 fen: the coupon is bounded, and only for its stream's products", async () => {
    const gold = await makeProduct(call, shop.admin, { priceFen: 100_000_000, stock: 5 }, "Gold bar");
    const tea = await makeProduct(call, shop.admin, { priceFen: 12_000, stock: 50 }, "Tea");
    const host = await shop.host("Host", [tea.productId]);
    const other = await shop.host("Other host", [tea.productId, gold.productId]);
    const u = await shop.buyer("Buyer");

    // A coupon worth the whole catalog is refused at the drop.
    expect(await drop(host.token, host.streamId, { discountFen: 99_999_999 })).toMatchObject({ status: 400, body: { code: "COUPON_TOO_LARGE", details: { maxDiscountFen: 10_000 } } });
    const coupon = await drop(host.token, host.streamId, { discountFen: 10_000 });
    expect(coupon.status).toBe(201);
    expect((await claim(u.token, coupon.body.id)).status).toBe(200);

    // Not for a product the stream does not sell, nor for an order from another stream.
    const gold1 = await order(u, gold.skuId, { couponId: coupon.body.id });
    expect(gold1).toMatchObject({ status: 409, body: { code: "COUPON_NOT_APPLICABLE" } });
    expect((await order(u, gold.skuId, { couponId: coupon.body.id, streamId: other.streamId })).body.code).toBe("COUPON_NOT_APPLICABLE");
    expect((await order(u, tea.skuId, { couponId: coupon.body.id, streamId: other.streamId })).body.code).toBe("COUPON_NOT_APPLICABLE");
    expect(await shop.stockOf(gold.productId)).toBe(5);

    // The quote says why, and what it would take off the stream's own product.
    const quoteOf = async (skuId: string) => (await call<Quote>("POST", "/v1/orders/quote", { token: u.token, body: { items: [{ skuId, quantity: 1 }] } })).body.coupons.find((c) => c.couponId === coupon.body.id)!;
    const refused = await quoteOf(gold.skuId);
    expect(refused).toMatchObject({ applicable: false, discountFen: 0 });
    expect(refused.reason).toMatch(/products its live stream sells/);
    expect(await quoteOf(tea.skuId)).toMatchObject({ applicable: true, discountFen: 6000 });

    // On the stream's product: at most half the items (¥120 → ¥60 off, not ¥100), and the order is the stream's.
    const ok = await order(u, tea.skuId, { couponId: coupon.body.id });
    expect(ok).toMatchObject({ status: 201, body: { itemsFen: 12_000, discountFen: 6000, totalFen: 6000, streamId: host.streamId, couponId: coupon.body.id } });
  });

  it("bounds a stream's drops and face value by what an admin set for it (or the defaults), also under concurrent drops", async () => {
    const host = await shop.host("Busy host");
    const limitsOf = () => call<Limits & ErrorBody>("GET", `/v1/streams/${host.streamId}/coupon-limits`, { token: host.token });
    expect((await limitsOf()).body).toMatchObject({ streamId: host.streamId, maxDiscountFen: 10_000, maxDrops: 20, dropped: 0 });

    const set = (token: string, body: Record<string, unknown>) => call<Limits & ErrorBody>("PUT", `/v1/admin/streams/${host.streamId}/coupon-limits`, { token, body });
    expect(await set(host.token, { maxDiscountFen: 1_000_000, maxDrops: 100 })).toMatchObject({ status: 403, body: { code: "FORBIDDEN" } });
    expect(await set(shop.admin, { maxDiscountFen: 20_000, maxDrops: 3 })).toMatchObject({ status: 200, body: { maxDiscountFen: 20_000, maxDrops: 3, dropped: 0 } });
    expect((await set(shop.admin, { maxDiscountFen: 0, maxDrops: 3 })).body.code).toBe("INVALID_PARAMS");

    expect((await drop(host.token, host.streamId, { discountFen: 20_001 })).body.code).toBe("COUPON_TOO_LARGE");
    expect((await drop(host.token, host.streamId, { discountFen: 20_000 })).status).toBe(201);
    const rush = await Promise.all(Array.from({ length: 6 }, () => drop(host.token, host.streamId, { discountFen: 500 })));
    expect(rush.filter((r) => r.status === 201)).toHaveLength(2);
    expect(rush.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.code === "COUPON_DROP_LIMIT")).toBe(true);
    expect((await limitsOf()).body).toMatchObject({ maxDrops: 3, dropped: 3 });
    // Ending one does not make room: drops are counted, not live coupons.
    const [first] = (await call<Coupon[]>("GET", `/v1/streams/${host.streamId}/coupons`, { token: host.token })).body;
    await call("POST", `/v1/coupons/${first!.id}/end`, { token: host.token });
    expect((await drop(host.token, host.streamId, { discountFen: 500 })).body.code).toBe("COUPON_DROP_LIMIT");
  });

  it("refuses to attach an unlisted product to a stream", async () => {
    const listed = await makeProduct(call, shop.admin, { priceFen: 500, stock: 5 }, "On sale");
    const hidden = await call<{ id: string }>("POST", "/v1/admin/products", {
      token: shop.admin,
      body: { sn: `HIDDEN-${Date.now()}`, name: "Not for sale", listed: false, skus: [{ priceFen: 1, stock: 1_000_000 }] },
    });
    expect(hidden.status).toBe(201);
    const host = await shop.host("Sly host", [listed.productId]);
    const put = await call<ErrorBody>("PUT", `/v1/streams/${host.streamId}/products`, { token: host.token, body: { productIds: [listed.productId, hidden.body.id] } });
    expect(put).toMatchObject({ status: 409, body: { code: "PRODUCT_NOT_LISTED", details: { productId: hidden.body.id } } });
    const stream = await call<{ products: { id: string }[] }>("GET", `/v1/streams/${host.streamId}`);
    expect(stream.body.products.map((p) => p.id)).toEqual([listed.productId]);
  });
});
