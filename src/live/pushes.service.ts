import { randomUUID } from "node:crypto";
import { and, asc, eq, sql } from "drizzle-orm";
import { catalogRepo } from "../catalog/catalog.repo.js";
import type { Db } from "../db/client.js";
import { scheduledPushes } from "../db/live.schema.js";
import type { Jobs } from "../jobs/jobs.js";
import type { Logger } from "../log.js";
import { AppError } from "../protocol/errors.js";
import type { Countdown, ScheduledBubble, SetRoomState } from "../protocol/messages.js";
import type { Identity } from "../auth/identity.js";
import { requireAttached, requireHost } from "./hosting.js";

/** How many upcoming pushes the room's state lists. */
const UPCOMING_IN_STATE = 20;
/** How far ahead a push may be scheduled. */
const MAX_AHEAD_MS = 30 * 24 * 3600 * 1000;

type PushRow = typeof scheduledPushes.$inferSelect;
export type PushStatus = PushRow["status"];

export interface PushesDeps {
  db: Db;
  jobs: Jobs;
  log: Logger;
  /** Saves room state and pushes it to every node's viewers (the hub). */
  setRoomState: SetRoomState;
}

export interface PushInput {
  productId: string;
  at: Date;
  countdownSec: number;
  title?: string;
  priceFen?: number;
  imageUrl?: string;
}

const bubbleOf = (r: PushRow): ScheduledBubble => ({
  id: r.id,
  productId: r.productId,
  title: r.title,
  priceFen: r.priceFen,
  imageUrl: r.imageUrl,
  at: r.fireAt.getTime(),
  countdownSec: r.countdownSec,
});

const view = (r: PushRow) => ({
  ...bubbleOf(r),
  streamId: r.streamId,
  status: r.status,
  createdAt: r.createdAt.toISOString(),
  firedAt: r.firedAt?.toISOString() ?? null,
});
export type ScheduledPush = ReturnType<typeof view>;

const jobKey = (r: { id: string; rev: number }) => `${r.id}-r${r.rev}`;

function checkTime(at: Date, countdownSec: number) {
  const now = Date.now();
  if (Number.isNaN(at.getTime())) throw new AppError("INVALID_PARAMS", "`at` is not a time.", { field: "at" });
  if (at.getTime() <= now) throw new AppError("INVALID_PARAMS", "`at` must be in the future.", { field: "at" });
  if (at.getTime() > now + MAX_AHEAD_MS) throw new AppError("INVALID_PARAMS", "`at` is more than 30 days ahead.", { field: "at" });
  if (countdownSec * 1000 > MAX_AHEAD_MS) throw new AppError("INVALID_PARAMS", "The countdown is too long.", { field: "countdownSec" });
}

/**
 * Scheduled product pushes: the host picks a product and a time; a job makes it the room's bubble
 * then, on every node. The room's state lists the upcoming pushes and the running "starts in"
 * countdown, both derived from PostgreSQL in one place (`refresh`).
 */
export function createPushes(deps: PushesDeps) {
  const { db, jobs } = deps;

  async function load(id: string): Promise<PushRow> {
    const [row] = await db.select().from(scheduledPushes).where(eq(scheduledPushes.id, id));
    if (!row) throw new AppError("NOT_FOUND", "No such scheduled push.");
    return row;
  }

  async function schedule(r: PushRow) {
    await jobs.schedule("push.fire", jobKey(r), { pushId: r.id, rev: r.rev }, r.fireAt.getTime());
    if (r.countdownSec > 0) {
      await jobs.schedule("push.countdown", jobKey(r), { pushId: r.id, rev: r.rev }, r.fireAt.getTime() - r.countdownSec * 1000);
    }
  }

  async function unschedule(r: { id: string; rev: number }) {
    await jobs.unschedule("push.fire", jobKey(r));
    await jobs.unschedule("push.countdown", jobKey(r));
  }

  /**
   * Recomputes the room's upcoming list and running countdown from PostgreSQL and pushes both.
   * Serialized per stream, so a slower refresh never overwrites a newer one.
   */
  async function refresh(streamId: string) {
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`pushes:${streamId}`}))`);
      const rows = await tx
        .select()
        .from(scheduledPushes)
        .where(and(eq(scheduledPushes.streamId, streamId), eq(scheduledPushes.status, "scheduled")))
        .orderBy(asc(scheduledPushes.fireAt), asc(scheduledPushes.id))
        .limit(UPCOMING_IN_STATE);
      const items = rows.map(bubbleOf);
      const now = Date.now();
      const running = rows.find((r) => r.countdownSec > 0 && r.fireAt.getTime() - r.countdownSec * 1000 <= now);
      const countdown: Countdown | null = running ? (({ countdownSec: _c, ...c }) => c)(bubbleOf(running)) : null;
      await deps.setRoomState(streamId, "upcoming", items, { type: "upcoming_products", items });
      await deps.setRoomState(streamId, "countdown", countdown, { type: "product_countdown", countdown });
    });
  }

  return {
    async create(user: Identity, streamId: string, input: PushInput): Promise<ScheduledPush> {
      await requireHost(db, user, streamId);
      await requireAttached(db, streamId, input.productId, "be pushed");
      checkTime(input.at, input.countdownSec);
      const product = await catalogRepo.getProduct(db, input.productId);
      const [row] = await db
        .insert(scheduledPushes)
        .values({
          id: randomUUID(),
          streamId,
          productId: product.id,
          title: input.title ?? product.name,
          priceFen: input.priceFen ?? product.priceFen,
          imageUrl: input.imageUrl ?? (product.pictures[0] || null),
          fireAt: input.at,
          countdownSec: input.countdownSec,
          createdBy: user.userId,
        })
        .returning();
      await schedule(row!);
      await refresh(streamId);
      return view(row!);
    },

    /** Moves a push to a new time (and countdown): a new revision, so jobs of the old one do nothing. */
    async move(user: Identity, id: string, input: { at: Date; countdownSec?: number }): Promise<ScheduledPush> {
      const before = await load(id);
      await requireHost(db, user, before.streamId);
      const countdownSec = input.countdownSec ?? before.countdownSec;
      checkTime(input.at, countdownSec);
      const [row] = await db
        .update(scheduledPushes)
        .set({ fireAt: input.at, countdownSec, rev: sql`${scheduledPushes.rev} + 1` })
        .where(and(eq(scheduledPushes.id, id), eq(scheduledPushes.status, "scheduled")))
        .returning();
      if (!row) throw new AppError("CONFLICT", `The push was already ${(await load(id)).status}.`);
      await unschedule({ id, rev: row.rev - 1 });
      await schedule(row);
      await refresh(row.streamId);
      return view(row);
    },

    async cancel(user: Identity, id: string): Promise<ScheduledPush> {
      const before = await load(id);
      await requireHost(db, user, before.streamId);
      const [row] = await db
        .update(scheduledPushes)
        .set({ status: "cancelled", cancelledAt: new Date() })
        .where(and(eq(scheduledPushes.id, id), eq(scheduledPushes.status, "scheduled")))
        .returning();
      if (!row) throw new AppError("CONFLICT", `The push was already ${(await load(id)).status}.`);
      await unschedule(row);
      await refresh(row.streamId);
      return view(row);
    },

    async list(user: Identity, streamId: string, status?: PushStatus): Promise<ScheduledPush[]> {
      await requireHost(db, user, streamId);
      const rows = await db
        .select()
        .from(scheduledPushes)
        .where(and(eq(scheduledPushes.streamId, streamId), status ? eq(scheduledPushes.status, status) : undefined))
        .orderBy(asc(scheduledPushes.fireAt))
        .limit(500);
      return rows.map(view);
    },

    /** Job: makes the push the bubble, once, if it is still scheduled at this revision. */
    async fire(data: { pushId: string; rev: number }) {
      const streamId = await db.transaction(async (tx) => {
        const [row] = await tx
          .update(scheduledPushes)
          .set({ status: "fired", firedAt: new Date() })
          .where(and(eq(scheduledPushes.id, data.pushId), eq(scheduledPushes.status, "scheduled"), eq(scheduledPushes.rev, data.rev)))
          .returning();
        // Already fired (a retry after the refresh below failed): refresh again, change nothing else.
        if (!row) return (await tx.select({ streamId: scheduledPushes.streamId }).from(scheduledPushes).where(eq(scheduledPushes.id, data.pushId)))[0]?.streamId ?? null;
        // Inside the transaction: if the room cannot be told, the push stays scheduled and the job retries.
        const bubble = { productId: row.productId, title: row.title, priceFen: row.priceFen ?? undefined, imageUrl: row.imageUrl ?? undefined };
        await deps.setRoomState(row.streamId, "bubble", bubble, { type: "product_highlight", productId: row.productId, product: bubble });
        return row.streamId;
      });
      if (streamId) await refresh(streamId);
    },

    /** Job: the countdown of a push starts (if it is still scheduled at this revision). */
    async countdown(data: { pushId: string; rev: number }) {
      const [row] = await db.select().from(scheduledPushes).where(eq(scheduledPushes.id, data.pushId));
      if (row?.status === "scheduled" && row.rev === data.rev) await refresh(row.streamId);
    },

    /** Recreates the jobs of every scheduled push (after a Redis loss, or on start). */
    async reconcile() {
      const rows = await db.select().from(scheduledPushes).where(eq(scheduledPushes.status, "scheduled"));
      for (const r of rows) await schedule(r);
      return rows.length;
    },
  };
}

export type Pushes = ReturnType<typeof createPushes>;
