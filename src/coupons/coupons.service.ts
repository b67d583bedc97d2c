import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { couponClaims, coupons } from "../db/coupons.schema.js";
import { requireHost } from "../live/hosting.js";
import type { Logger } from "../log.js";
import { AppError } from "../protocol/errors.js";
import type { LiveCoupon, StatePush } from "../protocol/messages.js";
import type { Identity } from "../realtime/client.js";
import type { CouponClaim, CouponDetail, DropCoupon } from "./coupons.dto.js";

/** How often a room's `left` is pushed at most (conflated). */
const LEFT_PUSH_MS = 250;

type CouponRow = typeof coupons.$inferSelect;
type ClaimRow = typeof couponClaims.$inferSelect;

export interface CouponsDeps {
  db: Db;
  log: Logger;
  /** Saves room state and pushes it to every node's viewers (the hub). */
  setRoomState: (roomId: string, field: string, value: unknown, push: StatePush) => Promise<void>;
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
 * it back on cancel happen in the order's own transactions (`coupon-redeem.ts`).
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
  /** Room writes of one stream, in order: each reads PostgreSQL after the previous one landed. */
  const chains = new Map<string, Promise<void>>();

  async function load(id: string): Promise<CouponRow> {
    const [c] = await db.select().from(coupons).where(eq(coupons.id, id));
    if (!c) throw new AppError("NOT_FOUND", "No such coupon.");
    return c;
  }

  /** Puts the stream's newest claimable coupon (or null) into its room state. */
  function refresh(streamId: string): Promise<void> {
    const run = (chains.get(streamId) ?? Promise.resolve()).then(() =>
      // Across nodes too: read and write under the stream's lock, so an older read never lands last.
      db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`coupons:${streamId}`}))`);
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
    const settled = run.catch(() => {});
    chains.set(streamId, settled);
    void settled.then(() => {
      if (chains.get(streamId) === settled) chains.delete(streamId);
    });
    return run;
  }

  const refreshLater = (streamId: string) => refresh(streamId).catch((err: unknown) => deps.log.warn({ err, streamId }, "coupon room push failed"));

  async function drop(user: Identity, streamId: string, input: DropCoupon): Promise<CouponDetail> {
    await requireHost(db, user, streamId);
    const [c] = await db
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

  function stop() {
    clearInterval(timer);
    for (const t of expiryTimers) clearTimeout(t);
    expiryTimers.clear();
  }

  return { drop, end, get, claim, mine, stop };
}

export type Coupons = ReturnType<typeof createCoupons>;
