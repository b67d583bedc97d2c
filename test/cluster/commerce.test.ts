// Commerce across three nodes on a Redis Cluster: a flash sale rushed through all three sells its
// quantity exactly, each payment timer (BullMQ on the cluster, workers on every node) fires once;
// a group filled from three nodes completes once, seen once by every node's room and watchers.
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { connectRedis, createRedisClient, type RedisClient } from "../../src/redis/connect.js";
import { redisKeys } from "../../src/redis/keys.js";
import { adminToken } from "../support/admin.js";
import { devSession, devStream, WsClient, waitFor, waitUntil } from "../support/clients.js";
import { flashTruth } from "../support/flash.js";
import { groupBuyer, groupTruth, type Progress } from "../support/groups.js";
import { httpClient, makeProduct } from "../support/http.js";
import type { SpawnedServer } from "../support/servers.js";
import { useTestServices } from "../support/services.js";
import { useRedisCluster } from "./support/cluster.js";
import { closesByOrder, flashSaleWhere, rushAcross } from "./support/commerce.js";
import { counterSum, startNodes } from "./support/nodes.js";
import { RoomViewer } from "./support/viewer.js";

const PAY_TIMEOUT_SEC = 20;


describe("commerce across three nodes on a Redis Cluster", () => {
  const local = useRedisCluster();
  const services = useTestServices();
  let nodes: SpawnedServer[];
  let redis: RedisClient;

  beforeAll(async () => {
    nodes = await startNodes(local.cluster, services, 3, { COUNTS_INTERVAL_MS: "250", ORDER_PAY_TIMEOUT_SEC: String(PAY_TIMEOUT_SEC) });
    redis = await connectRedis(local.cluster.target, "test", "commerce", createLogger("silent", "t"), { commandTimeoutMs: 5000 });
  }, 180_000);
  afterAll(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    redis?.disconnect();
  });

  it("a flash sale rushed through three nodes: sold exactly, never oversold, each payment timer fires once", async () => {
    const sale = await flashSaleWhere(nodes[0]!.url, services.databaseUrl, { quantity: 90, limit: 2, buyers: 60, wanted: () => Promise.resolve(true) });
    const truth = flashTruth(services.databaseUrl, services.redisPrefix, redis);
    const attempts = await rushAcross(nodes, sale, { workers: 12, tag: "r", stop: () => false });
    const ok = attempts.filter((a) => a.status === 201);
    // Every node sold, and every answer was an order or a refusal.
    for (const n of [0, 1, 2]) expect(ok.some((a) => a.node === n), `node ${n} sold`).toBe(true);
    expect(attempts.filter((a) => a.status !== 201 && !(a.status === 409 && ["SOLD_OUT", "LIMIT_EXCEEDED"].includes(a.code!))).map((a) => `${a.status} ${a.code}`)).toEqual([]);
    const t = await truth.agreed(sale.saleId);
    expect(t.sale.sold).toBe(sale.quantity);
    expect(t.units).toBe(sale.quantity);
    expect(ok).toHaveLength(t.orders.length);
    expect(t.gateLeft).toBe(0);
    expect(Math.max(...t.perUser.values())).toBeLessThanOrEqual(sale.limit);

    // The timers waiting in BullMQ (on the cluster): each order is in exactly one.
    const connection = createRedisClient(local.cluster.target, { name: "test-jobs", nodeId: "t" });
    const queue = new Queue("order", { connection, prefix: redisKeys(services.redisPrefix).jobs });
    const timers = await queue.getDelayed();
    const covered = timers.flatMap((j) => ((j.data as { orderIds?: string[]; orderId?: string }).orderIds ?? [(j.data as { orderId: string }).orderId]));
    expect([...covered].sort()).toEqual(t.orders.map((o) => o.id).sort());
    const doneBefore = await counterSum(nodes, "pinlive_jobs_run_total", { outcome: "done" });

    // At the deadline every order is closed, by one run of its timer, on whichever node took it.
    await waitUntil(async () => (await truth.read(sale.saleId)).orders.every((o) => o.status === "cancelled"), "every unpaid order closed", (PAY_TIMEOUT_SEC + 30) * 1000);
    await waitFor(() => t.orders.every((o) => closesByOrder(nodes).has(o.id)), "every close logged", 10_000).catch(() => {});
    const closes = closesByOrder(nodes);
    expect(t.orders.filter((o) => closes.get(o.id) !== 1).map((o) => o.id)).toEqual([]);
    await waitUntil(async () => (await counterSum(nodes, "pinlive_jobs_run_total", { outcome: "done" })) - doneBefore >= timers.length, "every timer's run counted", 10_000);
    const runs = async (kind: string) => counterSum(nodes, "pinlive_jobs_run_total", { kind, outcome: "done" });
    const batchTimers = timers.filter((j) => j.name === "order.timeouts").length;
    expect((await runs("order.timeouts")) + (await runs("order.timeout"))).toBe(timers.length);
    expect(await runs("order.timeouts")).toBe(batchTimers);
    const end = await truth.agreed(sale.saleId);
    expect(end.sale.sold).toBe(0);
    expect(end.gateLeft).toBe(sale.quantity);
    await queue.close();
    connection.disconnect();
    await truth.close();
  });

  it("a group filled from three nodes completes once, and every node's room and watchers see it once", async () => {
    const calls = nodes.map((n) => httpClient(n.url));
    const admin = await adminToken(services.databaseUrl);
    const host = await devSession(nodes[0]!.url, "Host");
    const streamId = await devStream(nodes[0]!.url, host.token);
    const p = await makeProduct(calls[0]!, admin, { priceFen: 9900, stock: 100 }, "Longjing tea");
    await calls[0]!("PUT", `/v1/streams/${streamId}/products`, { token: host.token, body: { productIds: [p.productId] } });
    const activity = await calls[0]!<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, streamId, groupSize: 3, groupPriceFen: 6900, windowSec: 3600 } });
    expect(activity.status).toBe(201);
    const truth = groupTruth(services.databaseUrl);
    const buyers = calls.map((c) => groupBuyer(c));
    const viewers = nodes.map((_, i) => new RoomViewer(() => nodes.map((n) => n.ws), `/live-stream/${streamId}/ws`, i));
    await Promise.all(viewers.map((v) => v.connect()));

    // The leader opens and pays on node 0, the others join and pay on nodes 1 and 2.
    const leader = await buyers[0]!.user("Leader");
    const opened = await buyers[0]!.open(leader.token, activity.body.id);
    expect(opened.status).toBe(201);
    const groupId = opened.body.group.id;
    const watchers = await Promise.all(nodes.map((n) => WsClient.connect(`${n.ws}/group-buy/${groupId}/ws`)));
    await Promise.all(watchers.map((w) => w.next("group_progress")));
    expect(await buyers[0]!.pay(leader.token, groupId)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(groupId)).status === "open", "the group opens");
    for (const i of [1, 2]) {
      const member = await buyers[i]!.user(`Member${i}`);
      expect((await buyers[i]!.join(member.token, groupId)).status).toBe(200);
      expect(await buyers[i]!.pay(member.token, groupId)).toBe("requestPayment:ok");
    }

    const completes = (frames: { type: string; group?: unknown }[]) => frames.filter((f) => f.type === "group_complete" && (f.group as Progress).id === groupId).length;
    await waitFor(() => viewers.every((v) => completes(v.pushes) >= 1) && watchers.every((w) => completes(w.frames) >= 1), "group_complete on every node", 30_000);
    // Give a second completion every chance to show up before judging.
    await new Promise((r) => setTimeout(r, 1500));
    for (const v of viewers) expect(completes(v.pushes)).toBe(1);
    for (const w of watchers) expect(completes(w.frames)).toBe(1);
    expect((await truth.group(groupId)).status).toBe("complete");
    const members = await truth.members(groupId);
    expect(members.map((m) => m.status)).toEqual(["paid", "paid", "paid"]);
    for (const v of viewers) v.close();
    for (const w of watchers) w.close();
    await truth.close();
  });
});
