// Case 20: the last buyer's join (and payment) racing the group's expiry job, in both flows. Each
// group ends one way: complete with every member paid, or failed with every charge refunded once and
// every hold released; a join after the deadline is GROUP_CLOSED and leaves nothing behind.
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, expect } from "vitest";
import { createJobs, type Jobs } from "../../src/jobs/jobs.js";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics.js";
import { redisKeys } from "../../src/redis/keys.js";
import { adminToken } from "../support/admin.js";
import { sleep } from "../support/clients.js";
import { redisUrl } from "../support/env.js";
import { groupBuyer, groupTruth } from "../support/groups.js";
import { httpClient, makeProduct } from "../support/http.js";
import { faultCase } from "./fault-case.js";
import { useCaseServer } from "./app-support/case-server.js";

const ROUNDS = 10;
const STOCK = 100;
/** WeChat took the buyer's money for this order (it may have been refunded since). */
const charged = (o: { sandbox_state: string | null }) => o.sandbox_state === "SUCCESS" || o.sandbox_state === "REFUND";

const ctx = useCaseServer({ GROUP_HOLD_SEC: "30" });
let jobs: Jobs;
beforeAll(() => {
  // The case runs the expiry job at the moment it chooses, as an admin's "expire now" would.
  jobs = createJobs({ redis: { url: redisUrl, cluster: null }, prefix: redisKeys(ctx.services.redisPrefix).jobs, nodeId: "fault-20", log: createLogger("silent", "fault-20"), metrics: createMetrics(), work: false, concurrency: 1, lockMs: 5000 });
});
afterAll(async () => {
  await jobs?.close();
});

faultCase(20, "group join versus expiry", async (log) => {
  const { server, services } = ctx;
  const call = httpClient(server.url);
  const buyer = groupBuyer(call);
  const truth = groupTruth(services.databaseUrl);
  try {
    const admin = await adminToken(services.databaseUrl);
    for (const flow of ["leader_pays", "join_first"] as const) {
      const p = await makeProduct(call, admin, { priceFen: 9900, stock: STOCK }, `Pot (${flow})`);
      const activity = (await call<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: 2, groupPriceFen: 6900, windowSec: 3600, flow } })).body;
      const answers = { joined: 0, closed: 0 };
      const race = async () => {
        const leader = await buyer.user("Leader");
        const last = await buyer.user("Last");
        const groupId = (await buyer.open(leader.token, activity.id)).body.group.id;
        if (flow === "leader_pays") {
          expect(await buyer.pay(leader.token, groupId)).toBe("requestPayment:ok");
          await truth.until(async () => (await truth.group(groupId)).status === "open", "the group opens");
        }
        // The group's deadline comes in a moment; the last buyer taps around it, the expiry job runs right after it.
        const inMs = randomInt(100, 400);
        await truth.sql`update groups set expires_at = now() + make_interval(secs => ${inMs / 1000}) where id = ${groupId}`;
        const tap = (async () => {
          await sleep(randomInt(0, inMs + 300));
          const joined = await buyer.join(last.token, groupId);
          if (joined.status !== 200) {
            expect(joined.body.code).toBe("GROUP_CLOSED");
            answers.closed++;
            return;
          }
          answers.joined++;
          const payers = flow === "leader_pays" ? [last] : [leader, last];
          await Promise.all(payers.map((u) => buyer.payParams(u.token, groupId).then((params) => (params.status === 200 ? call("POST", "/sandbox/wechat/pay", { body: params.body }) : null))));
        })();
        const expiry = (async () => {
          await sleep(inMs + randomInt(0, 150));
          // No job waiting: the group completed first (its expiry is then unscheduled).
          if (!(await jobs.runNow("group.expire", groupId))) expect((await truth.group(groupId)).status).toBe("complete");
        })();
        await Promise.all([tap, expiry]);
        await truth.until(
          async () => {
            const g = await truth.group(groupId);
            const orders = await truth.orders(groupId);
            if (g.status === "complete") return orders.every((o) => o.status === "paid");
            if (g.status !== "failed") return false;
            // A charge is settled once WeChat refunded it and our books say so (the refund's own notification came).
            return orders.every((o) => (charged(o) ? o.sandbox_refunds === 1 && o.refunded_fen === o.total_fen : o.status === "cancelled"));
          },
          `group ${groupId} settles`,
          30_000,
        );
        return { groupId, lastUser: last.userId };
      };
      const groups = await Promise.all(Array.from({ length: ROUNDS }, race));
      log.injected(`${flow}: in ${ROUNDS} groups one place from full, the deadline was set 0.1–0.4 s ahead, the last buyer tapped join (and paid) anywhere from then to 0.3 s past it, and the expiry job ran just after it`);

      const outcomes = { complete: 0, failed: 0 };
      for (const { groupId, lastUser } of groups) {
        const g = await truth.group(groupId);
        const orders = await truth.orders(groupId);
        const members = await truth.members(groupId);
        if (g.status === "complete") {
          expect(orders.map((o) => [o.status, o.refunds, o.sandbox_refunds])).toEqual([
            ["paid", 0, 0],
            ["paid", 0, 0],
          ]);
          expect(members.map((m) => m.user_id)).toContain(lastUser);
        } else {
          expect(g.status).toBe("failed");
          for (const o of orders) {
            expect(o.status).not.toBe("pending_payment");
            expect([o.refunds, o.sandbox_refunds]).toEqual(charged(o) ? [1, 1] : [0, 0]);
            if (charged(o)) expect(o.refunded_fen).toBe(o.total_fen);
          }
        }
        outcomes[g.status as "complete" | "failed"]++;
      }
      const [sku] = await truth.sql<{ stock: number }[]>`select stock from skus where id = ${p.skuId}`;
      expect(sku!.stock).toBe(STOCK - 2 * outcomes.complete);
      log.checked(
        `${flow}: ${answers.joined} joins answered 200, ${answers.closed} GROUP_CLOSED; complete: ${outcomes.complete} (both members paid, no refund), failed: ${outcomes.failed} (every charge refunded once in full, no hold left); stock ${STOCK} → ${sku!.stock} (2 per complete group)`,
      );
    }
  } finally {
    await truth.close();
  }
}, 150_000);
