import { expect } from "vitest";
import { sleep, waitUntil } from "../support/clients.js";
import { faultCase } from "./fault-case.js";
import { viewerProblems } from "./support/room-checks.js";
import { liveRoom } from "./support/live-room.js";
import { faultServices } from "./support/services.js";
import { buyer, orderTimers, placeOrder, product, shopTruth } from "./support/shop.js";

const PER_NODE = 8;
const STOCK = 50;
/** Orders placed before the restart come due after it; the reconciler runs every 10 s. */
const env = { ORDER_PAY_TIMEOUT_SEC: "14", JOBS_RECONCILE_INTERVAL_SEC: "10" };

faultCase(3, "Redis hard restart with AOF", async (log, ctx) => {
  const s = await faultServices(ctx, { redis: { aof: true }, env });
  const redis = s.privateRedis!;
  const [a, b] = await Promise.all([s.spawn(), s.spawn()]);
  const truth = shopTruth(s.databaseUrl);
  const timers = orderTimers(s.redisUrl, s.redisPrefix);
  s.defer(() => truth.close());
  s.defer(() => timers.close());

  const room = await liveRoom(a.url, { viewers: PER_NODE * 2, viewerNode: (i) => () => (i % 2 === 0 ? a.ws : b.ws), hostNode: () => a.ws, everyMs: 30 });
  const { viewers, sender, epoch } = room;
  const { skuId } = await product(a.url, s.databaseUrl, { priceFen: 800, stock: STOCK });
  const buyers = await Promise.all([0, 1, 2, 3].map((i) => buyer(i % 2 ? b.url : a.url, `buyer${i}`)));
  const before = await Promise.all(buyers.slice(0, 3).map((u, i) => placeOrder(i % 2 ? b.url : a.url, u, skuId)));
  for (const o of before) expect(o.status).toBe(201);
  for (const o of before) expect(await timers.state(o.body.id)).toBe("delayed");
  await sender.ackedAtLeast(30);

  await redis.kill();
  const killedAt = sender.lastSeq;
  await sleep(500);
  const during = await placeOrder(a.url, buyers[3]!, skuId);
  await sleep(1500);
  await redis.start();
  log.injected(`kill -9 of Redis (AOF, fsync always) at seq ${killedAt} with 3 order timers pending, an order placed while it was down, restart 2 s later`);

  expect(during.status, "an order placed while Redis is down is answered after its commit").toBe(201);
  const acksBefore = sender.acked.length;
  await sender.ackedAtLeast(acksBefore + 40, 30_000);
  sender.pause();
  const last = sender.lastSeq;
  await Promise.all(viewers.map((v) => v.reached(last, 30_000)));
  for (const v of viewers) {
    expect(v.epoch).toBe(epoch);
    expect(viewerProblems(v, sender.acked, epoch)).toEqual([]);
  }
  const healed = viewers.reduce((n, v) => n + v.gaps, 0);
  log.checked(`both nodes resubscribed: all ${viewers.length} viewers kept epoch and hold every acknowledged comment to seq ${last}, no gap left (${healed} gaps detected and healed by reconnecting)`);

  // Timers: the ones set before the kill survived in the AOF; the reconciler sets the missed one.
  for (const o of before) expect(await timers.state(o.body.id)).toBe("delayed");
  await waitUntil(async () => (await timers.state(during.body.id)) === "delayed", "the reconciler sets the timer missed during the outage", 15_000);
  log.checked("the 3 timers set before the kill were intact after the restart; the order placed during the outage got its timer from the reconciler");

  await waitUntil(async () => (await truth.pending()).length === 0, "every order closed at its deadline", 30_000);
  const orders = await truth.orders();
  expect(orders).toHaveLength(4);
  expect(orders.every((o) => o.status === "cancelled" && o.cancel_reason === "payment timeout")).toBe(true);
  expect(await truth.stock(skuId)).toBe(STOCK);
  for (const o of orders) expect(await timers.state(o.id)).toBeNull();
  log.checked("all 4 orders closed by their timers after the restart, stock back exactly once, no timer left");

  room.close();
});
