import { expect } from "vitest";
import { redisKeys } from "../../src/redis/keys.js";
import { waitUntil } from "../support/clients.js";
import { buyOnce, flashTruth, rush, setUpFlashSale } from "../support/flash.js";
import { faultCase } from "./fault-case.js";
import { viewerProblems } from "./support/room-checks.js";
import { liveRoom } from "./support/live-room.js";
import { faultServices } from "./support/services.js";
import { buyer, orderTimers, placeOrder, product, shopTruth } from "./support/shop.js";

const PER_NODE = 6;
const SALE = { quantity: 20, limit: 2, buyers: 12 };
/** Deadlines far off: the case checks the rebuilt timers, not their firing (case 3 does that). */
const env = { ORDER_PAY_TIMEOUT_SEC: "600", JOBS_RECONCILE_INTERVAL_SEC: "10", FLASH_TAKE_STALE_MS: "1500" };

faultCase(4, "Redis loses its data", async (log, ctx) => {
  const s = await faultServices(ctx, { redis: {}, env });
  const redis = s.privateRedis!;
  const [a, b] = await Promise.all([s.spawn(), s.spawn()]);
  const truth = shopTruth(s.databaseUrl);
  const timers = orderTimers(s.redisUrl, s.redisPrefix);
  const flash = flashTruth(s.databaseUrl, s.redisPrefix, s.redisUrl);
  s.defer(() => truth.close());
  s.defer(() => timers.close());
  s.defer(() => flash.close());

  const room = await liveRoom(a.url, { viewers: PER_NODE * 2, viewerNode: (i) => () => (i % 2 === 0 ? a.ws : b.ws), hostNode: () => a.ws, everyMs: 30 });
  const { viewers, sender, streamId, epoch: oldEpoch } = room;

  const { skuId } = await product(a.url, s.databaseUrl, { priceFen: 800, stock: 50 });
  const buyers = await Promise.all([0, 1, 2].map((i) => buyer(a.url, `buyer${i}`)));
  for (const [i, u] of buyers.entries()) expect((await placeOrder(i % 2 ? b.url : a.url, u, skuId)).status).toBe(201);
  const sale = await setUpFlashSale(a.url, s.databaseUrl, SALE);
  const early = await Promise.all(sale.buyers.slice(0, 8).map((u, i) => buyOnce(i % 2 ? b.url : a.url, sale.saleId, u, `early-${i}`)));
  expect(early.map((e) => e.status)).toEqual(early.map(() => 201));
  await sender.ackedAtLeast(30);

  const lostAt = Date.now();
  await redis.kill();
  await redis.start({ wipe: true });
  const acksBefore = sender.acked.length;
  log.injected(`Redis killed and started empty (room at seq ${sender.lastSeq}, 3 order timers and a flash sale's gate with 8 of 20 units taken)`);

  await sender.ackedAtLeast(acksBefore + 40, 30_000);
  sender.pause();
  const after = sender.acked.slice(acksBefore);
  const probe = redis.client();
  const newEpoch = await probe.get(redisKeys(s.redisPrefix).room.epoch(streamId));
  probe.disconnect();
  expect(newEpoch).not.toBeNull();
  expect(newEpoch).not.toBe(oldEpoch);
  const last = Math.max(...after.map((x) => x.seq));
  await Promise.all(viewers.map((v) => v.reached(last, 30_000, newEpoch!)));
  for (const v of viewers) {
    expect(v.snapshots.some((snap) => !snap.recovered && snap.epoch === newEpoch)).toBe(true);
    expect(viewerProblems(v, after, newEpoch!)).toEqual([]);
  }
  log.checked(`the room restarted under a new epoch: all ${viewers.length} viewers got recovered:false and a snapshot, then every acknowledged comment of the new epoch, no gap`);

  // The reconciler gives every unpaid order its timer back, at its deadline.
  const unpaid = await truth.deadlines();
  expect(unpaid).toHaveLength(3 + 8);
  await waitUntil(async () => (await Promise.all(unpaid.map((o) => timers.state(o.id)))).every((st) => st === "delayed"), "every unpaid order has its timer again", 25_000);
  for (const o of unpaid) {
    const t = (await timers.timing(o.id))!;
    expect(t.setAt, "set again after the loss").toBeGreaterThan(lostAt);
    expect(Math.abs(t.runsAt - o.at)).toBeLessThan(1000);
  }
  log.checked(`all ${unpaid.length} unpaid orders (3 placed, 8 flash) have their one timer again, at their deadline, rebuilt from PostgreSQL`);

  // The gate is reloaded from PostgreSQL on its next use: earlier keys get their orders, the rest sells out exactly.
  for (const [i, e] of early.entries()) expect(await buyOnce(i % 2 ? a.url : b.url, sale.saleId, e.buyer, e.key)).toMatchObject({ status: 201, orderId: e.orderId });
  await rush(a.url, sale, { workers: 6, tag: "after", stop: () => false });
  const t = await flash.agreed(sale.saleId);
  expect(t.sale.sold).toBe(SALE.quantity);
  expect(t.units).toBe(SALE.quantity);
  expect(t.gateLeft).toBe(0);
  expect(Math.max(...t.perUser.values())).toBeLessThanOrEqual(SALE.limit);
  log.checked(`the flash gate was rebuilt from PostgreSQL: the 8 earlier keys answered with their orders, the sale sold out at exactly ${SALE.quantity}, gate and database agree`);

  room.close();
});
