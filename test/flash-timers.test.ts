// A flash batch's orders share one payment timer; the reconciler that repairs timers must not give
// them a second one, and rebuilds a lost batch timer as that one timer.
import { Queue, type Job } from "bullmq";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../src/redis/keys.js";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { waitUntil } from "./support/clients.js";
import { buyOnce, setUpFlashSale } from "./support/flash.js";
import { redisUrl } from "./support/env.js";

const PAY_TIMEOUT_SEC = 10;
const BUYERS = 6;

describe("flash orders' payment timers", () => {
  const services = useTestServices();
  let server: TestServer;
  let sql: postgres.Sql;
  let queue: Queue;

  beforeAll(async () => {
    // Buys sent together land in one batch; the reconciler runs only when the test says so (and at start).
    server = await startTestServer(services.databaseUrl, services.redisPrefix, {
      ORDER_PAY_TIMEOUT_SEC: String(PAY_TIMEOUT_SEC),
      FLASH_BATCH_WAIT_MS: "100",
      JOBS_RECONCILE_INTERVAL_SEC: "3600",
    });
    sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const { hostname, port } = new URL(redisUrl);
    queue = new Queue("order", { connection: { host: hostname, port: Number(port || 6379) }, prefix: redisKeys(services.redisPrefix).jobs });
  });
  afterAll(async () => {
    await queue?.close();
    await server?.stop();
    await sql?.end();
  });

  /** Every timer not yet run (delayed or waiting), with the orders it closes. */
  async function pendingTimers() {
    const jobs = (await queue.getJobs(["delayed", "waiting", "prioritized"])).filter((j): j is Job => j !== undefined);
    return jobs.map((j) => ({
      job: j,
      kind: j.name,
      runsAt: j.timestamp + (j.opts.delay ?? 0),
      orderIds: (j.data as { orderIds?: string[] }).orderIds ?? [(j.data as { orderId: string }).orderId],
    }));
  }
  /** How many pending timers close each order. */
  async function timersPerOrder(orderIds: string[]) {
    const counts = new Map(orderIds.map((id) => [id, 0]));
    for (const t of await pendingTimers()) for (const id of t.orderIds) if (counts.has(id)) counts.set(id, counts.get(id)! + 1);
    return Object.fromEntries(counts);
  }
  const once = (orderIds: string[]) => Object.fromEntries(orderIds.map((id) => [id, 1]));
  const runs = async (kind: string) => (await server.metrics.jobsRun.get()).values.find((v) => v.labels.kind === kind && v.labels.outcome === "done")?.value ?? 0;

  it("keeps one timer per flash order through reconciles, rebuilds a lost batch timer as one, and closes each order once", async () => {
    const sale = await setUpFlashSale(server.url, services.databaseUrl, { quantity: 20, limit: 2, buyers: BUYERS });
    const bought = await Promise.all(sale.buyers.map((b, i) => buyOnce(server.url, sale.saleId, b, `rush-${i}`)));
    expect(bought.map((b) => b.status)).toEqual(bought.map(() => 201));
    const ids = bought.map((b) => b.orderId!);
    await waitUntil(async () => Object.values(await timersPerOrder(ids)).every((n) => n > 0), "every order's timer set after its batch committed");
    const batches = (await pendingTimers()).filter((t) => t.kind === "order.timeouts");
    // What this test is about: a batch of several orders under one timer.
    expect(Math.max(0, ...batches.map((b) => b.orderIds.length))).toBeGreaterThan(1);
    expect(await timersPerOrder(ids)).toEqual(once(ids));

    // The reconciler's round (every JOBS_RECONCILE_INTERVAL_SEC on every node) adds nothing.
    await server.app.reconcile();
    await server.app.reconcile();
    expect(await timersPerOrder(ids)).toEqual(once(ids));

    // Redis lost the batch timers: the reconciler rebuilds them, one timer per order again, at the deadline.
    for (const b of batches) await b.job.remove();
    expect(Object.values(await timersPerOrder(ids)).some((n) => n === 0)).toBe(true);
    await server.app.reconcile();
    expect(await timersPerOrder(ids)).toEqual(once(ids));
    const deadlines = new Map((await sql<{ id: string; pay_deadline: Date }[]>`select id, pay_deadline from orders where id in ${sql(ids)}`).map((r) => [r.id, r.pay_deadline.getTime()]));
    const timers = await pendingTimers();
    for (const t of timers) for (const id of t.orderIds) if (deadlines.has(id)) expect(Math.abs(t.runsAt - deadlines.get(id)!)).toBeLessThan(1000);
    const mine = timers.filter((t) => t.orderIds.some((id) => deadlines.has(id)));

    // At the deadline each order is closed once, by one run of its one timer.
    const before = { one: await runs("order.timeout"), batch: await runs("order.timeouts") };
    await waitUntil(
      async () => (await sql<{ n: number }[]>`select count(*)::int n from orders where id in ${sql(ids)} and status = 'cancelled'`)[0]!.n === ids.length,
      "every unpaid order closed at its deadline",
      (PAY_TIMEOUT_SEC + 20) * 1000,
    );
    await waitUntil(async () => (await runs("order.timeout")) - before.one + (await runs("order.timeouts")) - before.batch >= mine.length, "every timer's run counted", 10_000);
    await server.app.reconcile();
    expect({ one: (await runs("order.timeout")) - before.one, batch: (await runs("order.timeouts")) - before.batch }).toEqual({
      one: mine.filter((t) => t.kind === "order.timeout").length,
      batch: mine.filter((t) => t.kind === "order.timeouts").length,
    });
    expect(await sql`select id from orders where id in ${sql(ids)} and (status <> 'cancelled' or cancel_reason <> 'payment timeout')`).toEqual([]);
    const [s] = await sql<{ sold: number }[]>`select sold from flash_sales where id = ${sale.saleId}`;
    const [sku] = await sql<{ stock: number }[]>`select stock from skus where id = ${sale.skuId}`;
    expect({ sold: s!.sold, stock: sku!.stock }).toEqual({ sold: 0, stock: 40 });
    expect(await timersPerOrder(ids)).toEqual(Object.fromEntries(ids.map((id) => [id, 0])));
  });
});
