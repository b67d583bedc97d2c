import { expect } from "vitest";
import { sleep, waitUntil } from "../support/clients.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { faultCase } from "./fault-case.js";
import { faultServices } from "./support/services.js";
import { buyer, orderTimers, placeOrder, product, shopTruth } from "./support/shop.js";

const STOCK = 10;
const OUTAGE_MS = 10_000;
const env = { ORDER_PAY_TIMEOUT_SEC: "4" };

faultCase(5, "Redis unreachable for 10 s across a due job", async (log, ctx) => {
  const s = await faultServices(ctx, { redis: {} });
  const redis = s.privateRedis!;
  // The nodes reach Redis only through a proxy the case breaks; the case itself looks at Redis directly.
  const proxy = await startTcpProxy({ host: "127.0.0.1", port: redis.port });
  s.defer(() => proxy.close());
  const [a, b] = await Promise.all([s.spawn({ ...env, REDIS_URL: proxy.url("redis") }), s.spawn({ ...env, REDIS_URL: proxy.url("redis") })]);
  const truth = shopTruth(s.databaseUrl);
  const timers = orderTimers(s.redisUrl, s.redisPrefix);
  s.defer(() => truth.close());
  s.defer(() => timers.close());
  const { skuId } = await product(a.url, s.databaseUrl, { priceFen: 990, stock: STOCK });
  const u = await buyer(a.url, "Mei");

  // Refused connections (Redis down), then silence (a partition: nothing answers, nothing is refused).
  for (const fault of ["cut", "blackhole"] as const) {
    const order = await placeOrder(a.url, u, skuId, 2);
    expect(order.status).toBe(201);
    expect(await timers.state(order.body.id)).toBe("delayed");
    const due = Date.parse(order.body.payDeadline);

    await (fault === "cut" ? proxy.cut() : proxy.blackhole());
    const outAt = Date.now();
    expect(due).toBeGreaterThan(outAt);
    await sleep(outAt + OUTAGE_MS - Date.now());
    const [atHeal] = await truth.sql<{ status: string }[]>`select status from orders where id = ${order.body.id}`;
    await proxy.heal();
    const healedAt = Date.now();
    const how = fault === "cut" ? "connections cut, new ones refused" : "black-holed: open connections and new ones silent";
    log.injected(`Redis unreachable from both nodes for ${OUTAGE_MS / 1000} s (${how}); an order's timer came due ${((due - outAt) / 1000).toFixed(1)} s into it`);

    expect(atHeal!.status, "nothing closed the order while Redis was away").toBe("pending_payment");
    await waitUntil(async () => !(await truth.pending()).includes(order.body.id), `the timer fires after the ${fault} heals`, 40_000);
    const [closed] = await truth.sql<{ status: string; cancel_reason: string; cancelled_at: Date }[]>`select status, cancel_reason, cancelled_at from orders where id = ${order.body.id}`;
    expect(closed).toMatchObject({ status: "cancelled", cancel_reason: "payment timeout" });
    expect(closed!.cancelled_at.getTime()).toBeGreaterThanOrEqual(healedAt - 1000);

    // Once: the stock came back once, one node closed it once, and no timer is left.
    await sleep(2000);
    expect(await truth.stock(skuId)).toBe(STOCK);
    const closes = [a, b].flatMap((n) => n.output().split("\n")).filter((l) => l.includes("unpaid order closed at its deadline") && l.includes(order.body.id));
    expect(closes).toHaveLength(1);
    expect(await timers.state(order.body.id)).toBeNull();
    log.checked(`after the ${fault}: the timer fired ${((closed!.cancelled_at.getTime() - healedAt) / 1000).toFixed(1)} s after the heal and closed the order once (one close logged across both nodes, 2 units back once, no timer left)`);
  }
});
