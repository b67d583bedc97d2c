// Orders over HTTP: buy now, check out the cart (seed 001's page), cancel, stock exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession } from "./support/clients.js";
import { httpClient, makeProduct, testAddress, type HttpClient } from "./support/http.js";

type Order = { id: string; orderId: string; status: string; totalFen: number; items: { skuId: string; quantity: number; unitPriceFen: number }[] };
const address = testAddress;

describe("orders", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  const services = useTestServices();
  let keyNo = 0;
  const key = () => ({ "idempotency-key": `k-${Date.now()}-${keyNo++}` });

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function buyer(name = "Buyer") {
    const user = await devSession(server.url, name);
    const addr = await call<{ id: string }>("POST", "/v1/addresses", { token: user.token, body: address });
    return { ...user, addressId: addr.body.id };
  }
  const stockOf = async (productId: string) => (await call<{ stock: number }>("GET", `/v1/products/${productId}`)).body.stock;

  it("buys now, snapshots price and address, and gives stock back exactly once on cancel", async () => {
    const p = await makeProduct(call, admin, { priceFen: 12800, stock: 10 });
    const u = await buyer();
    const placed = await call<Order>("POST", "/v1/orders", { token: u.token, headers: key(), body: { items: [{ skuId: p.skuId, quantity: 3 }], addressId: u.addressId } });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ status: "pending_payment", totalFen: 38400, total: 384, address: { detail: "1 Longjing Rd" } });
    expect(placed.body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(await stockOf(p.productId)).toBe(7);

    // Later catalog and address changes do not touch the order.
    await call("PATCH", `/v1/admin/skus/${p.skuId}`, { token: admin, body: { priceFen: 1 } });
    await call("PUT", `/v1/addresses/${u.addressId}`, { token: u.token, body: { ...address, detail: "moved" } });
    const again = await call<Order & { address: { detail: string } }>("GET", `/v1/orders/${placed.body.id}`, { token: u.token });
    expect(again.body).toMatchObject({ totalFen: 38400, address: { detail: "1 Longjing Rd" } });
    expect(again.body.items[0]!.unitPriceFen).toBe(12800);

    const cancels = await Promise.all(Array.from({ length: 5 }, () => call<Order>("POST", `/v1/orders/${placed.body.id}/cancel`, { token: u.token, body: {} })));
    expect(cancels.filter((c) => c.status === 200)).toHaveLength(1);
    expect(cancels.filter((c) => c.status === 409).every((c) => (c.body as unknown as { code: string }).code === "ORDER_STATE")).toBe(true);
    expect(await stockOf(p.productId)).toBe(10);
  });

  it("checks out the cart the way seed 001's order page does, refusing a stale total", async () => {
    const tea = await makeProduct(call, admin, { priceFen: 12800, stock: 10 });
    const fan = await makeProduct(call, admin, { priceFen: 3950, stock: 10 });
    const u = await buyer();
    await call("POST", "/v1/cart/items", { token: u.token, body: { skuId: tea.skuId, quantity: 2 } });
    await call("POST", "/v1/cart/items", { token: u.token, body: { skuId: fan.skuId, quantity: 1 } });

    // The page: cart items it showed, the default address, its own total with toFixed(2).
    const cart = (await call<{ items: { id: string; price: number; quantity: number; selected: boolean }[] }>("GET", "/api/cart", { token: u.token })).body;
    const addressRes = (await call<{ id: string }>("GET", "/api/user/address/default", { token: u.token })).body;
    const totalAmount = cart.items.reduce((s, i) => s + i.price * i.quantity, 0).toFixed(2);
    expect(totalAmount).toBe("295.50");

    await call("PATCH", `/v1/admin/skus/${fan.skuId}`, { token: admin, body: { priceFen: 4950 } });
    const stale = await call<{ code: string; details: { totalFen: number; total: number } }>("POST", "/api/orders", {
      token: u.token,
      body: { items: cart.items, address: addressRes, totalAmount, paymentMethod: "wechat" },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: "PRICE_CHANGED", details: { totalFen: 30550, total: 305.5 } });
    expect(await stockOf(tea.productId)).toBe(10);

    const ok = await call<Order>("POST", "/api/orders", { token: u.token, body: { items: cart.items, address: addressRes, totalAmount: "305.50", paymentMethod: "wechat" } });
    expect(ok.status).toBe(201);
    expect(ok.body.orderId).toBe(ok.body.id);
    expect(ok.body.totalFen).toBe(30550);
    expect((await call<{ items: unknown[] }>("GET", "/v1/cart", { token: u.token })).body.items).toEqual([]);
    expect(await stockOf(tea.productId)).toBe(8);
  });

  it("never oversells: 3 in stock, 12 buyers at once", async () => {
    const p = await makeProduct(call, admin, { priceFen: 100, stock: 3 });
    const buyers = await Promise.all(Array.from({ length: 12 }, (_, i) => buyer(`b${i}`)));
    const results = await Promise.all(
      buyers.map((u) => call("POST", "/v1/orders", { token: u.token, headers: key(), body: { items: [{ skuId: p.skuId, quantity: 1 }], addressId: u.addressId } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409).map((r) => (r.body as { code: string }).code)).toEqual(Array(9).fill("OUT_OF_STOCK"));
    expect(await stockOf(p.productId)).toBe(0);
  });

  it("creates one order per Idempotency-Key, and requires one", async () => {
    const p = await makeProduct(call, admin, { priceFen: 100, stock: 50 });
    const u = await buyer();
    const body = { items: [{ skuId: p.skuId, quantity: 2 }], addressId: u.addressId };
    expect((await call("POST", "/v1/orders", { token: u.token, body })).body).toMatchObject({ code: "IDEMPOTENCY_KEY_REQUIRED" });
    const headers = key();
    const results = await Promise.all(Array.from({ length: 6 }, () => call<Order>("POST", "/v1/orders", { token: u.token, body, headers })));
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await stockOf(p.productId)).toBe(48);
    const mine = await call<{ total: number }>("GET", "/v1/orders", { token: u.token });
    expect(mine.body.total).toBe(1);
  });

  it("guards order state and ownership", async () => {
    const p = await makeProduct(call, admin, { priceFen: 100, stock: 5 });
    const u = await buyer();
    const other = await buyer("Other");
    const placed = await call<Order>("POST", "/v1/orders", { token: u.token, headers: key(), body: { items: [{ skuId: p.skuId, quantity: 1 }], addressId: u.addressId } });
    expect((await call("GET", `/v1/orders/${placed.body.id}`, { token: other.token })).status).toBe(404);
    expect((await call("POST", `/v1/orders/${placed.body.id}/cancel`, { token: other.token, body: {} })).status).toBe(404);
    const ship = await call("POST", `/v1/admin/orders/${placed.body.id}/ship`, { token: admin, body: { courier: "SF", trackingNo: "SF123456" } });
    expect(ship).toMatchObject({ status: 409, body: { code: "ORDER_STATE", details: { status: "pending_payment" } } });
    expect((await call("POST", `/v1/orders/${placed.body.id}/confirm`, { token: u.token })).status).toBe(409);
    const foreignAddress = await call("POST", "/v1/orders", { token: other.token, headers: key(), body: { items: [{ skuId: p.skuId, quantity: 1 }], addressId: u.addressId } });
    expect(foreignAddress).toMatchObject({ status: 404 });
    expect(await stockOf(p.productId)).toBe(4);
  });
});
