// Admin reports of what a rush left behind (flash sale, group-buy activity): the records load tests judge by.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream } from "./support/clients.js";
import { httpClient, makeProduct, testAddress, type HttpClient } from "./support/http.js";
import { groupBuyer, groupTruth } from "./support/groups.js";

type FlashReport = {
  sale: { id: string; quantity: number; sold: number; perUserLimit: number; status: string };
  orders: { count: number; units: number; byStatus: Record<string, { orders: number; units: number }> };
  buyers: { count: number; units: number; maxBought: number };
  skuStock: number | null;
  oversoldUnits: number;
};
type Charge = { userId: string; orders: number; paidOrders: number; chargedFen: number; refundedFen: number; refundPendingFen: number };
type GroupReport = {
  activity: { id: string; groupSize: number; groupPriceFen: number; flow: string };
  groups: { id: string; status: string; size: number; taken: number; paid: number; members: number; leaderUserId: string; charges: Charge[] }[];
};

describe("admin outcome reports", () => {
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

  it("reports a flash sale's counter, live and cancelled orders, buyers and stock", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const p = await makeProduct(call, admin, { priceFen: 9900, stock: 10 }, "Silk fan");
    await call("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
    const sale = await call<{ id: string }>("POST", `/v1/streams/${streamId}/flash-sales`, { token: host.token, body: { skuId: p.skuId, priceFen: 1990, quantity: 10, perUserLimit: 3 } });
    expect(sale.status).toBe(201);

    const orderIds: string[] = [];
    for (const [i, quantity] of [2, 3, 1].entries()) {
      const u = await devSession(server.url, `fan${i}`);
      const a = await call<{ id: string }>("POST", "/v1/addresses", { token: u.token, body: testAddress });
      const o = await call<{ id: string }>("POST", `/v1/flash-sales/${sale.body.id}/buy`, { token: u.token, headers: { "idempotency-key": `k-${i}` }, body: { quantity, addressId: a.body.id } });
      expect(o.status).toBe(201);
      orderIds.push(o.body.id);
      if (i === 2) expect((await call("POST", `/v1/orders/${o.body.id}/cancel`, { token: u.token, body: {} })).status).toBe(200);
    }

    const r = await call<FlashReport>("GET", `/v1/admin/flash-sales/${sale.body.id}/report`, { token: admin });
    expect(r.status).toBe(200);
    expect(r.body.sale).toMatchObject({ id: sale.body.id, quantity: 10, sold: 5, perUserLimit: 3, status: "active" });
    expect(r.body.orders).toEqual({ count: 2, units: 5, byStatus: { pending_payment: { orders: 2, units: 5 }, cancelled: { orders: 1, units: 1 } } });
    expect(r.body.buyers).toEqual({ count: 2, units: 5, maxBought: 3 });
    expect(r.body.skuStock).toBe(5);
    expect(r.body.oversoldUnits).toBe(0);

    expect((await call("GET", `/v1/admin/flash-sales/${sale.body.id}/report`, { token: host.token })).status).toBe(403);
    expect((await call("GET", `/v1/admin/flash-sales/${sale.body.id}/report`)).status).toBe(401);
    expect((await call<{ code: string }>("GET", "/v1/admin/flash-sales/nope/report", { token: admin })).body.code).toBe("NOT_FOUND");
  });

  it("reports each group's places and what each member was charged", async () => {
    const buyer = groupBuyer(call);
    const truth = groupTruth(services.databaseUrl);
    try {
      const p = await makeProduct(call, admin, { priceFen: 9900, stock: 100 }, "Longjing tea");
      const a = await call<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: 2, groupPriceFen: 6900, windowSec: 3600 } });
      expect(a.status).toBe(201);

      const leader = await buyer.user("Leader");
      const opened = await buyer.open(leader.token, a.body.id);
      const groupId = opened.body.group.id;
      expect(await buyer.pay(leader.token, groupId)).toBe("requestPayment:ok");
      await truth.until(async () => (await truth.group(groupId)).status === "open", "the group opens");
      const member = await buyer.user("Member");
      expect((await buyer.join(member.token, groupId)).status).toBe(200);
      expect(await buyer.pay(member.token, groupId)).toBe("requestPayment:ok");
      await truth.until(async () => (await truth.group(groupId)).status === "complete", "the group completes");
      // A second group whose leader has not paid: a held place, nothing charged.
      const other = await buyer.user("Other");
      const pending = (await buyer.open(other.token, a.body.id)).body.group.id;

      const r = await call<GroupReport>("GET", `/v1/admin/group-activities/${a.body.id}/report`, { token: admin });
      expect(r.status).toBe(200);
      expect(r.body.activity).toMatchObject({ id: a.body.id, groupSize: 2, groupPriceFen: 6900, flow: "leader_pays" });
      const done = r.body.groups.find((g) => g.id === groupId)!;
      expect(done).toMatchObject({ status: "complete", size: 2, taken: 2, paid: 2, members: 2, leaderUserId: leader.userId });
      expect(done.charges.sort((x, y) => (x.userId < y.userId ? -1 : 1))).toEqual(
        [leader.userId, member.userId].sort().map((userId) => ({ userId, orders: 1, paidOrders: 1, chargedFen: 6900, refundedFen: 0, refundPendingFen: 0 })),
      );
      const held = r.body.groups.find((g) => g.id === pending)!;
      expect(held).toMatchObject({ status: "pending", taken: 1, paid: 0, charges: [{ userId: other.userId, orders: 1, paidOrders: 0, chargedFen: 0 }] });
      expect((await call("GET", `/v1/admin/group-activities/${a.body.id}/report`, { token: leader.token })).status).toBe(403);
    } finally {
      await truth.close();
    }
  });
});
