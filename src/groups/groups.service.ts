import { randomUUID } from "node:crypto";
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { auditLog, groupActivities, groupMembers, groups } from "../db/groups.schema.js";
import { users } from "../db/identity.schema.js";
import { orders } from "../db/orders.schema.js";
import { products } from "../db/catalog.schema.js";
import type { Jobs } from "../jobs/jobs.js";
import type { Logger } from "../log.js";
import type { Lifecycle, Work } from "../orders/lifecycle.js";
import type { OrderEventBus } from "../orders/order-events.js";
import type { Order } from "../orders/orders.dto.js";
import type { Orders } from "../orders/orders.service.js";
import type { Payments } from "../payments/payments.service.js";
import { AppError } from "../protocol/errors.js";
import type { GroupProgress } from "../protocol/messages.js";
import type { Identity } from "../auth/identity.js";
import { addressRepo } from "../shopping/address.repo.js";
import { mayPay, membersOf, PAID, payByOf, PLACE_HOLDING, progressColumns, progressFrom, progressOf } from "./group-progress.js";

type GroupRow = typeof groups.$inferSelect;
type ActivityRow = typeof groupActivities.$inferSelect;

export interface GroupsDeps {
  db: Db;
  orders: Orders;
  /** Places, unsells and shortens the holds of group orders (the only writer of order state). */
  lifecycle: Lifecycle;
  /** Groups follow their members' orders: paid, cancelled; and say when a place may be paid. */
  events: OrderEventBus;
  payments: Payments;
  jobs: Jobs;
  log: Logger;
  /** How long an unpaid place is held (leader-pays), or how long a full join-first group's members have to pay. */
  holdSec: number;
  /** Tells the group's room and watchers (group feed). */
  announce: (groupId: string) => Promise<void>;
}

/** Members of a group whose orders are in `statuses` (call under the group's lock for a decision). */
const count = async (tx: Db, groupId: string, statuses: readonly (typeof orders.$inferSelect.status)[]) => {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(groupMembers)
    .innerJoin(orders, eq(orders.id, groupMembers.orderId))
    .where(and(eq(groupMembers.groupId, groupId), inArray(orders.status, [...statuses])));
  return Number(row?.n ?? 0);
};
const lockGroup = async (tx: Db, id: string): Promise<GroupRow> => {
  const [g] = await tx.select().from(groups).where(eq(groups.id, id)).for("update");
  if (!g) throw new AppError("NOT_FOUND", "No such group.");
  return g;
};
const refundKey = (groupId: string) => `group-${groupId}`;

/**
 * Group buying (拼团). A place is an order at the group price: held while unpaid, taken for good
 * once paid, free again when the hold lapses (the order timeout cancels it). Two flows:
 * leader_pays (a hold lasts `holdSec`, never past the deadline; the group opens when its leader
 * pays) and join_first (open from creation; a hold lasts until the deadline; the join that fills
 * the group gives every unpaid member a payment window of `holdSec`, and nobody pays before that).
 * Every decision about a group is made under its row lock from the members' order states, so a
 * group never takes more than `size` places or one user twice, and ends exactly once: complete
 * (all paid) or failed (every paid member refunded).
 */
export function createGroups(deps: GroupsDeps) {
  const { db, log, lifecycle } = deps;

  async function activity(id: string): Promise<ActivityRow> {
    const [a] = await db.select().from(groupActivities).where(eq(groupActivities.id, id));
    if (!a) throw new AppError("NOT_FOUND", "No such group-buy activity.");
    return a;
  }
  async function group(id: string): Promise<GroupRow> {
    const [g] = await db.select().from(groups).where(eq(groups.id, id));
    if (!g) throw new AppError("NOT_FOUND", "No such group.");
    return g;
  }
  const announce = (groupId: string) => deps.announce(groupId).catch((err: unknown) => log.warn({ err, groupId }, "group announcement failed"));
  const scheduleExpiry = (g: { id: string; expiresAt: Date | null }) =>
    deps.jobs.schedule("group.expire", g.id, { groupId: g.id }, g.expiresAt!.getTime());
  async function addressFor(userId: string, addressId?: string) {
    if (addressId) return addressId;
    const a = await addressRepo.getDefault(db, userId);
    if (!a) throw new AppError("ADDRESS_REQUIRED");
    return a.id;
  }
  /** One user's places in an activity, counted under a per-user lock (two groups at once cannot beat the limit). */
  async function checkUserLimit(tx: Db, a: ActivityRow, userId: string) {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`group-user:${a.id}:${userId}`}))`);
    const rows = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(groupMembers)
      .innerJoin(groups, eq(groups.id, groupMembers.groupId))
      .innerJoin(orders, eq(orders.id, groupMembers.orderId))
      .where(and(eq(groups.activityId, a.id), eq(groupMembers.userId, userId), inArray(orders.status, [...PLACE_HOLDING])));
    if (Number(rows[0]?.n ?? 0) >= a.perUserLimit) throw new AppError("LIMIT_EXCEEDED", `At most ${a.perUserLimit} group(s) per person in this activity.`);
  }
  async function memberOrder(userId: string, groupId: string) {
    const [m] = await db
      .select({ orderId: groupMembers.orderId, status: orders.status })
      .from(groupMembers)
      .innerJoin(orders, eq(orders.id, groupMembers.orderId))
      .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
    return m ?? null;
  }

  /** One unit at the group's price, held until `payDeadline`; `claim` takes the place inside the order's transaction. */
  function placeOrder(userId: string, place: { skuId: string; streamId: string | null; groupId: string; priceFen: number; payDeadline: Date; addressId: string; requestKey?: string }, claim: (w: Work, orderId: string) => Promise<Date | void>) {
    return deps.orders.place(userId, {
      lines: [{ skuId: place.skuId, quantity: 1 }],
      source: "group",
      addressId: place.addressId,
      streamId: place.streamId ?? undefined,
      requestKey: place.requestKey,
      group: { id: place.groupId, priceFen: place.priceFen, payDeadline: place.payDeadline, claim },
    });
  }

  /**
   * A leader opens a group with a held place at the group price. It copies its activity's flow:
   * leader_pays opens when that place is paid; join_first is open at once, until its deadline.
   */
  async function open(userId: string, activityId: string, input: { addressId?: string; requestKey?: string }) {
    const a = await activity(activityId);
    if (a.status !== "active") throw new AppError("GROUP_CLOSED", "This group-buy activity has ended.");
    const addressId = await addressFor(userId, input.addressId);
    const groupId = randomUUID();
    const now = Date.now();
    const expiresAt = a.flow === "join_first" ? new Date(now + a.windowSec * 1000) : null;
    // join_first: the place is held until the group's deadline (nobody pays before it is full).
    const payDeadline = expiresAt ?? new Date(now + deps.holdSec * 1000);
    const place = { skuId: a.skuId, streamId: a.streamId, groupId, priceFen: a.groupPriceFen, payDeadline, addressId, requestKey: input.requestKey };
    const order = await placeOrder(userId, place, async ({ tx }, orderId) => {
      await checkUserLimit(tx, a, userId);
      await tx.insert(groups).values({
        id: groupId,
        activityId: a.id,
        productId: a.productId,
        skuId: a.skuId,
        streamId: a.streamId,
        leaderUserId: userId,
        size: a.groupSize,
        priceFen: a.groupPriceFen,
        windowSec: a.windowSec,
        flow: a.flow,
        ...(expiresAt ? { status: "open" as const, openedAt: new Date(now), expiresAt } : {}),
      });
      await tx.insert(groupMembers).values({ groupId, userId, orderId, leader: true });
    });
    const [m] = await db.select({ groupId: groupMembers.groupId }).from(groupMembers).where(eq(groupMembers.orderId, order.id));
    // The key named an order of another kind: it cannot also open a group.
    if (!m) throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used for another order.");
    const g = await group(m.groupId);
    if (g.flow === "join_first" && g.status === "open") {
      await scheduleExpiry(g).catch((err: unknown) => log.warn({ err, groupId: g.id }, "group expiry not scheduled; the reconciler will"));
    }
    await announce(m.groupId);
    return { group: (await progressOf(db, m.groupId))!, order };
  }

  /**
   * Takes a place in an open group (held until paid). Joining a group one already holds a place in
   * answers with that place. `complete`: this join took the last place (in join_first, every
   * unpaid member's payment window starts: their pay deadlines move forward, and their timers after commit).
   */
  async function join(userId: string, groupId: string, input: { addressId?: string; requestKey?: string }): Promise<{ group: GroupProgress; order: Order; complete: boolean }> {
    const mine = await memberOrder(userId, groupId);
    if (mine && (PLACE_HOLDING as readonly string[]).includes(mine.status)) {
      const p = (await progressOf(db, groupId))!;
      return { group: p, order: await deps.orders.get(userId, mine.orderId), complete: p.left === 0 };
    }
    const g = await group(groupId);
    const a = await activity(g.activityId);
    if (g.status !== "open" || !g.expiresAt || g.expiresAt.getTime() <= Date.now()) throw new AppError("GROUP_CLOSED");
    const addressId = await addressFor(userId, input.addressId);
    let complete = false;
    let order: Order;
    try {
      const payDeadline = g.flow === "join_first" ? g.expiresAt : new Date(Math.min(Date.now() + deps.holdSec * 1000, g.expiresAt.getTime()));
      const place = { skuId: g.skuId, streamId: g.streamId, groupId, priceFen: g.priceFen, payDeadline, addressId, requestKey: input.requestKey };
      order = await placeOrder(userId, place, async (w, orderId) => {
        const { tx } = w;
        const locked = await lockGroup(tx, groupId);
        // The database's clock decides, the same one for every node.
        const [alive] = await tx.select({ ok: sql<boolean>`${groups.expiresAt} > now()` }).from(groups).where(eq(groups.id, groupId));
        if (locked.status !== "open" || !alive?.ok) throw new AppError("GROUP_CLOSED");
        // Already holding a place (the same user's other tap got the lock first): that place is the answer, even when it was the last.
        const [m] = await tx.select().from(groupMembers).where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
        const [held] = m ? await tx.select({ status: orders.status }).from(orders).where(eq(orders.id, m.orderId)) : [];
        if (held && (PLACE_HOLDING as readonly string[]).includes(held.status)) throw new AppError("CONFLICT", "You are already in this group.");
        const taken = await count(tx, groupId, PLACE_HOLDING);
        if (taken >= locked.size) throw new AppError("GROUP_FULL");
        if (m) {
          await checkUserLimit(tx, a, userId);
          await tx.update(groupMembers).set({ orderId, joinedAt: new Date() }).where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
        } else {
          await checkUserLimit(tx, a, userId);
          await tx.insert(groupMembers).values({ groupId, userId, orderId });
        }
        complete = taken + 1 === locked.size;
        if (!complete || locked.flow !== "join_first") return;
        // Full: every unpaid member pays within the window; a window given by an earlier fill stays.
        const windowEnd = new Date(Math.min(Date.now() + deps.holdSec * 1000, locked.expiresAt!.getTime()));
        await lifecycle.shortenHolds(w, groupId, windowEnd);
        return windowEnd;
      });
    } catch (err) {
      // The same user joining twice at once: the other request's place is the answer.
      const again = await memberOrder(userId, groupId);
      if (err instanceof AppError && err.code === "CONFLICT" && again) return join(userId, groupId, input);
      throw err;
    }
    if (order.groupId !== groupId) throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used for another order.");
    await announce(groupId);
    return { group: (await progressOf(db, groupId))!, order, complete };
  }

  /** Check before payment: a join-first place pays only once its group is full (or within a window it kept). */
  async function payable(order: { id: string; groupId: string | null; payDeadline: Date }) {
    if (!order.groupId) return;
    const g = await group(order.groupId);
    if (g.flow !== "join_first" || g.status !== "open") return;
    const taken = await count(db, g.id, PLACE_HOLDING);
    if (!mayPay(g, taken, order.payDeadline)) {
      throw new AppError("GROUP_NOT_FULL", `${g.size - taken} of ${g.size} places are still free; everyone pays once the group is full.`, { left: g.size - taken });
    }
  }

  /** wx.requestPayment parameters for the caller's held place (join_first: once the group is full). */
  async function pay(userId: string, groupId: string) {
    const mine = await memberOrder(userId, groupId);
    if (!mine || mine.status !== "pending_payment") throw new AppError("ORDER_STATE", mine ? `Your place is ${mine.status}.` : "You hold no place in this group.", { status: mine?.status ?? null });
    return deps.payments.jsapiParams(userId, mine.orderId);
  }

  /** A member paid (or the payment's notification came again). Opens the group (the leader), completes it (the last place), or refunds (it failed). */
  async function onPaid(order: { id: string; groupId: string | null }) {
    if (!order.groupId) return;
    const groupId = order.groupId;
    const outcome = await lifecycle.run(async (w) => {
      const { tx } = w;
      const g = await lockGroup(tx, groupId);
      if (g.status === "failed") {
        // Paid after the group failed (a hold the expiry could not close): refunded, and its unit is back on sale.
        await lifecycle.unsell(w, order.id);
        return "refund" as const;
      }
      if (g.status === "pending" && g.leaderUserId) {
        const [leader] = await tx.select({ orderId: groupMembers.orderId }).from(groupMembers).where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.leader, true)));
        if (leader?.orderId !== order.id) return "none" as const;
        const expiresAt = new Date(Date.now() + g.windowSec * 1000);
        await tx.update(groups).set({ status: "open", openedAt: new Date(), expiresAt }).where(eq(groups.id, groupId));
        return { opened: expiresAt };
      }
      if (g.status === "open" && (await count(tx, groupId, PAID)) >= g.size) {
        await tx.update(groups).set({ status: "complete", endedAt: new Date() }).where(eq(groups.id, groupId));
        return "complete" as const;
      }
      return "none" as const;
    });
    if (outcome === "refund") {
      await refundMember(groupId, order.id);
    } else if (typeof outcome === "object") {
      await deps.jobs.schedule("group.expire", groupId, { groupId }, outcome.opened.getTime());
    }
    await announce(groupId);
  }

  /**
   * A member's order was cancelled (its hold lapsed): the place is free again (a full
   * group re-opens until its deadline, and its room and watchers hear it). An unpaid leader of a
   * pending leader-pays group fails the group.
   */
  async function onCancelled(order: { id: string; groupId: string | null }) {
    if (!order.groupId) return;
    const groupId = order.groupId;
    await db.transaction(async (tx) => {
      const g = await lockGroup(tx, groupId);
      const [leader] = await tx.select({ orderId: groupMembers.orderId }).from(groupMembers).where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.leader, true)));
      if (g.status === "pending" && leader?.orderId === order.id) {
        await tx.update(groups).set({ status: "failed", failReason: "the leader did not pay", endedAt: new Date() }).where(eq(groups.id, groupId));
      }
    });
    await announce(groupId);
  }

  /** Refunds what the member paid and was not refunded yet (an admin may have refunded part already). */
  async function refundMember(groupId: string, orderId: string) {
    const [o] = await db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
    if (!o || !["paid", "refunding"].includes(o.status)) return;
    await deps.payments.refundRest(orderId, "group buy not filled", refundKey(groupId));
  }

  /** Closes every unpaid hold through WeChat Pay; a payment that landed meanwhile is applied (and may complete the group). */
  async function closeHolds(groupId: string, reason: string) {
    for (const m of await membersOf(db, groupId)) {
      if (m.orderStatus !== "pending_payment") continue;
      try {
        await deps.payments.cancelOrder(null, m.orderId, reason);
      } catch (err) {
        if (err instanceof AppError && err.code === "ORDER_STATE" && (err.details as { status?: string } | undefined)?.status !== "pending_payment") continue;
        throw err;
      }
    }
  }

  /** Ends an open group in one transaction: complete when every place is paid (or simulated), failed otherwise. */
  async function decide(groupId: string, simulate: { actor: string; reason: string } | null) {
    return lifecycle.run(async (w) => {
      const { tx } = w;
      const g = await lockGroup(tx, groupId);
      if (g.status !== "open") return g.status;
      const paid = await count(tx, groupId, PAID);
      if (paid >= g.size) {
        await tx.update(groups).set({ status: "complete", endedAt: new Date() }).where(eq(groups.id, groupId));
        return "complete";
      }
      if (simulate && paid >= 1) {
        await tx.update(groups).set({ status: "complete", simulated: true, endedAt: new Date() }).where(eq(groups.id, groupId));
        await tx.insert(auditLog).values({ actor: simulate.actor, action: "group.simulated_complete", target: groupId, details: { reason: simulate.reason, paid, size: g.size } });
        return "complete";
      }
      await tx.update(groups).set({ status: "failed", failReason: "not filled in time", endedAt: new Date() }).where(eq(groups.id, groupId));
      // Nothing of a failed group ships: its paid units go back on sale, once (this transition happens once).
      const paidOrders = await tx
        .select({ orderId: groupMembers.orderId })
        .from(groupMembers)
        .innerJoin(orders, eq(orders.id, groupMembers.orderId))
        .where(and(eq(groupMembers.groupId, groupId), inArray(orders.status, [...PAID])));
      for (const { orderId } of paidOrders) await lifecycle.unsell(w, orderId);
      return "failed";
    });
  }

  /** Job: the group's deadline. */
  async function expire({ groupId }: { groupId: string }) {
    const g = await group(groupId);
    if (g.status === "failed") return settle({ groupId });
    if (g.status !== "open") return;
    if (g.expiresAt && g.expiresAt.getTime() > Date.now()) throw new AppError("CONFLICT", "Not due yet.");
    await closeHolds(groupId, "group buy expired");
    const a = await activity(g.activityId);
    const outcome = await decide(groupId, a.simulateOnExpiry ? { actor: "system", reason: "activity completes groups at expiry" } : null);
    await announce(groupId);
    if (outcome === "failed") await settle({ groupId });
  }

  /** Job (and tail of `expire`): refunds every paid member of a failed group; each refund is one out_refund_no. */
  async function settle({ groupId }: { groupId: string }) {
    const g = await group(groupId);
    if (g.status !== "failed") return;
    // One member's trouble (WeChat refusing, an admin refund racing) does not hold up the others.
    const failures: unknown[] = [];
    for (const m of await membersOf(db, groupId)) await refundMember(groupId, m.orderId).catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw failures[0];
  }

  /** An admin completes an open group with simulated members (Pinduoduo's 模拟成团); audited. */
  async function simulateComplete(admin: Identity, groupId: string, reason: string) {
    const g = await group(groupId);
    if (g.status !== "open") throw new AppError("GROUP_CLOSED");
    await closeHolds(groupId, "group completed by simulation");
    const outcome = await decide(groupId, { actor: admin.userId, reason });
    await announce(groupId);
    if (outcome === "failed") await settle({ groupId });
    return (await progressOf(db, groupId))!;
  }

  /** The group page: progress, members, the product and whether the caller can join. */
  async function detail(groupId: string, viewerId: string | null) {
    const g = await group(groupId);
    const p = (await progressOf(db, groupId))!;
    const members = await membersOf(db, groupId);
    const names = members.length ? await db.select({ id: users.id, nickname: users.nickname }).from(users).where(inArray(users.id, members.map((m) => m.userId))) : [];
    const participants = members
      .filter((m) => g.status === "failed" || (PLACE_HOLDING as readonly string[]).includes(m.orderStatus))
      .map((m) => ({
        userId: m.userId,
        nickname: names.find((n) => n.id === m.userId)?.nickname ?? "",
        leader: m.leader,
        paid: (PAID as readonly string[]).includes(m.orderStatus) || m.orderStatus.startsWith("refund"),
        joinedAt: m.joinedAt.toISOString(),
        payBy: payByOf(g, p.taken, m),
      }));
    const mine = viewerId ? participants.some((x) => x.userId === viewerId) : false;
    return { g, progress: p, participants, canJoin: g.status === "open" && p.left > 0 && !mine && (g.expiresAt?.getTime() ?? 0) > Date.now() };
  }

  /** The caller's places (lapsed ones too) with their groups, newest first: the "my groups" page. */
  async function mine(userId: string, limit = 100) {
    const rows = await db
      .select({ ...progressColumns, orderId: groupMembers.orderId, leader: groupMembers.leader, orderStatus: orders.status, payDeadline: orders.payDeadline, productName: products.name, pictures: products.pictures })
      .from(groupMembers)
      .innerJoin(groups, eq(groups.id, groupMembers.groupId))
      .innerJoin(orders, eq(orders.id, groupMembers.orderId))
      .leftJoin(products, eq(products.id, groups.productId))
      .where(eq(groupMembers.userId, userId))
      .orderBy(desc(groupMembers.joinedAt), desc(groups.id))
      .limit(limit);
    return rows.map((r) => {
      const progress = progressFrom(r);
      return {
        group: progress,
        productName: r.productName ?? "",
        productImage: r.pictures?.[0] ?? "",
        orderId: r.orderId,
        orderStatus: r.orderStatus,
        payBy: payByOf(r.g, progress.taken, r),
        leader: r.leader,
      };
    });
  }

  /** Recreates expiry timers of open groups, payment-window timers that did not move, and refunds still owed by failed ones. */
  async function reconcile() {
    const open = await db.select({ id: groups.id, expiresAt: groups.expiresAt }).from(groups).where(eq(groups.status, "open"));
    for (const g of open) await scheduleExpiry(g);
    // A crash between a fill's commit and moving its timers: the windows' timers still wait for the deadline.
    const windows = await db
      .select({ id: orders.id, payDeadline: orders.payDeadline })
      .from(groups)
      .innerJoin(groupMembers, eq(groupMembers.groupId, groups.id))
      .innerJoin(orders, eq(orders.id, groupMembers.orderId))
      .where(and(eq(groups.status, "open"), eq(groups.flow, "join_first"), eq(orders.status, "pending_payment"), lt(orders.payDeadline, groups.expiresAt)));
    await lifecycle.remindDeadlines(windows);
    const owing = await db
      .selectDistinct({ id: groups.id })
      .from(groups)
      .innerJoin(groupMembers, eq(groupMembers.groupId, groups.id))
      .innerJoin(orders, eq(orders.id, groupMembers.orderId))
      .where(and(eq(groups.status, "failed"), inArray(orders.status, ["paid", "refunding"])));
    for (const g of owing) await deps.jobs.schedule("group.settle", g.id, { groupId: g.id }, Date.now());
    // A leader who paid while the opening step failed (and WeChat stopped notifying): open it now.
    const stuck = await db
      .select({ groupId: groups.id, orderId: groupMembers.orderId })
      .from(groups)
      .innerJoin(groupMembers, and(eq(groupMembers.groupId, groups.id), eq(groupMembers.leader, true)))
      .innerJoin(orders, eq(orders.id, groupMembers.orderId))
      .where(and(eq(groups.status, "pending"), eq(orders.status, "paid")));
    for (const g of stuck) await onPaid({ id: g.orderId, groupId: g.groupId });
    return open.length + owing.length + stuck.length;
  }

  deps.events.on("paid", ({ order }) => onPaid(order));
  deps.events.on("cancelled", ({ order }) => onCancelled(order));
  deps.events.check("payable", (order) => payable(order));

  return { open, join, pay, detail, mine, expire, settle, simulateComplete, reconcile, group, activity };
}

export type Groups = ReturnType<typeof createGroups>;
