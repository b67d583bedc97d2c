import { and, desc, eq, gt, inArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { groupMembers, groups } from "../db/groups.schema.js";
import { orders } from "../db/orders.schema.js";
import { GROUPS_IN_STATE, type GroupProgress } from "../protocol/messages.js";

/** Order statuses that hold a place (unpaid, within its hold) or took it (paid). */
export const PLACE_HOLDING = ["pending_payment", "paid", "shipped", "completed"] as const;
/** Order statuses of a member who paid and was not refunded. */
export const PAID = ["paid", "shipped", "completed"] as const;

const statusIn = (list: readonly string[]) => sql.join(list.map((s) => sql`${s}`), sql`, `);

/** Places taken and paid, counted from the members' orders (the truth; nothing else keeps a count). */
const counted = (list: readonly string[]) =>
  sql<number>`(select count(*)::int from group_members m join orders o on o.id = m.order_id where m.group_id = "groups"."id" and o.status in (${statusIn(list)}))`;

type GroupRow = typeof groups.$inferSelect;

/**
 * When the group ends (ms): its deadline, or for a pending leader-pays group (no deadline yet) its
 * leader's pay deadline; a group that failed before opening falls back to when it ended.
 */
const endsAt = sql<Date>`coalesce(${groups.expiresAt}, (select o.pay_deadline from group_members m join orders o on o.id = m.order_id where m.group_id = "groups"."id" and m.leader limit 1), ${groups.endedAt}, ${groups.createdAt})`.mapWith(groups.createdAt);

export const toProgress = (g: GroupRow, taken: number, paid: number, ends: Date): GroupProgress => ({
  id: g.id,
  activityId: g.activityId,
  productId: g.productId,
  status: g.status,
  flow: g.flow,
  size: g.size,
  taken,
  paid,
  left: g.status === "open" || g.status === "pending" ? Math.max(0, g.size - taken) : 0,
  endsAt: ends.getTime(),
});

/** The columns a progress is made of (the group, its counts and its end), for selects from `groups`. */
export const progressColumns = { g: groups, taken: counted(PLACE_HOLDING), paid: counted(PAID), endsAt };
export const progressFrom = (r: { g: GroupRow; taken: number; paid: number; endsAt: Date }) => toProgress(r.g, Number(r.taken), Number(r.paid), r.endsAt);

/** Groups matching `where`, with their counts, newest first. */
export async function progressWhere(db: Db, where: SQL | undefined, limit: number): Promise<GroupProgress[]> {
  const rows = await db.select(progressColumns).from(groups).where(where).orderBy(desc(groups.createdAt), desc(groups.id)).limit(limit);
  return rows.map(progressFrom);
}

export async function progressOf(db: Db, groupId: string): Promise<GroupProgress | null> {
  return (await progressWhere(db, eq(groups.id, groupId), 1))[0] ?? null;
}

/**
 * Whether an unpaid place may pay now. Leader-pays: always (within its hold). Join-first: once the
 * group is full, or while the member keeps the payment window an earlier fill gave it (its pay
 * deadline is before the group's); until then everyone waits (GROUP_NOT_FULL).
 */
export const mayPay = (g: Pick<GroupRow, "flow" | "size" | "expiresAt">, taken: number, payDeadline: Date) =>
  g.flow === "leader_pays" || taken >= g.size || (g.expiresAt !== null && payDeadline.getTime() < g.expiresAt.getTime());

/** The end of a member's payment window: set while the place is unpaid, its group undecided and it may pay. */
export const payByOf = (g: Pick<GroupRow, "flow" | "size" | "expiresAt" | "status">, taken: number, m: { orderStatus: string; payDeadline: Date }) =>
  m.orderStatus === "pending_payment" && (g.status === "open" || g.status === "pending") && mayPay(g, taken, m.payDeadline) ? m.payDeadline.toISOString() : null;

/** The open groups a live room shows (joinable now). */
export const openGroupsOfStream = (db: Db, streamId: string) =>
  progressWhere(db, and(eq(groups.streamId, streamId), eq(groups.status, "open"), gt(groups.expiresAt, new Date())), GROUPS_IN_STATE);

/** The open groups of an activity, for buyers choosing one to join. */
export const openGroupsOfActivity = (db: Db, activityId: string, limit = 50) =>
  progressWhere(db, and(eq(groups.activityId, activityId), eq(groups.status, "open"), gt(groups.expiresAt, new Date())), limit);

/** The open groups of a product, across its activities (the product page's "join a group"). */
export const openGroupsOfProduct = (db: Db, productId: string, limit = 50) =>
  progressWhere(db, and(eq(groups.productId, productId), eq(groups.status, "open"), gt(groups.expiresAt, new Date())), limit);

/** Members and the state of their orders. */
export function membersOf(db: Db, groupId: string) {
  return db
    .select({ userId: groupMembers.userId, orderId: groupMembers.orderId, leader: groupMembers.leader, joinedAt: groupMembers.joinedAt, orderStatus: orders.status, totalFen: orders.totalFen, payDeadline: orders.payDeadline })
    .from(groupMembers)
    .innerJoin(orders, eq(orders.id, groupMembers.orderId))
    .where(and(eq(groupMembers.groupId, groupId), inArray(orders.status, [...PLACE_HOLDING, "refunding", "refunded"])))
    .orderBy(groupMembers.joinedAt);
}
