// The lists the console reads for one stream: its flash sales and coupons, and the admin's orders of a stream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream } from "./support/clients.js";
import { httpClient, makeProduct, testAddress, type HttpClient } from "./support/http.js";

type Sale = { id: string; left: number; sold: number; quantity: number; status: string; createdAt: string };
type Coupon = { id: string; left: number; quantity: number; status: string; streamId: string };

describe("a stream's flash sales, coupons and orders", () => {
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

  it("lists them newest first with live counts, for the stream's host and admins only", async () => {
    const host = await devSession(server.url, "Host");
    const other = await devSession(server.url, "Other host");
    const streamId = await devStream(server.url, host.token);
    const otherStream = await devStream(server.url, other.token);
    const p = await makeProduct(call, admin, { priceFen: 5000, stock: 100 }, "Tea cup");
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });

    const first = await call<Sale>("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { skuId: p.skuId, priceFen: 1000, quantity: 5, perUserLimit: 2 } });
    await call("POST", `/v1/flash-sales/${first.body.id}/end`, { token: host.token });
    const second = await call<Sale>("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { skuId: p.skuId, priceFen: 1200, quantity: 10, perUserLimit: 2 } });
    const buyer = await devSession(server.url, "Buyer");
    const address = await call<{ id: string }>("POST", "/v1/addresses", { token: buyer.token, body: testAddress });
    const bought = await call<{ id: string }>("POST", `/v1/flash-sales/${second.body.id}/buy`, { token: buyer.token, headers: { "idempotency-key": "b1" }, body: { quantity: 2, addressId: address.body.id } });
    expect(bought.status).toBe(201);

    const sales = await call<Sale[]>("GET", `/v1/streams/${streamId}/flash-sales`, { token: host.token });
    expect(sales.status).toBe(200);
    expect(sales.body.map((s) => [s.id, s.status, s.left, s.sold])).toEqual([
      [second.body.id, "active", 8, 2],
      [first.body.id, "ended", 5, 0],
    ]);

    const coupon = await call<Coupon>("POST", `/v1/streams/${streamId}/coupons`, { token: host.token, body: { title: "5 off", discountFen: 500, quantity: 3 } });
    expect((await call("POST", `/v1/coupons/${coupon.body.id}/claim`, { token: buyer.token })).status).toBe(200);
    const coupons = await call<Coupon[]>("GET", `/v1/streams/${streamId}/coupons`, { token: host.token });
    expect(coupons.body).toMatchObject([{ id: coupon.body.id, streamId, status: "active", quantity: 3, left: 2 }]);

    for (const path of [`/v1/streams/${streamId}/flash-sales`, `/v1/streams/${streamId}/coupons`]) {
      expect((await call("GET", path, { token: other.token })).status).toBe(403);
      expect((await call("GET", path)).status).toBe(401);
      expect((await call("GET", path, { token: admin })).status).toBe(200);
    }
    expect((await call<Sale[]>("GET", `/v1/streams/${otherStream}/flash-sales`, { token: other.token })).body).toEqual([]);

    const orders = await call<{ items: { id: string; streamId: string }[]; total: number }>("GET", `/v1/admin/orders?streamId=${streamId}`, { token: admin });
    expect(orders.body.total).toBe(1);
    expect(orders.body.items[0]).toMatchObject({ id: bought.body.id, streamId });
    expect((await call<{ total: number }>("GET", `/v1/admin/orders?streamId=${otherStream}`, { token: admin })).body.total).toBe(0);
    expect((await call<{ total: number }>("GET", `/v1/admin/orders?streamId=${streamId}&status=paid`, { token: admin })).body.total).toBe(0);
  });
});
