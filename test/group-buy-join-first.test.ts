// Join-first group buys (seed 003's page): join, fill, everyone pays; GROUP_NOT_FULL before that; lapsed windows re-open the group; expiry refunds once; the rush for the last place; my groups.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServices } from "./support/services.js";
import { startTestServer, type TestServer } from "./support/servers.js";
import { adminToken } from "./support/admin.js";
import { devSession, devStream, WsClient, type Frame } from "./support/clients.js";
import { httpClient, makeProduct, type HttpClient } from "./support/http.js";
import { payInSandbox } from "./support/wechat.js";
import { groupBuyer, groupTruth, type Participant, type Progress } from "./support/groups.js";

/** A full group's payment window: long enough for a few sequential steps on a busy machine, short enough to wait for. */
const HOLD_SEC = 10;
const WINDOW_SEC = 3600;
const charged = (o: { sandbox_state: string | null }) => o.sandbox_state === "SUCCESS" || o.sandbox_state === "REFUND";
const groupFrames = (c: WsClient, groupId: string) => c.frames.filter((f: Frame) => f.type.startsWith("group_") && (f.group as Progress).id === groupId).map((f) => f.group as Progress);

describe("join-first group buying", () => {
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

  async function activity(size: number, opts: { streamId?: string; hostToken?: string; stock?: number; flow?: string } = {}) {
    const p = await makeProduct(call, admin, { priceFen: 9900, stock: opts.stock ?? 1000 }, "Longjing tea");
    if (opts.streamId) await call("PUT", `/v1/streams/${opts.streamId}/products`, { token: opts.hostToken, body: { productIds: [p.productId] } });
    const a = await call<{ id: string; flow: string }>("POST", "/v1/admin/group-activities", {
      token: admin,
      body: { productId: p.productId, streamId: opts.streamId, groupSize: size, groupPriceFen: 6900, windowSec: WINDOW_SEC, flow: opts.flow ?? "join_first" },
    });
    expect(a.status).toBe(201);
    expect(a.body.flow).toBe(opts.flow ?? "join_first");
    return { ...p, activityId: a.body.id };
  }

  /** A join-first group with `n` members holding places (nobody paid). */
  async function groupOf(activityId: string, n: number) {
    const leader = await buyer.user("Leader");
    const opened = await buyer.open(leader.token, activityId);
    expect(opened.status).toBe(201);
    const groupId = opened.body.group.id;
    const members = [{ ...leader, orderId: opened.body.order.id }];
    for (let i = 1; i < n; i++) {
      const m = await buyer.user(`Member${i}`);
      const j = await buyer.join(m.token, groupId);
      expect(j.status).toBe(200);
      members.push({ ...m, orderId: j.body.order.id });
    }
    return { groupId, members };
  }

  const participant = async (groupId: string, userId: string) => (await buyer.detail(groupId)).body.participants.find((p: Participant) => p.userId === userId);

  it("runs seed 003's page in its own order: create, friends join, full, everyone pays, complete; the room and the watchers see each step", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const a = await activity(3, { streamId, hostToken: host.token });
    const room = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await room.next("snapshot");

    const leader = await buyer.user("Leader");
    const before = Date.now();
    const created = await call<{ groupId: string; orderId: string; group: Progress; order: { payDeadline: string } }>("POST", "/api/group-buy/create", {
      token: leader.token,
      body: { productId: a.productId, maxParticipants: 99, duration: 1000, creatorId: "someone-else" },
    });
    expect(created.status).toBe(201);
    const groupId = created.body.groupId;
    // Open at once, with its deadline; the leader's place is held until then.
    expect(created.body.group).toMatchObject({ status: "open", flow: "join_first", size: 3, taken: 1, paid: 0, left: 2 });
    expect(created.body.group.endsAt).toBeGreaterThanOrEqual(before + WINDOW_SEC * 1000 - 1000);
    expect(Date.parse(created.body.order.payDeadline)).toBe(created.body.group.endsAt);
    const page = await call<Record<string, unknown> & { endTime: string; participants: Participant[] }>("GET", `/api/group-buy/${groupId}`);
    expect(page.body).toMatchObject({ status: "open", maxParticipants: 3, creatorId: leader.userId, canJoin: true, endTime: new Date(created.body.group.endsAt).toISOString() });
    expect(page.body.participants).toEqual([expect.objectContaining({ userId: leader.userId, leader: true, paid: false, payBy: null })]);
    await room.until(() => groupFrames(room, groupId).some((g) => g.taken === 1), 10_000, "the room hears of the new group");

    const watcher = await WsClient.connect(`${server.ws}/group-buy/${groupId}/ws`);
    expect((await watcher.next("group_progress")).group).toMatchObject({ id: groupId, status: "open", taken: 1 });
    // Nobody pays before the group is full, whichever route the page takes.
    expect((await call("POST", `/api/group-buy/${groupId}/payment`, { token: leader.token })).body).toMatchObject({ code: "GROUP_NOT_FULL", details: { left: 2 } });

    const friends = [await buyer.user("Friend1"), await buyer.user("Friend2")];
    const j1 = await call<{ success: boolean; groupComplete: boolean; holdUntil: string }>("POST", `/api/group-buy/${groupId}/join`, { token: friends[0]!.token, body: { userId: "ignored" } });
    expect(j1.body).toMatchObject({ success: true, groupComplete: false });
    expect(Date.parse(j1.body.holdUntil)).toBe(created.body.group.endsAt);
    expect((await call("POST", `/api/group-buy/${groupId}/payment`, { token: friends[0]!.token })).body).toMatchObject({ code: "GROUP_NOT_FULL", details: { left: 1 } });
    const filledAt = Date.now();
    const j2 = await call<{ success: boolean; groupComplete: boolean; holdUntil: string; orderId: string }>("POST", `/api/group-buy/${groupId}/join`, { token: friends[1]!.token, body: {} });
    expect(j2.body).toMatchObject({ success: true, groupComplete: true });
    // Full: every member has the same payment window, and the timers moved with the deadlines.
    const windowEnd = Date.parse(j2.body.holdUntil);
    expect(windowEnd).toBeGreaterThanOrEqual(filledAt + HOLD_SEC * 1000 - 1000);
    expect(windowEnd).toBeLessThanOrEqual(Date.now() + HOLD_SEC * 1000);
    const full = await buyer.detail(groupId);
    expect(full.body.group).toMatchObject({ taken: 3, left: 0, paid: 0 });
    expect(full.body.participants.map((p) => p.payBy)).toEqual(Array(3).fill(new Date(windowEnd).toISOString()));
    for (const [orderId, deadline] of await truth.deadlines(groupId)) {
      expect(deadline).toBe(windowEnd);
      expect(Math.abs((await server.app.jobs.scheduledAt("order.timeout", orderId))! - windowEnd)).toBeLessThan(100);
    }
    expect((await call<{ canJoin: boolean }>("GET", `/api/group-buy/${groupId}`, { token: (await buyer.user("Late")).token })).body.canJoin).toBe(false);

    // handleGroupComplete → processGroupPayment, on each member's phone.
    const paid = await Promise.all(
      [leader, ...friends].map(async (u) => {
        const params = await call<Record<string, string>>("POST", `/api/group-buy/${groupId}/payment`, { token: u.token });
        expect(params.body).toMatchObject({ signType: "RSA", package: expect.stringMatching(/^prepay_id=/) as string });
        return payInSandbox(call, params.body);
      }),
    );
    expect(paid).toEqual(Array(3).fill("requestPayment:ok"));
    for (const c of [room, watcher]) await c.until(() => groupFrames(c, groupId).some((g) => g.status === "complete"), 10_000, "group_complete");
    for (const c of [room, watcher]) {
      const seen = groupFrames(c, groupId);
      expect(seen.map((g) => g.taken)).toEqual(expect.arrayContaining([1, 2, 3]));
      expect(seen.at(-1)).toMatchObject({ status: "complete", taken: 3, paid: 3, left: 0 });
    }
    expect(room.of("group_complete").at(-1)).toMatchObject({ groups: [] });
    expect((await truth.group(groupId)).status).toBe("complete");
    expect((await truth.members(groupId)).map((m) => m.status)).toEqual(["paid", "paid", "paid"]);
    const order = (await truth.members(groupId))[0]!.order_id;
    expect((await call("POST", `/v1/admin/orders/${order}/ship`, { token: admin, body: { courier: "SF", trackingNo: "SF2000001" } })).status).toBe(200);
    room.close();
    watcher.close();
  });

  it("refuses payment before the group is full on every payment route, without asking WeChat", async () => {
    const a = await activity(3);
    const { groupId, members } = await groupOf(a.activityId, 2);
    const [leader, member] = members;
    expect((await buyer.payParams(leader!.token, groupId)).body).toMatchObject({ code: "GROUP_NOT_FULL", details: { left: 1 } });
    expect((await buyer.payParams(leader!.token, groupId)).status).toBe(409);
    expect((await call("POST", `/v1/orders/${member!.orderId}/pay`, { token: member!.token })).body).toMatchObject({ code: "GROUP_NOT_FULL" });
    expect((await call("POST", "/api/payment/create", { token: member!.token, body: { orderId: member!.orderId } })).body).toMatchObject({ code: "GROUP_NOT_FULL" });
    expect((await truth.orders(groupId)).map((o) => o.sandbox_state)).toEqual([null, null]);
    expect((await buyer.detail(groupId)).body.participants.map((p) => p.payBy)).toEqual([null, null]);
  });

  it("a place not paid in its window lapses and re-opens the group; a window kept from an earlier fill stays; a new joiner fills it again", async () => {
    const host = await devSession(server.url, "Host");
    const streamId = await devStream(server.url, host.token);
    const a = await activity(3, { streamId, hostToken: host.token });
    const room = await WsClient.connect(`${server.ws}/live-stream/${streamId}/ws`);
    await room.next("snapshot");
    const { groupId, members } = await groupOf(a.activityId, 3);
    const [first, slow, quitter] = members;
    const watcher = await WsClient.connect(`${server.ws}/group-buy/${groupId}/ws`);
    const window1 = Date.parse((await participant(groupId, slow!.userId))!.payBy!);
    expect(await buyer.pay(first!.token, groupId)).toBe("requestPayment:ok");

    // One member gives up their place: the group re-opens; the others keep their window and may still pay.
    expect((await call("POST", `/v1/orders/${quitter!.orderId}/cancel`, { token: quitter!.token, body: {} })).status).toBe(200);
    await watcher.until(() => groupFrames(watcher, groupId).some((g) => g.status === "open" && g.left === 1 && g.paid === 1), 10_000, "re-opened (watcher)");
    await room.until(() => groupFrames(room, groupId).some((g) => g.left === 1 && g.paid === 1), 10_000, "re-opened (room)");
    expect((await buyer.detail(groupId)).body.canJoin).toBe(true);
    expect((await participant(groupId, slow!.userId))!.payBy).toBe(new Date(window1).toISOString());
    expect((await buyer.payParams(slow!.token, groupId)).status).toBe(200);

    // A newcomer fills it again: the newcomer's window starts now, the slow member's stays where it was.
    const newcomer = await buyer.user("Newcomer");
    const filled = await buyer.join(newcomer.token, groupId);
    expect(filled.body.complete).toBe(true);
    expect(Date.parse(filled.body.order.payDeadline)).toBeGreaterThanOrEqual(window1);
    expect((await truth.deadlines(groupId)).get(slow!.orderId)).toBe(window1);
    expect(await buyer.pay(newcomer.token, groupId)).toBe("requestPayment:ok");

    // The slow member's window ends: the order timeout frees the place and the group re-opens until its deadline.
    await truth.until(async () => (await truth.members(groupId)).some((m) => m.user_id === slow!.userId && m.status === "cancelled"), "the slow member's place lapses", (HOLD_SEC + 15) * 1000);
    expect(Date.now()).toBeGreaterThanOrEqual(window1);
    await watcher.until(() => groupFrames(watcher, groupId).some((g) => g.status === "open" && g.left === 1 && g.paid === 2), 10_000, "re-opened after the lapse");
    expect((await buyer.detail(groupId)).body.group).toMatchObject({ status: "open", taken: 2, paid: 2, left: 1 });
    expect((await buyer.payParams(slow!.token, groupId)).body).toMatchObject({ code: "ORDER_STATE" });

    const last = await buyer.user("Last");
    const j = await buyer.join(last.token, groupId);
    expect(j.body.complete).toBe(true);
    expect(await buyer.pay(last.token, groupId)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(groupId)).status === "complete", "complete");
    await watcher.until(() => groupFrames(watcher, groupId).some((g) => g.status === "complete"), 10_000, "group_complete");
    const orders = await truth.orders(groupId);
    expect(orders.filter((o) => o.status === "paid")).toHaveLength(3);
    expect(orders.filter((o) => o.status === "cancelled").every((o) => o.refunds === 0 && !charged(o))).toBe(true);
    room.close();
    watcher.close();
  }, 60_000);

  it("a group that lapses at its deadline refunds its paid members exactly once; unpaid places are closed", async () => {
    const a = await activity(3);
    const { groupId, members } = await groupOf(a.activityId, 3);
    const [p1, p2, quitter] = members;
    await Promise.all([p1, p2].map(async (m) => expect(await buyer.pay(m!.token, groupId)).toBe("requestPayment:ok")));
    expect((await call("POST", `/v1/orders/${quitter!.orderId}/cancel`, { token: quitter!.token, body: {} })).status).toBe(200);
    const holder = await buyer.user("Holder");
    const held = await buyer.join(holder.token, groupId);
    expect(held.body.complete).toBe(true);
    await truth.until(async () => (await truth.members(groupId)).filter((m) => m.status === "paid").length === 2, "two paid");
    await truth.expireNow(groupId);
    expect(await server.app.jobs.runNow("group.expire", groupId)).toBe(true);
    await truth.until(async () => (await truth.orders(groupId)).filter((o) => o.status === "refunded").length === 2, "two refunds");
    expect((await truth.group(groupId)).status).toBe("failed");
    const check = async () => {
      for (const o of await truth.orders(groupId)) {
        if (charged(o)) expect(o).toMatchObject({ status: "refunded", refunds: 1, sandbox_refunds: 1, refunded_fen: o.total_fen });
        else expect(o).toMatchObject({ status: "cancelled", refunds: 0, sandbox_refunds: 0 });
      }
    };
    await check();
    expect((await truth.orders(groupId)).find((o) => o.id === held.body.order.id)).toMatchObject({ status: "cancelled" });
    const [sku] = await truth.sql<{ stock: number }[]>`select stock from skus where id = ${a.skuId}`;
    expect(sku!.stock).toBe(1000);
    // At-least-once jobs run again: still one refund each.
    await server.app.jobs.schedule("group.settle", groupId, { groupId }, Date.now());
    await server.app.reconcile();
    await new Promise((r) => setTimeout(r, 500));
    await check();
  });

  it("50 concurrent joins for the last place: exactly one takes it and the group's windows start once", async () => {
    const a = await activity(3);
    const { groupId, members } = await groupOf(a.activityId, 2);
    const rushers = await Promise.all(Array.from({ length: 50 }, (_, i) => buyer.user(`Rusher${i}`)));
    const results = await Promise.all(rushers.flatMap((u, i) => (i === 0 ? [buyer.join(u.token, groupId), buyer.join(u.token, groupId)] : [buyer.join(u.token, groupId)])));
    const ok = results.filter((r) => r.status === 200);
    const winners = new Set(ok.map((r) => r.body.order.id));
    expect(winners.size).toBe(1);
    expect(ok.every((r) => r.body.complete === true)).toBe(true);
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.body.code === "GROUP_FULL")).toBe(true);
    const winnerOrder = [...winners][0]!;
    const winner = rushers.find((u, i) => results.some((r, k) => r.status === 200 && r.body.order.id === winnerOrder && (k <= 1 ? i === 0 : k - 1 === i)))!;
    // One window for everyone: the winner's deadline is the others' too.
    const deadlines = await truth.deadlines(groupId);
    expect(new Set([...deadlines.values()]).size).toBe(1);
    const members3 = await truth.members(groupId);
    expect(members3).toHaveLength(3);
    expect(new Set(members3.map((m) => m.user_id)).size).toBe(3);
    await Promise.all([...members, winner].map(async (m) => expect(await buyer.pay(m.token, groupId)).toBe("requestPayment:ok")));
    await truth.until(async () => (await truth.group(groupId)).status === "complete", "complete");
    expect((await truth.members(groupId)).every((m) => m.status === "paid")).toBe(true);
  });

  it("GET /v1/me/groups lists my places, newest first, ended groups too", async () => {
    const a = await activity(2);
    const me = await buyer.user("Me");
    expect((await call("GET", "/v1/me/groups")).status).toBe(401);
    expect((await buyer.mine(me.token)).body).toEqual([]);
    // A group I lead and that completes.
    const led = (await buyer.open(me.token, a.activityId)).body;
    const friend = await buyer.user("Friend");
    expect((await buyer.join(friend.token, led.group.id)).body.complete).toBe(true);
    const mineWhileFull = (await buyer.mine(me.token)).body;
    expect(mineWhileFull).toEqual([expect.objectContaining({ orderId: led.order.id, orderStatus: "pending_payment", leader: true, productName: "Longjing tea", group: expect.objectContaining({ id: led.group.id, taken: 2, left: 0 }) as unknown })]);
    expect(Date.parse(mineWhileFull[0]!.payBy!)).toBeLessThanOrEqual(Date.now() + HOLD_SEC * 1000);
    for (const u of [me, friend]) expect(await buyer.pay(u.token, led.group.id)).toBe("requestPayment:ok");
    await truth.until(async () => (await truth.group(led.group.id)).status === "complete", "complete");
    // Another activity: a group I joined and that is still waiting for members.
    const b = await activity(3);
    const other = await buyer.user("Other");
    const waiting = (await buyer.open(other.token, b.activityId)).body.group.id;
    const joined = (await buyer.join(me.token, waiting)).body;
    const mine = (await buyer.mine(me.token)).body;
    expect(mine.map((m) => m.group.id)).toEqual([waiting, led.group.id]);
    expect(mine[0]).toMatchObject({ orderId: joined.order.id, orderStatus: "pending_payment", payBy: null, leader: false, group: { status: "open", flow: "join_first", taken: 2, left: 1 } });
    expect(mine[1]).toMatchObject({ orderStatus: "paid", payBy: null, leader: true, group: { status: "complete", paid: 2 } });
    expect(typeof mine[0]!.group.endsAt).toBe("number");
    // Someone else's list is their own.
    expect((await buyer.mine(other.token)).body.map((m) => m.group.id)).toEqual([waiting]);
  });

  it("keeps the flow as a setting: leader_pays by default for API clients, patchable, copied by each new group; a pending leader-pays group ends at its leader's pay deadline", async () => {
    const p = await makeProduct(call, admin, { priceFen: 9900, stock: 100 }, "Oolong");
    const created = await call<{ id: string; flow: string }>("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: 2, groupPriceFen: 6900 } });
    expect(created.body.flow).toBe("leader_pays");
    expect((await call("POST", "/v1/admin/group-activities", { token: admin, body: { productId: p.productId, groupSize: 2, groupPriceFen: 6900, flow: "whoever" } })).status).toBe(400);
    const u = await buyer.user("LeaderPays");
    const pending = (await buyer.open(u.token, created.body.id)).body;
    expect(pending.group).toMatchObject({ status: "pending", flow: "leader_pays", endsAt: Date.parse(pending.order.payDeadline) });
    expect((await participant(pending.group.id, u.userId))!.payBy).toBe(pending.order.payDeadline);
    expect((await call<{ endTime: string }>("GET", `/api/group-buy/${pending.group.id}`)).body.endTime).toBe(pending.order.payDeadline);

    const patched = await call<{ flow: string }>("PATCH", `/v1/admin/group-activities/${created.body.id}`, { token: admin, body: { flow: "join_first" } });
    expect(patched.body.flow).toBe("join_first");
    expect((await call<{ activity: { flow: string } }>("GET", `/v1/group-activities/${created.body.id}`)).body.activity.flow).toBe("join_first");
    const v = await buyer.user("JoinFirst");
    const opened = (await buyer.open(v.token, created.body.id)).body;
    expect(opened.group).toMatchObject({ status: "open", flow: "join_first" });
    // The earlier group keeps the flow it was opened with.
    expect((await buyer.detail(pending.group.id)).body.group.flow).toBe("leader_pays");
  });
});
