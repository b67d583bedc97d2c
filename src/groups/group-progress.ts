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

export const toProgress = (g: GroupRow, taken: number, paid: number): GroupProgress => ({
  id: g.id,
  activityId: g.activityId,
  productId: g.productId,
  status: g.status,
  size: g.size,
  taken,
  paid,
  left: g.status === "open" || g.status === "pending" ? Math.max(0, g.size - taken) : 0,
  endsAt: g.expiresAt?.getTime() ?? null,
});

/** Groups matching `where`, with their counts, newest first. */
export async function progressWhere(db: Db, where: SQL | undefined, limit: number): Promise<GroupProgress[]> {
  const rows = await db
    .select({ g: groups, taken: counted(PLACE_HOLDING), paid: counted(PAID) })
    .from(groups)
    .where(where)
    .orderBy(desc(groups.createdAt), desc(groups.id))
    .limit(limit);
  return rows.map((r) => toProgress(r.g, Number(r.taken), Number(r.paid)));
}

export async function progressOf(db: Db, groupId: string): Promise<GroupProgress | null> {
  return (await progressWhere(db, eq(groups.id, groupId), 1))[0] ?? null;
}

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
