// Case 21: the node refunding a failed group's members is killed (kill -9) in the middle of its loop,
// with a WeChat that takes a while per refund. The other node takes the job over once its lock
// lapses; every paid member ends refunded exactly once, in full, at WeChat and in our books.
import { afterAll, beforeAll, expect } from "vitest";
import { createJobs, type Jobs } from "../../src/jobs/jobs.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics.js";
import { redisKeys } from "../../src/redis/keys.js";
import { adminToken } from "../support/admin.js";
import { redisUrl } from "../support/env.js";
import { groupBuyer, groupTruth } from "../support/groups.js";
import { httpClient, makeProduct } from "../support/http.js";
import { spawnServer, type SpawnedServer } from "../support/servers.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";

const MEMBERS = 6;
const STOCK = 50;
/** A slow WeChat (each refund call takes this long) and a short job lock, so the kill lands mid-loop and the takeover is quick. */
const env = { WECHAT_SANDBOX_LATENCY_MS: "300", JOBS_LOCK_MS: "2000" };

const ctx = useCaseServer(env);
let jobs: Jobs;
let b: SpawnedServer | null = null;
beforeAll(async () => {
  b = await spawnServer(ctx.services.databaseUrl, ctx.services.redisPrefix, env, 60_000);
  jobs = createJobs({ redis: { url: redisUrl, cluster: null }, prefix: redisKeys(ctx.services.redisPrefix).jobs, nodeId: "fault-21", log: createLogger("silent", "fault-21"), metrics: createMetrics(), work: false, concurrency: 1, lockMs: 2000 });
});
afterAll(async () => {
  await jobs?.close();
  await b?.stop();
});

faultCase(21, "refund crash mid-loop", async (log) => {
  const a = ctx.server;
  const nodes = [a, b!];
  const call = httpClient(a.url);
  const buyer = groupBuyer(call);
  const truth = groupTruth(ctx.services.databaseUrl);
  try {
    const admin = await adminToken(ctx.services.databaseUrl);
    const p = await makeProduct(call, admin, { priceFen: 5000, stock: STOCK }, "Porcelain cup");
    const activity = (await call<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: MEMBERS + 1, groupPriceFen: 3900 } })).body;
    const leader = await buyer.user("Leader");
    const groupId = (await buyer.open(leader.token, activity.id)).body.group.id;
    expect(await buyer.pay(leader.token, groupId)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(groupId)).status === "open", "the group opens");
    await Promise.all(
      Array.from({ length: MEMBERS - 1 }, async (_, i) => {
        const m = await buyer.user(`Member${i}`);
        expect((await buyer.join(m.token, groupId)).status).toBe(200);
        expect(await buyer.pay(m.token, groupId)).toBe("requestPayment:ok");
      }),
    );
    await truth.until(async () => (await truth.members(groupId)).filter((m) => m.status === "paid").length === MEMBERS, "every member paid");

    await truth.expireNow(groupId);
    expect(await jobs.runNow("group.expire", groupId)).toBe(true);
    const sandboxRefunds = () => truth.sql<{ notify_url: string }[]>`select r.notify_url from sandbox_refunds r join orders o on o.id = r.out_trade_no where o.group_id = ${groupId}`;
    await truth.until(async () => (await sandboxRefunds()).length >= 2, "the refund loop under way", 30_000);
    // The node running the loop is the one WeChat will notify: its own address is in the refunds' notify_url.
    const port = Number(new URL((await sandboxRefunds())[0]!.notify_url).port);
    const worker = nodes.find((n) => n.port === port)!;
    const survivor = nodes.find((n) => n !== worker)!;
    await worker.kill();
    const doneAtKill = (await sandboxRefunds()).length;
    expect(doneAtKill).toBeLessThan(MEMBERS);
    log.injected(`kill -9 of the node refunding a failed group of ${MEMBERS} paid members, after ${doneAtKill} of its refunds reached WeChat (each WeChat call 300 ms; JOBS_LOCK_MS 2000)`);

    await truth.until(async () => (await truth.orders(groupId)).every((o) => o.status === "refunded"), "every member refunded by the other node", 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    const orders = await truth.orders(groupId);
    expect(orders).toHaveLength(MEMBERS);
    for (const o of orders) expect(o).toMatchObject({ status: "refunded", refunds: 1, sandbox_refunds: 1, refunded_fen: 3900, sandbox_state: "REFUND" });
    const [rows] = await truth.sql<{ n: number; fen: number }[]>`select count(*)::int as n, coalesce(sum(amount_fen), 0)::int as fen from refunds r join orders o on o.id = r.order_id where o.group_id = ${groupId} and r.status = 'SUCCESS'`;
    expect(rows).toEqual({ n: MEMBERS, fen: MEMBERS * 3900 });
    expect((await truth.group(groupId)).status).toBe("failed");
    const [sku] = await truth.sql<{ stock: number }[]>`select stock from skus where id = ${p.skuId}`;
    expect(sku!.stock).toBe(STOCK);
    expect(survivor.exitCode()).toBeNull();
    log.checked(`the surviving node finished the loop: all ${MEMBERS} members refunded exactly once (one refund row and one WeChat refund each, ${MEMBERS * 3900} fen in all), the group failed, stock back to ${STOCK}`);
  } finally {
    await truth.close();
  }
}, 150_000);
