// Case 19: the last place of a group, rushed by 40 buyers at once through two nodes, in both group
// flows (the leader pays first; everyone joins first and pays once full). Exactly one gets it; the
// others are told GROUP_FULL and hold nothing; a double tap is the same place; the group completes.
import { expect } from "vitest";
import { adminToken } from "../support/admin.js";
import { httpClient, makeProduct } from "../support/http.js";
import { groupBuyer, groupTruth, type Placed } from "../support/groups.js";
import { spawnServer, type SpawnedServer } from "../support/servers.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";

const RUSHERS = 40;
const STOCK = 100;
const DOUBLE_TAPS = 6;

const ctx = useCaseServer();

faultCase(19, "last-slot group join (race)", async (log) => {
  const { server: a, services } = ctx;
  let b: SpawnedServer | null = null;
  const truth = groupTruth(services.databaseUrl);
  try {
    b = await spawnServer(services.databaseUrl, services.redisPrefix, {}, 60_000);
    const nodes = [httpClient(a.url), httpClient(b.url)];
    const buyerA = groupBuyer(nodes[0]!);
    const admin = await adminToken(services.databaseUrl);

    for (const flow of ["leader_pays", "join_first"] as const) {
      const p = await makeProduct(nodes[0]!, admin, { priceFen: 9900, stock: STOCK }, `Tea set (${flow})`);
      const activity = (await nodes[0]!<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: 3, groupPriceFen: 6900, windowSec: 3600, flow } })).body;
      /** A group of 3 with its leader and a second member in (and paid, when the leader pays first). */
      const groupWithOneLeft = async () => {
        const leader = await buyerA.user("Leader");
        const second = await buyerA.user("Second");
        const groupId = (await buyerA.open(leader.token, activity.id)).body.group.id;
        if (flow === "leader_pays") {
          expect(await buyerA.pay(leader.token, groupId)).toBe("requestPayment:ok");
          await truth.until(async () => (await truth.group(groupId)).status === "open", "the group opens");
        }
        expect((await buyerA.join(second.token, groupId)).status).toBe(200);
        if (flow === "leader_pays") expect(await buyerA.pay(second.token, groupId)).toBe("requestPayment:ok");
        return { groupId, leader, second };
      };
      const stockBefore = (await truth.sql<{ stock: number }[]>`select stock from skus where id = ${p.skuId}`)[0]!.stock;
      const { groupId, leader, second } = await groupWithOneLeft();
      const rushers = await Promise.all(Array.from({ length: RUSHERS }, (_, i) => groupBuyer(nodes[i % 2]!).user(`Rusher${i}`)));

      // Every rusher taps at once, alternating nodes; the first taps twice (a double tap on each node).
      const taps = rushers.flatMap((u, i) => (i === 0 ? [0, 1].map((n) => ({ u, n })) : [{ u, n: i % 2 }]));
      const results = await Promise.all(taps.map(({ u, n }) => groupBuyer(nodes[n]!).join(u.token, groupId).then((r) => ({ ...r, userId: u.userId }))));
      log.injected(`${flow}: ${RUSHERS} buyers tapped join on the last of 3 places at once, split over two nodes, one of them twice`);

      const won = results.filter((r) => r.status === 200);
      const winners = new Set(won.map((r) => r.userId));
      expect(winners.size).toBe(1);
      expect(new Set(won.map((r) => (r.body as Placed).order.id)).size).toBe(1);
      const losers = results.filter((r) => r.status !== 200);
      expect(new Set(losers.map((r) => `${r.status} ${r.body.code}`))).toEqual(new Set(["409 GROUP_FULL"]));
      expect(losers.every((r) => !winners.has(r.userId))).toBe(true);
      const members = await truth.members(groupId);
      expect(members).toHaveLength(3);
      expect(new Set(members.map((m) => m.user_id)).size).toBe(3);
      const orders = await truth.orders(groupId);
      expect(orders.filter((o) => o.status !== "cancelled")).toHaveLength(3);
      const [sku] = await truth.sql<{ stock: number }[]>`select stock from skus where id = ${p.skuId}`;
      expect(sku!.stock).toBe(stockBefore - 3);
      const [losersOrders] = await truth.sql<{ n: number }[]>`select count(*)::int as n from orders where user_id = any(${losers.map((r) => r.userId)})`;
      expect(losersOrders!.n).toBe(0);
      log.checked(`${flow}: one winner, ${losers.length} answered 409 GROUP_FULL holding no order; 3 members, 3 live orders, stock ${stockBefore} → ${sku!.stock}`);

      const winner = rushers.find((u) => winners.has(u.userId))!;
      const payers = flow === "leader_pays" ? [winner] : [leader, second, winner];
      for (const u of payers) expect(await buyerA.pay(u.token, groupId)).toBe("requestPayment:ok");
      await truth.until(async () => (await truth.group(groupId)).status === "complete", "the group completes");
      expect((await truth.members(groupId)).map((m) => m.status)).toEqual(["paid", "paid", "paid"]);
      log.checked(`${flow}: after paying, the group is complete with its 3 members paid`);

      // One buyer's double tap on the last place, each tap on another node, in a few fresh groups.
      const doubles = await Promise.all(
        Array.from({ length: DOUBLE_TAPS }, async () => {
          const g = await groupWithOneLeft();
          const u = await buyerA.user("Double");
          const [x, y] = await Promise.all([groupBuyer(nodes[0]!).join(u.token, g.groupId), groupBuyer(nodes[1]!).join(u.token, g.groupId)]);
          return { x, y, members: (await truth.members(g.groupId)).length };
        }),
      );
      for (const { x, y, members } of doubles) {
        expect([x.status, y.status]).toEqual([200, 200]);
        expect(x.body.order.id).toBe(y.body.order.id);
        expect(members).toBe(3);
      }
      log.injected(`${flow}: in ${DOUBLE_TAPS} more groups, one buyer tapped the last place twice at once, once on each node`);
      log.checked(`${flow}: both taps answered 200 with the same place every time (never GROUP_FULL for one's own place)`);
    }
  } finally {
    await b?.stop();
    await truth.close();
  }
});
