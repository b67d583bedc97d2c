// Live flash sale under a rush: never oversold, per-user limit held, stock back exactly once.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, WsClient } from "./support/clients.js";
import { httpClient, makeProduct, testAddress, type HttpClient } from "./support/http.js";

const address = testAddress;
type Sale = { id: string; left: number; quantity: number };

describe("live flash sale", () => {
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

  async function truth(saleId: string, skuId: string) {
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [sale] = await sql<{ sold: number }[]>`select sold from flash_sales where id = ${saleId}`;
      const [sku] = await sql<{ stock: number }[]>`select stock from skus where id = ${skuId}`;
      const perUser = await sql<{ user_id: string; units: string }[]>`
        select o.user_id, sum(i.quantity) as units from orders o join order_items i on i.order_id = o.id
        where i.flash_sale_id = ${saleId} and o.status <> 'cancelled' group by o.user_id`;
      return { sold: sale!.sold, stock: sku!.stock, perUser: perUser.map((r) => Number(r.units)) };
    } finally {
      await sql.end();
    }
  }

  it("sells exactly 100 units to 2,000 concurrent requests from 500 users, at most 2 each", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const p = await makeProduct(call, admin, { priceFen: 9900, stock: 1000 }, "Silk fan");
    const viewer = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await viewer.next("snapshot");
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });

    const started = await call<Sale>("POST", `/v1/streams/${streamId}/flash-sales`, {
      token: host.token,
      body: { skuId: p.skuId, priceFen: 1990, quantity: 100, perUserLimit: 2 },
    });
    expect(started.status).toBe(201);
    const saleId = started.body.id;
    expect((await viewer.next("flash_sale")).sale).toMatchObject({ id: saleId, left: 100, priceFen: 1990 });

    const users: { token: string; userId: string; addressId: string }[] = [];
    for (let i = 0; i < 500; i += 50) {
      users.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, async (_, j) => {
            const u = await devSession(server.url, `fan${i + j}`);
            const a = await call<{ id: string }>("POST", "/v1/addresses", { token: u.token, body: address });
            return { ...u, addressId: a.body.id };
          }),
        )),
      );
    }
    let n = 0;
    const results = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => {
        const u = users[i % 500]!;
        return call<{ id: string; totalFen: number; code?: string }>("POST", `/v1/flash-sales/${saleId}/buy`, {
          token: u.token,
          headers: { "idempotency-key": `rush-${n++}` },
          body: { quantity: 1, addressId: u.addressId },
        }).then((r) => ({ ...r, userId: u.userId }));
      }),
    );

    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(100);
    expect(won.every((r) => r.body.totalFen === 1990)).toBe(true);
    const perUser = new Map<string, number>();
    for (const r of won) perUser.set(r.userId, (perUser.get(r.userId) ?? 0) + 1);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(2);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.every((r) => r.status === 409 && (r.body.code === "SOLD_OUT" || r.body.code === "LIMIT_EXCEEDED"))).toBe(true);

    const t = await truth(saleId, p.skuId);
    expect(t.sold).toBe(100);
    expect(t.stock).toBe(900);
    expect(Math.max(...t.perUser)).toBeLessThanOrEqual(2);
    expect(t.perUser.reduce((a, b) => a + b, 0)).toBe(100);

    // Units left reached the room conflated: the last push says 0, in far fewer pushes than sales.
    await viewer.until((f) => f.some((x) => x.type === "flash_sale" && (x.sale as Sale | null)?.left === 0), 10_000, "left 0");
    expect(viewer.of("flash_sale").length).toBeLessThan(40);
    expect((await call<Sale>("GET", `/v1/flash-sales/${saleId}`)).body.left).toBe(0);

    // Cancelling an unpaid flash order gives its unit back exactly once.
    const loser = won[0]!;
    const owner = users.find((u) => u.userId === loser.userId)!;
    const cancels = await Promise.all(Array.from({ length: 5 }, () => call("POST", `/v1/orders/${loser.body.id}/cancel`, { token: owner.token, body: {} })));
    expect(cancels.filter((c) => c.status === 200)).toHaveLength(1);
    expect(await truth(saleId, p.skuId)).toMatchObject({ sold: 99, stock: 901 });
    expect((await call<Sale>("GET", `/v1/flash-sales/${saleId}`)).body.left).toBe(1);
    const late = users.find((u) => !perUser.has(u.userId))!;
    const second = await call("POST", `/v1/flash-sales/${saleId}/buy`, { token: late.token, headers: { "idempotency-key": "late-1" }, body: { quantity: 1, addressId: late.addressId } });
    expect(second.status).toBe(201);
    expect(await truth(saleId, p.skuId)).toMatchObject({ sold: 100, stock: 900 });
    viewer.close();
  });

  it("lets only the stream's host start or end a flash sale, and refuses buying after the end", async () => {
    const host = await devSession(server.url, "Host2");
    const stranger = await devSession(server.url, "Stranger");
    const streamId = await devStream(server.url, host.token);
    const p = await makeProduct(call, admin, { priceFen: 500, stock: 10 });
    const body = { skuId: p.skuId, priceFen: 100, quantity: 5, perUserLimit: 1 };
    expect((await call("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body })).body).toMatchObject({ code: "FORBIDDEN" });
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
    expect((await call("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { ...body, quantity: 11 } })).body).toMatchObject({ code: "OUT_OF_STOCK" });
    expect((await call("POST", `/v1/streams/${streamId}/flash-sales`, { token: stranger.token, body })).body).toMatchObject({ code: "FORBIDDEN" });
    const sale = (await call<Sale>("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body })).body;
    expect((await call("POST", `/v1/flash-sales/${sale.id}/end`, { token: stranger.token })).body).toMatchObject({ code: "FORBIDDEN" });
    expect((await call("POST", `/v1/flash-sales/${sale.id}/end`, { token: host.token })).status).toBe(200);
    const buyer = await devSession(server.url, "Buyer");
    const a = await call<{ id: string }>("POST", "/v1/addresses", { token: buyer.token, body: address });
    const res = await call("POST", `/v1/flash-sales/${sale.id}/buy`, { token: buyer.token, headers: { "idempotency-key": "after-end" }, body: { addressId: a.body.id } });
    expect(res).toMatchObject({ status: 409, body: { code: "FLASH_NOT_ACTIVE" } });
  });
});
