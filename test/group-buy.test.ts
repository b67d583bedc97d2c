// Group buying (拼团): seed 003's page, atomic fill under a rush, lapsed holds, expiry refunds, the last join racing the deadline.
import postgres from "postgres";
import { io as ioClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, sleep, WsClient, type Frame } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { payInSandbox } from "./support/wechat.js";
import { groupBuyer, groupTruth, type Progress } from "./support/groups.js";

/**
 * Longer than any test takes on a loaded machine: no place lapses by itself while a buyer is still
 * on the way to paying. The lapse test brings its hold's deadline forward and runs the hold's timer.
 */
const HOLD_SEC = 600;
/** WeChat took the buyer's money for this order (it may have been refunded since). */
const charged = (o: { sandbox_state: string | null }) => o.sandbox_state === "SUCCESS" || o.sandbox_state === "REFUND";

describe("group buying", () => {
  let server: TestServer;
  let call: HttpClient;
  let admin: string;
  let buyer: ReturnType<typeof groupBuyer>;
  let truth: ReturnType<typeof groupTruth>;
  const services = useTestServices();

  beforeAll(async () => {
    server = await startTestServer(services.databaseUrl, services.redisPrefix, { GROUP_HOLD_SEC: String(HOLD_SEC) });
    call = httpClient(server.url);
    admin = await adminToken(services.databaseUrl);
    buyer = groupBuyer(call);
    truth = groupTruth(services.databaseUrl);
  });
  afterAll(async () => {
    await server?.stop();
    await truth?.close();
  });

  async function activity(size: number, opts: { streamId?: string; hostToken?: string; stock?: number } = {}) {
    const p = await makeProduct(call, admin, { priceFen: 9900, stock: opts.stock ?? 1000 }, "Longjing tea");
    if (opts.streamId) await call("PUT", `/v1/streams/${opts.streamId}/products`, { token: opts.hostToken, body: { productIds: [p.productId] } });
    const a = await call<{ id: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, streamId: opts.streamId, groupSize: size, groupPriceFen: 6900, windowSec: 3600 } });
    expect(a.status).toBe(201);
    return { ...p, activityId: a.body.id };
  }

  /** A group whose leader and `paid - 1` members have paid. */
  async function groupWithPaid(activityId: string, paid: number) {
    const leader = await buyer.user("Leader");
    const opened = await buyer.open(leader.token, activityId);
    expect(opened.status).toBe(201);
    const groupId = opened.body.group.id;
    expect(await buyer.pay(leader.token, groupId)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(groupId)).status === "open", "the group opens");
    // The expiry's timer is set after the commit that opened the group: the tests that run it now wait for it.
    await truth.until(async () => (await server.app.jobs.scheduledAt("group.expire", groupId)) !== null, "the group's expiry timer");
    const members = [leader];
    for (let i = 1; i < paid; i++) {
      const m = await buyer.user(`Member${i}`);
      expect((await buyer.join(m.token, groupId)).status).toBe(200);
      expect(await buyer.pay(m.token, groupId)).toBe("requestPayment:ok");
      members.push(m);
    }
    await truth.until(async () => (await buyer.detail(groupId)).body.group.paid === paid, `${paid} paid`);
    return { groupId, members };
  }

  it("runs seed 003's group page: create, join, pay; the room and the group's watchers see every step", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const a = await activity(3, { streamId, hostToken: host.token });
    const room = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await room.next("snapshot");

    const leader = await buyer.user("Leader");
    // The page sends its own size, duration and creator: the server takes them from the activity and the session.
    const created = await call<{ groupId: string; orderId: string; order: { payDeadline: string } }>("POST", "/api/group-buy/create", { token: leader.token, body: { productId: a.productId, maxParticipants: 99, duration: 1000, creatorId: "someone-else" } });
    expect(created.status).toBe(201);
    const groupId = created.body.groupId;
    const page = await call<Record<string, unknown> & { participants: { userId: string }[] }>("GET", `/api/group-buy/${groupId}`);
    // endTime is always there: a pending leader-pays group ends when its leader's hold does.
    expect(page.body).toMatchObject({ maxParticipants: 3, creatorId: leader.userId, endTime: created.body.order.payDeadline, productId: a.productId, productName: "Longjing tea", status: "pending" });
    expect(page.body.participants.map((p) => p.userId)).toEqual([leader.userId]);
    const early = await buyer.user("Early");
    expect((await call("POST", `/api/group-buy/${groupId}/join`, { token: early.token, body: {} })).body).toMatchObject({ code: "GROUP_CLOSED" });

    const watcher = await WsClient.connect(`${server.ws}/group-buy/${groupId}/ws`);
    // A browser (the host console) watches the same group over socket.io.
    const console_ = ioClient(server.url, { transports: ["websocket"], auth: { streamId }, reconnection: false });
    const consoleSeen: { type: string; group: Progress }[] = [];
    for (const type of ["group_progress", "group_complete", "group_failed"]) console_.on(type, (m: { group: Progress }) => consoleSeen.push({ type, group: m.group }));
    const watched = await new Promise<{ type: string; group: Progress }>((resolve) => console_.emit("watch_group", { groupId }, resolve));
    expect(watched).toMatchObject({ type: "group_progress", group: { id: groupId, status: "pending" } });
    expect((await watcher.next("group_progress")).group).toMatchObject({ id: groupId, status: "pending", taken: 1, size: 3 });
    const params = await call<Record<string, string>>("POST", `/api/group-buy/${groupId}/payment`, { token: leader.token });
    expect(params.body).toMatchObject({ signType: "RSA", package: expect.stringMatching(/^prepay_id=/) as string });
    expect(await payInSandbox(call, params.body)).toBe("requestPayment:ok");
    await room.until((f) => f.some((x) => x.type === "group_progress" && (x.group as Progress).status === "open"), 10_000, "the group opens in the room");
    const opened = (await call<{ endTime: string }>("GET", `/api/group-buy/${groupId}`)).body;
    expect(Date.parse(opened.endTime)).toBeGreaterThan(Date.now() + 3500_000);
    // Someone entering the room now sees the open group in the snapshot.
    const entering = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    expect(((await entering.next("snapshot")).state as { groups: Progress[] }).groups).toEqual([expect.objectContaining({ id: groupId, status: "open", paid: 1, left: 2 })]);
    entering.close();

    const second = await buyer.user("Second");
    const j2 = await call<{ success: boolean; groupComplete: boolean }>("POST", `/api/group-buy/${groupId}/join`, { token: second.token, body: { userId: "ignored" } });
    expect(j2.body).toMatchObject({ success: true, groupComplete: false });
    expect(await buyer.pay(second.token, groupId)).toBe("requestPayment:ok");
    const third = await buyer.user("Third");
    const j3 = await call<{ success: boolean; groupComplete: boolean }>("POST", `/api/group-buy/${groupId}/join`, { token: third.token, body: {} });
    expect(j3.body).toMatchObject({ success: true, groupComplete: true });
    expect((await call<{ canJoin: boolean }>("GET", `/api/group-buy/${groupId}`, { token: early.token })).body.canJoin).toBe(false);
    expect(await buyer.pay(third.token, groupId)).toBe("requestPayment:ok");

    for (const c of [room, watcher]) await c.until((f) => f.some((x) => x.type === "group_complete" && (x.group as Progress).id === groupId), 10_000, "group_complete");
    await truth.until(() => Promise.resolve(consoleSeen.some((m) => m.type === "group_complete")), "socket.io group_complete");
    console_.close();
    const steps = watcher.frames.filter((f: Frame) => f.type.startsWith("group_")).map((f) => (f.group as Progress).paid);
    expect(steps.at(-1)).toBe(3);
    expect((await truth.group(groupId)).status).toBe("complete");
    for (const m of await truth.members(groupId)) expect(m.status).toBe("paid");
    // A complete group's orders ship; the snapshot no longer lists it as open.
    const order = (await truth.members(groupId))[0]!.order_id;
    expect((await call("POST", `/v1/admin/orders/${order}/ship`, { token: admin, body: { courier: "SF", trackingNo: "SF1000001" } })).status).toBe(200);
    const late = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    expect(((await late.next("snapshot")).state as { groups: Progress[] }).groups.map((g) => g.id)).not.toContain(groupId);
    for (const c of [room, watcher, late]) c.close();
  });

  it("50 concurrent joins for the last place: exactly one member joins; a double join is harmless", async () => {
    const a = await activity(3);
    const { groupId } = await groupWithPaid(a.activityId, 2);
    const listed = await call<Progress[]>("GET", `/v1/products/${a.productId}/groups`);
    expect(listed.body).toEqual([expect.objectContaining({ id: groupId, taken: 2, left: 1 })]);
    const rushers = await Promise.all(Array.from({ length: 50 }, (_, i) => buyer.user(`Rusher${i}`)));
    const results = await Promise.all(rushers.flatMap((u, i) => (i === 0 ? [buyer.join(u.token, groupId), buyer.join(u.token, groupId)] : [buyer.join(u.token, groupId)])));
    const ok = results.filter((r) => r.status === 200);
    const winners = new Set(ok.map((r) => r.body.order.id));
    expect(winners.size).toBe(1);
    expect(ok[0]!.body.order).toMatchObject({ groupId, status: "pending_payment", totalFen: 6900 });
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.body.code === "GROUP_FULL")).toBe(true);
    const winner = rushers.find((u) => results.some((r, i) => r.status === 200 && (i <= 1 ? rushers[0] : rushers[i - 1]) === u))!;
    // Joining again (a retry) answers with the same place.
    const again = await buyer.join(winner.token, groupId);
    expect(again.body.order.id).toBe([...winners][0]);
    expect(await buyer.pay(winner.token, groupId)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(groupId)).status === "complete", "complete");
    const members = await truth.members(groupId);
    expect(members).toHaveLength(3);
    expect(new Set(members.map((m) => m.user_id)).size).toBe(3);
    expect(members.every((m) => m.status === "paid")).toBe(true);
  });

  it("frees a place whose payment hold lapsed (WeChat's transaction is closed with it); ships only complete groups", async () => {
    const a = await activity(3);
    const { groupId } = await groupWithPaid(a.activityId, 2);
    const slow = await buyer.user("Slow");
    const held = await buyer.join(slow.token, groupId);
    expect(held.body.complete).toBe(true);
    const slowParams = (await call<Record<string, string>>("POST", `/v1/groups/${groupId}/pay`, { token: slow.token })).body;
    const paidOrder = (await truth.members(groupId)).find((m) => m.status === "paid")!.order_id;
    expect((await call("POST", `/v1/admin/orders/${paidOrder}/ship`, { token: admin, body: { courier: "SF", trackingNo: "SF1000002" } })).body).toMatchObject({ code: "ORDER_STATE" });
    const other = await buyer.user("Other");
    expect((await buyer.join(other.token, groupId)).body.code).toBe("GROUP_FULL");
    // The hold has its timer, not due before its deadline; the deadline comes, and the timer closes the hold.
    const slowOrderId = held.body.order.id;
    let timerAt: number | null = null;
    await truth.until(async () => (timerAt = await server.app.jobs.scheduledAt("order.timeout", slowOrderId)) !== null, "the hold's timer");
    expect(timerAt).toBeGreaterThanOrEqual(Date.parse(held.body.order.payDeadline));
    await truth.lapseNow(slowOrderId);
    expect(await server.app.jobs.runNow("order.timeout", slowOrderId)).toBe(true);
    await truth.until(async () => (await buyer.detail(groupId)).body.group.taken === 2, "the hold lapses", 15_000);
    expect(await payInSandbox(call, slowParams)).toBe("requestPayment:fail order is not payable");
    expect((await buyer.join(other.token, groupId)).status).toBe(200);
    expect(await buyer.pay(other.token, groupId)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(groupId)).status === "complete", "complete");
    const slowOrder = (await truth.orders(groupId)).find((o) => o.id === slowOrderId)!;
    expect(slowOrder).toMatchObject({ status: "cancelled", sandbox_state: "CLOSED", refunds: 0 });
  });

  it("refunds every paid member exactly once when the group expires unfilled", async () => {
    const a = await activity(4);
    const { groupId } = await groupWithPaid(a.activityId, 3);
    const holder = await buyer.user("Holder");
    await buyer.join(holder.token, groupId);
    await truth.expireNow(groupId);
    expect(await server.app.jobs.runNow("group.expire", groupId)).toBe(true);
    await truth.until(async () => (await truth.orders(groupId)).filter((o) => o.status === "refunded").length === 3, "three refunds");
    expect((await truth.group(groupId)).status).toBe("failed");
    // Nothing ships: every unit (paid or held) is back on sale.
    const [sku] = await truth.sql<{ stock: number }[]>`select stock from skus where id = ${a.skuId}`;
    expect(sku!.stock).toBe(1000);
    for (const o of await truth.orders(groupId)) {
      if (charged(o)) expect(o).toMatchObject({ status: "refunded", refunds: 1, sandbox_refunds: 1, refunded_fen: o.total_fen });
      else expect(o).toMatchObject({ status: "cancelled", refunds: 0, sandbox_refunds: 0 });
    }
    // The expiry and settle jobs run again (at-least-once): nothing more is refunded.
    await server.app.jobs.schedule("group.settle", groupId, { groupId }, Date.now());
    await server.app.reconcile();
    await new Promise((r) => setTimeout(r, 500));
    for (const o of await truth.orders(groupId)) expect(o.sandbox_refunds).toBeLessThanOrEqual(1);
  });

  it("refunds only the rest of a member an admin already refunded in part, and still refunds everyone else", async () => {
    const a = await activity(3);
    const { groupId } = await groupWithPaid(a.activityId, 2);
    const [first, second] = await truth.members(groupId);
    const partial = await call("POST", `/v1/admin/orders/${first!.order_id}/refund`, { token: admin, headers: { "idempotency-key": `partial-${groupId}` }, body: { amountFen: 900, reason: "scratched box" } });
    expect(partial.status).toBe(200);
    await truth.expireNow(groupId);
    expect(await server.app.jobs.runNow("group.expire", groupId)).toBe(true);
    await truth.until(async () => (await truth.orders(groupId)).every((o) => o.status === "refunded"), "both refunded");
    const byId = new Map((await truth.orders(groupId)).map((o) => [o.id, o]));
    expect(byId.get(first!.order_id)).toMatchObject({ refunds: 2, sandbox_refunds: 2, refunded_fen: 6900 });
    expect(byId.get(second!.order_id)).toMatchObject({ refunds: 1, sandbox_refunds: 1, refunded_fen: 6900 });
  });

  it("the last join racing the expiry, 200 times, always ends in one consistent outcome", async () => {
    const a = await activity(2, { stock: 2000 });
    const outcomes = { complete: 0, failed: 0 };
    const race = async () => {
      const { groupId } = await groupWithPaid(a.activityId, 1);
      const last = await buyer.user("Last");
      expect((await buyer.join(last.token, groupId)).status).toBe(200);
      const params = (await call<Record<string, string>>("POST", `/v1/groups/${groupId}/pay`, { token: last.token })).body;
      await truth.expireNow(groupId);
      // The buyer's tap lands anywhere from before the expiry job starts to after it closed the hold.
      const tapAfterMs = Math.random() * 120;
      const [, expired] = await Promise.all([sleep(tapAfterMs).then(() => payInSandbox(call, params)), server.app.jobs.runNow("group.expire", groupId)]);
      expect(expired).toBe(true);
      // Settled: the group ended, and every charge WeChat holds is either a paid member or refunded once.
      await truth.until(async () => {
        const g = await truth.group(groupId);
        const orders = await truth.orders(groupId);
        if (g.status === "complete") return orders.every((o) => o.status === "paid");
        if (g.status !== "failed") return false;
        return orders.every((o) => (charged(o) ? o.sandbox_refunds === 1 && (o.status === "refunded" || (o.status === "cancelled" && o.refunds === 1)) : o.status === "cancelled"));
      }, `group ${groupId} settles`, 30_000);
      const g = await truth.group(groupId);
      const orders = await truth.orders(groupId);
      if (g.status === "complete") {
        expect(orders.map((o) => [o.status, o.refunds, o.sandbox_refunds])).toEqual([["paid", 0, 0], ["paid", 0, 0]]);
      } else {
        for (const o of orders) {
          expect(o.refunds).toBe(charged(o) ? 1 : 0);
          expect(o.sandbox_refunds).toBe(charged(o) ? 1 : 0);
        }
      }
      outcomes[g.status as "complete" | "failed"]++;
    };
    for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 10 }, race));
    expect(outcomes.complete + outcomes.failed).toBe(200);
    // Stock agrees: two units left for each complete group, every other unit is back on sale.
    const [sku] = await truth.sql<{ stock: number }[]>`select stock from skus where id = ${a.skuId}`;
    expect(sku!.stock).toBe(2000 - 2 * outcomes.complete);
  }, 600_000);

  it("completes a group with simulated members only when asked (admin, or the activity at expiry), and audits it", async () => {
    const a = await activity(4);
    const { groupId } = await groupWithPaid(a.activityId, 2);
    const viewer = await buyer.user("Viewer");
    const reason = "live-room promise: every group ships";
    expect((await call("POST", `/v1/admin/groups/${groupId}/complete`, { token: viewer.token, body: { reason } })).status).toBe(403);
    const done = await call<Progress>("POST", `/v1/admin/groups/${groupId}/complete`, { token: admin, body: { reason } });
    expect(done.body).toMatchObject({ id: groupId, status: "complete", paid: 2 });
    expect(await truth.group(groupId)).toEqual({ status: "complete", simulated: true });
    const sql = postgres(services.databaseUrl, { max: 1, onnotice: () => {} });
    const audit = await sql<{ actor: string; action: string; details: { reason: string } }[]>`select actor, action, details from audit_log where target = ${groupId}`;
    await sql.end();
    expect(audit).toEqual([expect.objectContaining({ action: "group.simulated_complete", details: expect.objectContaining({ reason, paid: 2, size: 4 }) as unknown })]);

    const auto = await activity(3);
    await call("PATCH", `/v1/admin/group-activities/${auto.activityId}`, { token: admin, body: { simulateOnExpiry: true } });
    const expiring = await groupWithPaid(auto.activityId, 1);
    await truth.expireNow(expiring.groupId);
    expect(await server.app.jobs.runNow("group.expire", expiring.groupId)).toBe(true);
    await truth.until(async () => (await truth.group(expiring.groupId)).status !== "open", "the expiry");
    expect(await truth.group(expiring.groupId)).toEqual({ status: "complete", simulated: true });
    expect((await truth.orders(expiring.groupId)).map((o) => o.refunds)).toEqual([0]);
  });

  it("refuses bad input with stable codes", async () => {
    const a = await activity(3);
    const u = await buyer.user("Anyone");
    expect((await call("POST", `/v1/groups/nope/join`, { token: u.token, body: {} })).status).toBe(404);
    expect((await call("POST", `/v1/group-activities/${a.activityId}/groups`, { body: {} })).status).toBe(401);
    expect((await call("POST", "/v1/admin/group-activities", { token: u.token, body: { productId: a.productId, groupSize: 3, groupPriceFen: 100 } })).status).toBe(403);
    const tooDear = await call("POST", "/v1/admin/group-activities", { token: admin, body: { productId: a.productId, groupSize: 3, groupPriceFen: 99_999 } });
    expect(tooDear.body).toMatchObject({ code: "INVALID_PARAMS" });
    expect((await call("POST", "/v1/admin/group-activities", { token: admin, body: { productId: a.productId, groupSize: 1, groupPriceFen: 100 } })).status).toBe(400);
    expect((await call("POST", `/v1/groups/nope/pay`, { token: u.token })).body).toMatchObject({ code: "ORDER_STATE" });
    const noAddress = await devSession(server.url, "No address");
    expect((await call("POST", `/v1/group-activities/${a.activityId}/groups`, { token: noAddress.token, body: {} })).body).toMatchObject({ code: "ADDRESS_REQUIRED" });
  });
});
