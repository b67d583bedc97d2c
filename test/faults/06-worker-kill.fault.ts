import { Queue } from "bullmq";
import { expect } from "vitest";
import { redisKeys } from "../../src/redis/keys.js";
import { adminToken } from "../support/admin.js";
import { waitUntil } from "../support/clients.js";
import { groupBuyer, groupTruth } from "../support/groups.js";
import { httpClient, makeProduct } from "../support/http.js";
import { wechatUser } from "../support/wechat.js";
import { faultCase } from "./fault-case.js";
import { watchJobs } from "./support/jobs-watch.js";
import { faultServices } from "./support/services.js";
import { shopTruth } from "./support/shop.js";

const MEMBERS = 5;
/**
 * Every WeChat Pay call takes this long, so a kill lands inside a job: between closing the order's
 * transaction and asking for its state, and between one member's refund and the next. A dead
 * worker's lock lapses after JOBS_LOCK_MS.
 */
const env = { WECHAT_SANDBOX_LATENCY_MS: "1200", JOBS_LOCK_MS: "2000", ORDER_PAY_TIMEOUT_SEC: "12" };

faultCase(6, "worker kill -9 in the middle of an order-close and a group-expiry job", async (log, ctx) => {
  const s = await faultServices(ctx, { env });
  // The API node takes requests only; the jobs run on a worker process, the one the case kills.
  const [api, firstWorker] = await Promise.all([s.spawn({ JOBS_WORKER: "false" }), s.spawn()]);
  const call = httpClient(api.url);
  const groups = groupTruth(s.databaseUrl);
  const shop = shopTruth(s.databaseUrl);
  const groupQueue = new Queue("group", { connection: { host: new URL(s.redisUrl).hostname, port: Number(new URL(s.redisUrl).port || 6379) }, prefix: redisKeys(s.redisPrefix).jobs });
  s.defer(() => groups.close());
  s.defer(() => shop.close());
  s.defer(() => groupQueue.close());
  const admin = await adminToken(s.databaseUrl);
  const jobs = await watchJobs(s.redisUrl, s.redisPrefix, ["order", "group"]);
  s.defer(() => jobs.close());

  // A failed group to be: MEMBERS paid places of MEMBERS + 1.
  const p = await makeProduct(call, admin, { priceFen: 5000, stock: 100 }, "Tea set");
  const activity = (await call<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: MEMBERS + 1, groupPriceFen: 3900 } })).body;
  const gb = groupBuyer(call);
  const leader = await gb.user("Leader");
  const groupId = (await gb.open(leader.token, activity.id)).body.group.id;
  expect(await gb.pay(leader.token, groupId)).toBe("requestPayment:ok");
  await groups.until(async () => (await groups.group(groupId)).status === "open", "the group opens");
  await Promise.all(
    Array.from({ length: MEMBERS - 1 }, async (_, i) => {
      const m = await gb.user(`Member${i}`);
      expect((await gb.join(m.token, groupId)).body.order.status).toBe("pending_payment");
      expect(await gb.pay(m.token, groupId)).toBe("requestPayment:ok");
    }),
  );
  await groups.until(async () => (await groups.members(groupId)).filter((m) => m.status === "paid").length === MEMBERS, "every member paid", 30_000);

  // An unpaid order whose WeChat transaction exists (so closing it calls WeChat).
  const q = await makeProduct(call, admin, { priceFen: 1500, stock: 10 }, "Fan");
  const u = await wechatUser(call, "Unpaid");
  const order = (await call<{ id: string }>("POST", "/v1/orders", { token: u.token, headers: { "idempotency-key": "unpaid-1" }, body: { items: [{ skuId: q.skuId, quantity: 2 }], addressId: u.addressId } })).body;
  expect((await call("POST", `/v1/orders/${order.id}/pay`, { token: u.token })).status).toBe(200);

  // 1. The order-close job: kill the worker after WeChat closed the transaction, before the order is cancelled.
  const txState = async () => (await shop.sql<{ state: string }[]>`select state from sandbox_transactions where out_trade_no = ${order.id}`)[0]!.state;
  const orderStatus = async () => (await shop.sql<{ status: string }[]>`select status from orders where id = ${order.id}`)[0]!.status;
  await waitUntil(async () => (await txState()) === "CLOSED", "the close job reaches WeChat", 30_000);
  await firstWorker.kill();
  expect(await orderStatus()).toBe("pending_payment");
  log.injected("kill -9 of the worker inside the order-close job (WeChat transaction closed, order not yet cancelled)");
  const secondWorker = await s.spawn();
  await waitUntil(async () => (await orderStatus()) === "cancelled", "the order-close job runs again on the new worker", 30_000);
  expect(await shop.stock(q.skuId)).toBe(10);
  const closes = () => [firstWorker, secondWorker].flatMap((n) => n.output().split("\n")).filter((l) => l.includes("unpaid order closed at its deadline"));
  // The worker logs the close after its commit: its line can reach the pipe after the status is read.
  await waitUntil(() => Promise.resolve(closes().length > 0), "the new worker logs the close", 10_000);
  expect(closes()).toHaveLength(1);
  expect(jobs.stalled).toContain(`order-timeout-${order.id}`);
  log.checked("the order-close job stalled with its dead worker and ran again on a new one: the order cancelled once, its 2 units back once");

  // 2. The group-expiry job: kill the worker after its first refund.
  await groups.expireNow(groupId);
  await (await groupQueue.getJob(`group-expire-${groupId}`))!.promote();
  const sandboxRefunds = async () => (await groups.orders(groupId)).reduce((n, o) => n + o.sandbox_refunds, 0);
  await waitUntil(async () => (await sandboxRefunds()) >= 1, "the first refund", 30_000);
  await secondWorker.kill();
  const refundedBeforeKill = await sandboxRefunds();
  expect(refundedBeforeKill).toBeLessThan(MEMBERS);
  log.injected(`kill -9 of the worker inside the group-expiry job (${refundedBeforeKill} of ${MEMBERS} refunds made)`);
  await s.spawn();
  await waitUntil(async () => (await groups.orders(groupId)).every((o) => o.status === "refunded"), "every refund after the new worker took over", 60_000);
  for (const o of await groups.orders(groupId)) expect(o).toMatchObject({ status: "refunded", refunds: 1, sandbox_refunds: 1, refunded_fen: 3900 });
  expect((await groups.group(groupId)).status).toBe("failed");
  expect(jobs.stalled).toContain(`group-expire-${groupId}`);
  log.checked(`the group-expiry job stalled and ran again on a new worker: the group failed once and each of the ${MEMBERS} paid members was refunded exactly once`);
});
