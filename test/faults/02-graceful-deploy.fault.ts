import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { sleep, waitUntil } from "../support/clients.js";
import type { SpawnedServer } from "../support/servers.js";
import { faultCase } from "./fault-case.js";
import { Balancer } from "./support/balancer.js";
import { watchJobs } from "./support/jobs-watch.js";
import { viewerProblems } from "./support/room-checks.js";
import { liveRoom } from "./support/live-room.js";
import { faultServices } from "./support/services.js";
import { buyer, product, shopTruth } from "./support/shop.js";

const STOCK = 10_000;
const VIEWERS = 8;
/** Orders placed during the deploy come due during it too. */
const env = { ORDER_PAY_TIMEOUT_SEC: "3", SHUTDOWN_GRACE_MS: "5000", ORDER_MAX_UNPAID_PER_USER: "1000" };

faultCase(2, "graceful deploy, both nodes in turn", async (log, ctx) => {
  const s = await faultServices(ctx, { env });
  const [a, b] = await Promise.all([s.spawn(), s.spawn()]);
  const lb = new Balancer([a, b]);
  const { skuId } = await product(a.url, s.databaseUrl, { priceFen: 1200, stock: STOCK });
  const buyers = await Promise.all([0, 1, 2].map((i) => buyer(a.url, `buyer${i}`)));
  const jobs = await watchJobs(s.redisUrl, s.redisPrefix, ["order"]);
  s.defer(() => jobs.close());
  const room = await liveRoom(a.url, { viewers: VIEWERS, viewerNode: () => () => lb.pick("ws"), hostNode: () => lb.pick("ws"), everyMs: 40 });
  const { viewers, sender, epoch } = room;

  // Traffic through the balancer for as long as the deploy lasts: reads, and orders with keys.
  let running = true;
  const placed: string[] = [];
  const traffic = [
    ...Array.from({ length: 2 }, async () => {
      while (running) await lb.request("GET", "/v1/products", { token: buyers[0]!.token });
    }),
    ...buyers.map(async (u) => {
      while (running) {
        const r = await lb.request<{ id: string }>("POST", "/v1/orders", { token: u.token, key: randomUUID(), body: { items: [{ skuId, quantity: 1 }], addressId: u.addressId } });
        if (r?.status === 201) placed.push(r.body.id);
        await sleep(150);
      }
    }),
  ];

  const stopped: SpawnedServer[] = [];
  /** What the stopped nodes logged at warn or worse (why a request failed, when one did). */
  const stoppedWarnings = () => stopped.flatMap((n) => n.output().split("\n").filter((l) => /"level":(40|50|60)/.test(l)).map((l) => `${n.url} ${l.slice(0, 300)}`)).join("\n");
  const events: string[] = [];
  /** SIGTERM, wait for the exit, then a fresh process in the same slot. */
  async function redeploy(slot: number, name: string) {
    const old = lb.nodes[slot]!;
    stopped.push(old);
    await sleep(1000);
    events.push(`${Date.now()} SIGTERM ${old.url}`);
    await old.stop();
    events.push(`${Date.now()} exited ${old.url}`);
    expect(old.exitCode(), `${name} exits 0 after draining`).toBe(0);
    expect(old.output()).toMatch(/"msg":"stopped"/);
    lb.nodes[slot] = null;
    const fresh: SpawnedServer = await s.spawn();
    lb.nodes[slot] = fresh;
    events.push(`${Date.now()} started ${fresh.url}`);
  }
  await redeploy(0, "A");
  await redeploy(1, "B");
  log.injected("SIGTERM to node A, a new A, then SIGTERM to node B and a new B, under reads, orders with keys, a live room and order timers coming due");
  await sleep(1000);
  running = false;
  await Promise.all(traffic);
  sender.pause();

  expect(lb.serverErrors(), stoppedWarnings()).toEqual([]);
  expect(lb.unanswered).toEqual([]);
  log.checked(`${lb.answers.length} HTTP answers, none 5xx (${lb.retried} refused connections sent again to the other node)`);

  await Promise.all(viewers.map((v) => v.reached(sender.lastSeq)));
  const closes = viewers.flatMap((v) => v.closeCodes);
  expect(closes.length).toBeGreaterThanOrEqual(VIEWERS);
  expect(new Set(closes), JSON.stringify(viewers.flatMap((v) => v.closes)) + "\n" + events.join("\n") + "\n" + stoppedWarnings()).toEqual(new Set([4001]));
  for (const v of viewers) expect(viewerProblems(v, sender.acked, epoch)).toEqual([]);
  log.checked(`${closes.length} viewer sockets closed with a close frame (4001 SERVER_SHUTDOWN); every viewer reconnected and holds all ${sender.acked.length} acknowledged comments, no gap`);

  const truth = shopTruth(s.databaseUrl);
  s.defer(() => truth.close());
  await waitUntil(async () => (await truth.pending()).length === 0, "every order's timer fired", 30_000);
  const rows = await truth.orders();
  expect(rows.map((r) => r.id).sort()).toEqual([...new Set(placed)].sort());
  expect(rows.every((r) => r.status === "cancelled" && r.cancel_reason === "payment timeout")).toBe(true);
  expect(await truth.stock(skuId)).toBe(STOCK);
  expect(jobs.completed, "the job watcher saw the timers run").toBeGreaterThan(0);
  expect(jobs.stalled).toEqual([]);
  log.checked(`${placed.length} orders answered 201 exist once each, all closed by their timer with the stock back exactly once; 0 stalled jobs`);

  room.close();
});
