import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, gt, isNull, sql } from "drizzle-orm";
import { coalesce } from "../coalesce.js";
import type { Db } from "../db/client.js";
import { couponClaims, couponLimits, coupons } from "../db/coupons.schema.js";
import { requireHost } from "../live/hosting.js";
import type { Logger } from "../log.js";
import { AppError } from "../protocol/errors.js";
import type { LiveCoupon, SetRoomState } from "../protocol/messages.js";
import type { Identity } from "../auth/identity.js";
import type { CouponClaim, CouponDetail, CouponLimits, CouponLimitsInput, DropCoupon } from "./coupons.dto.js";

/** How often a room's `left` is pushed at most (conflated). */
const LEFT_PUSH_MS = 250;

type CouponRow = typeof coupons.$inferSelect;
type ClaimRow = typeof couponClaims.$inferSelect;

export interface CouponsDeps {
  db: Db;
  log: Logger;
  /** A stream's limits until an admin sets its own (COUPON_MAX_DISCOUNT_FEN, COUPON_MAX_DROPS_PER_STREAM). */
  defaultLimits: CouponLimitsInput;
  /** Saves room state and pushes it to every node's viewers (the hub). */
  setRoomState: SetRoomState;
}

const view = (c: CouponRow): LiveCoupon => ({
  id: c.id,
  title: c.title,
  discountFen: c.discountFen,
  minSpendFen: c.minSpendFen,
  quantity: c.quantity,
  left: c.quantity - c.claimed,
  expiresAt: c.expiresAt.getTime(),
});

const claimView = (c: CouponRow, k: ClaimRow): CouponClaim => ({
  couponId: c.id,
  streamId: c.streamId,
  title: c.title,
  discountFen: c.discountFen,
  minSpendFen: c.minSpendFen,
  expiresAt: c.expiresAt.getTime(),
  claimedAt: k.claimedAt.getTime(),
  usedOrderId: k.usedOrderId,
});

/**
 * Live coupons. A claim never goes past the quantity and is one per user: PostgreSQL decides both
 * in the claim's transaction (primary key, conditional increment). The room shows the stream's
 * newest active coupon; its `left` reaches the room conflated. Using a claim at checkout and giving
 * it back on cancel are effects of the order lifecycle (`orders/lifecycle.ts`), in the order's own
 * transactions; `coupon-redeem.ts` holds the checkout rule.
 */
export function createCoupons(deps: CouponsDeps) {
  const { db } = deps;
  /** Streams whose coupon changed since the last push. */
  const dirty = new Set<string>();
  const timer = setInterval(() => {
    for (const streamId of dirty) void refreshLater(streamId);
    dirty.clear();
  }, LEFT_PUSH_MS);
  timer.unref();
  const expiryTimers = new Set<NodeJS.Timeout>();

  async function load(id: string): Promise<CouponRow> {
    const [c] = await db.select().from(coupons).where(eq(coupons.id, id));
    if (!c) throw new AppError("NOT_FOUND", "No such coupon.");
    return c;
  }

  /** The stream's coupon lock (held to commit): room writes and drops of one stream, one at a time across nodes. */
  const lockStream = (tx: Db, streamId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`coupons:${streamId}`}))`);

  /**
   * Puts the stream's newest claimable coupon (or null) into its room state. One write of a stream at
   * a time on a node, each reading PostgreSQL after the previous one landed; writes asked meanwhile
   * fold into one (it reads the newest), so a burst of claims holds one pool connection per stream.
   */
  const refresh = coalesce((streamId: string) =>
    // Across nodes too: read and write under the stream's lock, so an older read never lands last.
    db.transaction(async (tx) => {
      await lockStream(tx, streamId);
      const [c] = await tx
        .select()
        .from(coupons)
        .where(and(eq(coupons.streamId, streamId), eq(coupons.status, "active"), gt(coupons.expiresAt, new Date())))
        .orderBy(desc(coupons.createdAt), desc(coupons.id))
        .limit(1);
      const value = c ? view(c) : null;
      await deps.setRoomState(streamId, "coupon", value, { type: "coupon", coupon: value });
    }),
  );

  const refreshLater = (streamId: string) => refresh(streamId).catch((err: unknown) => deps.log.warn({ err, streamId }, "coupon room push failed"));

  /** The stream's limits (its own, or the defaults) and how many coupons it has dropped. */
  async function limitsOf(tx: Db, streamId: string): Promise<CouponLimits> {
    const [[own], [count]] = await Promise.all([
      tx.select().from(couponLimits).where(eq(couponLimits.streamId, streamId)),
      tx.select({ n: sql<number>`count(*)::int` }).from(coupons).where(eq(coupons.streamId, streamId)),
    ]);
    const limits = own ? { maxDiscountFen: own.maxDiscountFen, maxDrops: own.maxDrops } : deps.defaultLimits;
    return { streamId, ...limits, dropped: Number(count?.n ?? 0), custom: own !== undefined };
  }

  /**
   * Drops a coupon within the stream's limits: its discount at most `maxDiscountFen`
   * (COUPON_TOO_LARGE), and at most `maxDrops` coupons in all (COUPON_DROP_LIMIT), counted under
   * the stream's coupon lock, so concurrent drops never pass it.
   */
  async function drop(user: Identity, streamId: string, input: DropCoupon): Promise<CouponDetail> {
    await requireHost(db, user, streamId);
    const c = await db.transaction(async (tx) => {
      await lockStream(tx, streamId);
      const limits = await limitsOf(tx, streamId);
      if (input.discountFen > limits.maxDiscountFen) throw new AppError("COUPON_TOO_LARGE", `A coupon of this stream takes off at most ${limits.maxDiscountFen} fen.`, { maxDiscountFen: limits.maxDiscountFen });
      if (limits.dropped >= limits.maxDrops) throw new AppError("COUPON_DROP_LIMIT", `This stream may drop ${limits.maxDrops} coupons.`, { maxDrops: limits.maxDrops });
      const [row] = await tx
        .insert(coupons)
        .values({
          id: randomUUID(),
          streamId,
          title: input.title,
          discountFen: input.discountFen,
          minSpendFen: input.minSpendFen,
          quantity: input.quantity,
          expiresAt: new Date(Date.now() + input.durationSec * 1000),
          createdBy: user.userId,
        })
        .returning();
      return row;
    });
    // The coupon exists now; a room that could not be told yet hears of it at the next claim or change.
    await refreshLater(streamId);
    // The room drops the coupon when it expires (clients also hide it at expiresAt).
    const t = setTimeout(() => {
      expiryTimers.delete(t);
      void refreshLater(streamId);
    }, input.durationSec * 1000 + 100);
    t.unref();
    expiryTimers.add(t);
    return { ...view(c!), streamId, status: c!.status };
  }

  async function end(user: Identity, id: string): Promise<CouponDetail> {
    const c = await load(id);
    await requireHost(db, user, c.streamId);
    const [ended] = await db.update(coupons).set({ status: "ended" }).where(eq(coupons.id, id)).returning();
    await refresh(c.streamId);
    return { ...view(ended!), streamId: c.streamId, status: "ended" };
  }

  async function get(id: string): Promise<CouponDetail> {
    const c = await load(id);
    return { ...view(c), streamId: c.streamId, status: c.status };
  }

  /** One claim per user, never past the quantity; claiming again answers the same claim. */
  async function claim(userId: string, id: string): Promise<CouponClaim> {
    const c = await load(id);
    const now = new Date();
    const { row, fresh } = await db.transaction(async (tx) => {
      const [inserted] = await tx.insert(couponClaims).values({ couponId: id, userId, claimedAt: now }).onConflictDoNothing().returning();
      if (!inserted) {
        const [existing] = await tx.select().from(couponClaims).where(and(eq(couponClaims.couponId, id), eq(couponClaims.userId, userId)));
        return { row: existing!, fresh: false };
      }
      const [taken] = await tx
        .update(coupons)
        .set({ claimed: sql`${coupons.claimed} + 1` })
        .where(and(eq(coupons.id, id), eq(coupons.status, "active"), gt(coupons.expiresAt, now), sql`${coupons.claimed} < ${coupons.quantity}`))
        .returning({ id: coupons.id });
      // Rolls the claim back with the transaction.
      if (!taken) throw new AppError("COUPON_GONE");
      return { row: inserted, fresh: true };
    });
    if (fresh) dirty.add(c.streamId);
    return claimView(c, row);
  }

  /** A stream's coupons, newest first (for its host). */
  async function listOfStream(user: Identity, streamId: string): Promise<CouponDetail[]> {
    await requireHost(db, user, streamId);
    const rows = await db.select().from(coupons).where(eq(coupons.streamId, streamId)).orderBy(desc(coupons.createdAt), desc(coupons.id)).limit(200);
    return rows.map((c) => ({ ...view(c), streamId: c.streamId, status: c.status }));
  }

  /** My claims not yet used and not expired, soonest to expire first. */
  async function mine(userId: string): Promise<CouponClaim[]> {
    const rows = await db
      .select({ c: coupons, k: couponClaims })
      .from(couponClaims)
      .innerJoin(coupons, eq(coupons.id, couponClaims.couponId))
      .where(and(eq(couponClaims.userId, userId), isNull(couponClaims.usedOrderId), gt(coupons.expiresAt, new Date())))
      .orderBy(asc(coupons.expiresAt), asc(coupons.id));
    return rows.map((r) => claimView(r.c, r.k));
  }

  /** The stream's coupon limits, for its host (or an admin). */
  async function limits(user: Identity, streamId: string): Promise<CouponLimits> {
    await requireHost(db, user, streamId);
    return limitsOf(db, streamId);
  }

  /** An admin sets a stream's own coupon limits (drops already made stay). */
  async function setLimits(admin: Identity, streamId: string, input: CouponLimitsInput): Promise<CouponLimits> {
    await requireHost(db, admin, streamId);
    const row = { streamId, ...input, setBy: admin.userId, updatedAt: new Date() };
    await db.insert(couponLimits).values(row).onConflictDoUpdate({ target: couponLimits.streamId, set: row });
    return limitsOf(db, streamId);
  }

  function stop() {
    clearInterval(timer);
    for (const t of expiryTimers) clearTimeout(t);
    expiryTimers.clear();
  }

  return { drop, end, get, claim, mine, listOfStream, limits, setLimits, stop };
}

export type Coupons = ReturnType<typeof createCoupons>;
