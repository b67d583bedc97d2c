import { randomUUID } from "node:crypto";
import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf, type Db } from "../db/client.js";
import { users } from "../db/identity.schema.js";
import { roomBans } from "../db/moderation.schema.js";
import { AppError } from "../protocol/errors.js";
import type { Identity } from "../auth/identity.js";
import { requireHost } from "./hosting.js";

export const BanInput = z.object({
  /** How long; absent: until lifted. */
  durationSec: z.number().int().min(60).max(10 * 365 * 24 * 3600).optional(),
  reason: z.string().trim().max(200).default(""),
});
export type BanInput = z.infer<typeof BanInput>;

export const Ban = z.object({
  /** null: every room (an admin's ban). */
  streamId: z.string().nullable(),
  userId: z.string(),
  nickname: z.string(),
  reason: z.string(),
  bannedBy: z.string(),
  createdAt: z.string(),
  /** null: until lifted. */
  expiresAt: z.string().nullable(),
});
export type Ban = z.infer<typeof Ban>;

/**
 * What every node must hear of: a ban (or its renewal) or a lift, with its row's revision
 * (`updated_at` in µs: a later change of the same ban has a higher one), or a kick (no row).
 */
export type BanChange =
  | { kind: "ban"; streamId: string | null; userId: string; until: number | null; rev: number }
  | { kind: "lift"; streamId: string | null; userId: string; rev: number }
  | { kind: "kick"; streamId: string; userId: string };

/** A ban row as nodes mirror it: lifted, or active until `until` (ms; null: until lifted). */
export interface BanState {
  streamId: string | null;
  userId: string;
  until: number | null;
  lifted: boolean;
  rev: number;
}

const REV = sql<string>`(extract(epoch from ${roomBans.updatedAt}) * 1000000)::bigint::text`;
/** Changes fetched again after this much, in case a transaction committed after a later one was read. */
const OVERLAP_MS = 60_000;

/**
 * Bans and kicks in live rooms. A host bans or kicks in the rooms it hosts (an admin in any), an
 * admin bans from every room. PostgreSQL keeps the bans; after each commit `changed` tells every
 * node, which closes the user's sockets there and refuses the user from then on.
 */
export function createBans(deps: { db: Db; changed: (change: BanChange) => Promise<void> }) {
  const { db } = deps;
  const inRoom = (streamId: string | null) => (streamId === null ? isNull(roomBans.streamId) : eq(roomBans.streamId, streamId));
  const unlifted = (streamId: string | null, userId: string) => and(inRoom(streamId), eq(roomBans.userId, userId), isNull(roomBans.liftedAt));
  const active = () => and(isNull(roomBans.liftedAt), or(isNull(roomBans.expiresAt), gt(roomBans.expiresAt, sql`now()`)));

  async function target(userId: string) {
    const [user] = await db.select({ id: users.id, role: users.role }).from(users).where(eq(users.id, userId));
    if (!user) throw new AppError("NOT_FOUND", "No such user.");
    return user;
  }

  async function list(streamId: string | null): Promise<Ban[]> {
    const rows = await db
      .select({ ban: roomBans, nickname: users.nickname })
      .from(roomBans)
      .innerJoin(users, eq(users.id, roomBans.userId))
      .where(and(inRoom(streamId), active()))
      .orderBy(desc(roomBans.createdAt));
    return rows.map(({ ban, nickname }) => ({
      streamId: ban.streamId,
      userId: ban.userId,
      nickname,
      reason: ban.reason,
      bannedBy: ban.bannedBy,
      createdAt: ban.createdAt.toISOString(),
      expiresAt: ban.expiresAt?.toISOString() ?? null,
    }));
  }

  async function ban(by: Identity, streamId: string | null, userId: string, input: BanInput): Promise<Ban> {
    const expiresAt = input.durationSec === undefined ? null : new Date(Date.now() + input.durationSec * 1000);
    const fields = { bannedBy: by.userId, reason: input.reason, expiresAt, updatedAt: sql`clock_timestamp()` };
    // One unlifted row per (room, user): banning again renews it. Two first bans at once: one inserts, the other renews.
    let rev: number | null = null;
    for (let attempt = 0; attempt < 3 && rev === null; attempt++) {
      const [renewed] = await db.update(roomBans).set({ ...fields, createdAt: sql`now()` }).where(unlifted(streamId, userId)).returning({ rev: REV });
      const [made] = renewed ? [renewed] : await db.insert(roomBans).values({ id: randomUUID(), streamId, userId, ...fields }).onConflictDoNothing().returning({ rev: REV });
      if (made) rev = Number(made.rev);
    }
    if (rev === null) throw new AppError("CONFLICT", "The ban is being changed by someone else; try again.");
    await deps.changed({ kind: "ban", streamId, userId, until: expiresAt?.getTime() ?? null, rev });
    const [out] = (await list(streamId)).filter((b) => b.userId === userId);
    return out!;
  }

  async function lift(by: Identity, streamId: string | null, userId: string) {
    const [row] = await db
      .update(roomBans)
      .set({ liftedAt: sql`now()`, liftedBy: by.userId, updatedAt: sql`clock_timestamp()` })
      .where(unlifted(streamId, userId))
      .returning({ rev: REV });
    if (!row) throw new AppError("NOT_FOUND", "No such ban.");
    await deps.changed({ kind: "lift", streamId, userId, rev: Number(row.rev) });
  }

  /** Hosts and admins keep their place: the stream's host and admins cannot be banned or kicked from a room. */
  async function roomTarget(by: Identity, streamId: string, userId: string) {
    const stream = await requireHost(db, by, streamId);
    const user = await target(userId);
    if (user.role === "admin" || user.id === stream.hostUserId) throw new AppError("FORBIDDEN", "The stream's host and admins cannot be banned or kicked.");
  }

  return {
    /** The room's bans in force, newest first. */
    async listRoom(by: Identity, streamId: string) {
      await requireHost(db, by, streamId);
      return list(streamId);
    },
    async banInRoom(by: Identity, streamId: string, userId: string, input: BanInput) {
      await roomTarget(by, streamId, userId);
      return ban(by, streamId, userId, input);
    },
    async liftInRoom(by: Identity, streamId: string, userId: string) {
      await requireHost(db, by, streamId);
      await lift(by, streamId, userId);
    },
    /** Closes the user's sockets in the room now, with no lasting ban. */
    async kick(by: Identity, streamId: string, userId: string) {
      await roomTarget(by, streamId, userId);
      await deps.changed({ kind: "kick", streamId, userId });
    },
    /** Bans from every room (admins; callers check). Staff accounts are disabled, not banned. */
    async banEverywhere(by: Identity, userId: string, input: BanInput) {
      const user = await target(userId);
      if (user.role !== "user") throw new AppError("FORBIDDEN", "Staff accounts are disabled (PATCH /v1/admin/staff/:id), not banned.");
      return ban(by, null, userId, input);
    },
    liftEverywhere: (by: Identity, userId: string) => lift(by, null, userId),
    listEverywhere: () => list(null),

    /**
     * What a node mirrors: with no cursor every ban in force; with one, every row changed since a
     * little before it (lifts and expiries too). `cursor` is the database's clock for the next call.
     */
    async changes(cursor: number | null): Promise<{ bans: BanState[]; cursor: number }> {
      // The database's clock first: every row changed after it is in this read or the next.
      const clock: unknown = await db.execute(sql`select (extract(epoch from clock_timestamp()) * 1000)::bigint::text as ms`);
      const [now] = rowsOf<{ ms: string }>(clock);
      const rows = await db
        .select({ streamId: roomBans.streamId, userId: roomBans.userId, expiresAt: roomBans.expiresAt, liftedAt: roomBans.liftedAt, rev: REV })
        .from(roomBans)
        .where(cursor === null ? active() : gt(roomBans.updatedAt, new Date(cursor - OVERLAP_MS)));
      return {
        bans: rows.map((r) => ({ streamId: r.streamId, userId: r.userId, until: r.expiresAt?.getTime() ?? null, lifted: r.liftedAt !== null, rev: Number(r.rev) })),
        cursor: Number(now!.ms),
      };
    },
  };
}

export type Bans = ReturnType<typeof createBans>;
