// Carts, addresses and Idempotency-Key over HTTP, including seed 001's cart and order-page calls.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession } from "./support/clients.js";
import { httpClient, makeProduct, testAddress, type HttpClient } from "./support/http.js";

type Cart = { items: { id: string; skuId: string; price: number; priceFen: number; quantity: number; selected: boolean; available: boolean }[]; totalFen: number; total: number; selectedCount: number };
const address = testAddress;

describe("cart, addresses, idempotency", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix);
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps a cart priced by the server, as seed 001's cart page reads it", async () => {
    const user = await devSession(server.url, "Buyer");
    const tea = await makeProduct(call, admin, { priceFen: 12800, stock: 5 });
    const fan = await makeProduct(call, admin, { priceFen: 3950, stock: 100 });
    await call("POST", "/v1/cart/items", { token: user.token, body: { skuId: tea.skuId, quantity: 2 } });
    await call("POST", "/v1/cart/items", { token: user.token, body: { skuId: fan.skuId } });
    const merged = await call<Cart>("POST", "/v1/cart/items", { token: user.token, body: { skuId: fan.skuId, quantity: 2 } });
    expect(merged.body.items.map((i) => i.quantity)).toEqual([2, 3]);
    expect(merged.body.totalFen).toBe(2 * 12800 + 3 * 3950);

    // Seed: GET /api/cart → res.data.items; the page sums item.price * item.quantity over selected items.
    const seed = await call<Cart>("GET", "/api/cart", { token: user.token });
    const pageTotal = seed.body.items.filter((i) => i.selected).reduce((s, i) => s + i.price * i.quantity, 0);
    expect(pageTotal.toFixed(2)).toBe((seed.body.totalFen / 100).toFixed(2));
    const fanLine = seed.body.items.find((i) => i.skuId === fan.skuId)!;
    const put = await call<Cart>("PUT", `/api/cart/${fanLine.id}`, { token: user.token, body: { quantity: 1 } });
    expect(put.body.totalFen).toBe(2 * 12800 + 3950);

    const unselected = await call<Cart>("PATCH", `/v1/cart/items/${fanLine.id}`, { token: user.token, body: { selected: false } });
    expect(unselected.body).toMatchObject({ totalFen: 2 * 12800, selectedCount: 1 });

    // The price in the cart is always today's price.
    await call("PATCH", `/v1/admin/skus/${tea.skuId}`, { token: admin, body: { priceFen: 9900 } });
    expect((await call<Cart>("GET", "/v1/cart", { token: user.token })).body.totalFen).toBe(2 * 9900);

    const over = await call("POST", "/v1/cart/items", { token: user.token, body: { skuId: tea.skuId, quantity: 4 } });
    expect(over).toMatchObject({ status: 409, body: { code: "OUT_OF_STOCK" } });
    expect((await call<Cart>("GET", "/v1/cart", { token: user.token })).body.items.find((i) => i.skuId === tea.skuId)!.quantity).toBe(2);
  });

  it("keeps carts and addresses private to their owner", async () => {
    const alice = await devSession(server.url, "Alice");
    const bob = await devSession(server.url, "Bob");
    const p = await makeProduct(call, admin, { priceFen: 100, stock: 10 });
    const cart = await call<Cart>("POST", "/v1/cart/items", { token: alice.token, body: { skuId: p.skuId } });
    const line = cart.body.items[0]!.id;
    expect((await call("PATCH", `/v1/cart/items/${line}`, { token: bob.token, body: { quantity: 9 } })).status).toBe(404);
    expect((await call("DELETE", `/v1/cart/items/${line}`, { token: bob.token })).status).toBe(404);
    const addr = await call<{ id: string }>("POST", "/v1/addresses", { token: alice.token, body: address });
    expect((await call("PUT", `/v1/addresses/${addr.body.id}`, { token: bob.token, body: address })).status).toBe(404);
    expect((await call("GET", "/v1/cart")).status).toBe(401);
    expect((await call<Cart>("GET", "/v1/cart", { token: alice.token })).body.items[0]!.quantity).toBe(1);
  });

  it("keeps exactly one default address; seed 001's order page reads it", async () => {
    const user = await devSession(server.url, "Addr");
    expect((await call("GET", "/api/user/address/default", { token: user.token })).body).toBeNull();
    const first = await call<{ id: string; isDefault: boolean }>("POST", "/v1/addresses", { token: user.token, body: address });
    expect(first.body.isDefault).toBe(true);
    const second = await call<{ id: string; isDefault: boolean }>("POST", "/v1/addresses", { token: user.token, body: { ...address, detail: "2 Hefang St", isDefault: true } });
    const list = await call<{ id: string; isDefault: boolean }[]>("GET", "/v1/addresses", { token: user.token });
    expect(list.body.filter((a) => a.isDefault).map((a) => a.id)).toEqual([second.body.id]);
    expect((await call("GET", "/api/user/address/default", { token: user.token })).body).toMatchObject({ id: second.body.id, detail: "2 Hefang St" });
    const bad = await call("POST", "/v1/addresses", { token: user.token, body: { ...address, phone: "12345" } });
    expect(bad).toMatchObject({ status: 400, body: { code: "INVALID_PARAMS" } });
  });

  it("answers a repeated Idempotency-Key with the same response and does the work once", async () => {
    const user = await devSession(server.url, "Retry");
    const p = await makeProduct(call, admin, { priceFen: 500, stock: 50 });
    const headers = { "idempotency-key": "add-tea-once" };
    const body = { skuId: p.skuId, quantity: 2 };
    const results = await Promise.all(Array.from({ length: 5 }, () => call<Cart>("POST", "/v1/cart/items", { token: user.token, body, headers })));
    const done = results.filter((r) => r.status === 201);
    expect(done.length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body).toMatchObject({ code: "IDEMPOTENCY_IN_PROGRESS" });
    const replay = await call<Cart>("POST", "/v1/cart/items", { token: user.token, body, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(done[0]!.body);
    expect((await call<Cart>("GET", "/v1/cart", { token: user.token })).body.items[0]!.quantity).toBe(2);

    const reused = await call("POST", "/v1/cart/items", { token: user.token, body: { skuId: p.skuId, quantity: 3 }, headers });
    expect(reused).toMatchObject({ status: 422, body: { code: "IDEMPOTENCY_KEY_REUSED" } });
    // Another user's identical key is theirs alone.
    const other = await devSession(server.url, "Other");
    expect((await call("POST", "/v1/cart/items", { token: other.token, body, headers })).status).toBe(201);
  });
});
