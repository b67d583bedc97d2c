// The worker is killed (kill -9) in the middle of refunding an expired group; after a restart every refund happens exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobs, type Jobs } from "../src/jobs/jobs.js";
import { createLogger } from "../src/log.js";
import { createMetrics } from "../src/metrics.js";
import { redisKeys } from "../src/redis/keys.js";
import { useTestServices } from "./support/services.js";
import { spawnServer, type SpawnedServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { httpClient, makeProduct } from "./support/http.js";
import { redisUrl } from "./support/env.js";
import { groupBuyer, groupTruth } from "./support/groups.js";

const MEMBERS = 5;
/** A slow WeChat: each refund call takes this long, so the kill lands between refunds. */
const env = { WECHAT_SANDBOX_LATENCY_MS: "300", JOBS_LOCK_MS: "2000" };

describe("a worker killed while refunding a failed group", () => {
  let first: SpawnedServer;
  let second: SpawnedServer | undefined;
  let truth: ReturnType<typeof groupTruth>;
  let jobs: Jobs;
  const services = useTestServices();

  beforeAll(async () => {
    first = await spawnServer(services.databaseUrl, services.redisPrefix, env);
    truth = groupTruth(services.databaseUrl);
    // The test enqueues like another node would (no workers here).
    jobs = createJobs({ redis: { url: redisUrl, cluster: null }, prefix: redisKeys(services.redisPrefix).jobs, nodeId: "test", log: createLogger("silent", "test"), metrics: createMetrics(), work: false, concurrency: 1, lockMs: 2000 });
  });
  afterAll(async () => {
    await jobs?.close();
    await Promise.all([first?.stop(), second?.stop()]);
    await truth?.close();
  });

  it("refunds every paid member exactly once after a restart", async () => {
    const call = httpClient(first.url);
    const buyer = groupBuyer(call);
    const admin = await adminToken(services.databaseUrl);
    const p = await makeProduct(call, admin, { priceFen: 5000, stock: 100 }, "Porcelain cup");
    const activity = (await call<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: MEMBERS + 1, groupPriceFen: 3900 } })).body;
    const leader = await buyer.user("Leader");
    const groupId = (await buyer.open(leader.token, activity.id)).body.group.id;
    expect(await buyer.pay(leader.token, groupId)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(groupId)).status === "open", "the group opens");
    for (let i = 1; i < MEMBERS; i++) {
      const m = await buyer.user(`Member${i}`);
      await buyer.join(m.token, groupId);
      expect(await buyer.pay(m.token, groupId)).toBe("requestPayment:ok");
    }
    await truth.until(async () => (await truth.members(groupId)).filter((m) => m.status === "paid").length === MEMBERS, "all paid");

    await truth.expireNow(groupId);
    expect(await jobs.runNow("group.expire", groupId)).toBe(true);
    const sandboxRefunds = async () => (await truth.orders(groupId)).reduce((n, o) => n + o.sandbox_refunds, 0);
    await truth.until(async () => (await sandboxRefunds()) >= 1, "the first refund");
    await first.kill();
    const doneBeforeKill = await sandboxRefunds();
    expect(doneBeforeKill).toBeGreaterThanOrEqual(1);
    expect(doneBeforeKill).toBeLessThan(MEMBERS);

    second = await spawnServer(services.databaseUrl, services.redisPrefix, env);
    await truth.until(async () => (await truth.orders(groupId)).every((o) => o.status === "refunded"), "every refund after the restart", 60_000);
    for (const o of await truth.orders(groupId)) {
      expect(o).toMatchObject({ status: "refunded", refunds: 1, sandbox_refunds: 1, refunded_fen: 3900 });
    }
    expect((await truth.group(groupId)).status).toBe("failed");
  }, 120_000);
});
