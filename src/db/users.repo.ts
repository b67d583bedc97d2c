import { createHash, randomBytes, randomUUID } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "./client.js";
import { sessions, users } from "./schema.js";

export type User = typeof users.$inferSelect;

/** A session's id as stored and announced: the SHA-256 of its token (the token itself is never kept). */
export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

export async function createUser(db: Db, input: { nickname: string; role?: User["role"]; id?: string }) {
  const [row] = await db
    .insert(users)
    .values({ id: input.id ?? randomUUID(), nickname: input.nickname, role: input.role ?? "user" })
    .returning();
  return row!;
}

/** The user behind a WeChat openid, created on first login. */
export async function upsertWechatUser(db: Db, input: { openid: string; unionid: string | null; nickname: string }) {
  await db
    .insert(users)
    .values({ id: randomUUID(), openid: input.openid, unionid: input.unionid, nickname: input.nickname })
    .onConflictDoNothing({ target: users.openid });
  const [row] = await db.select().from(users).where(eq(users.openid, input.openid));
  return row!;
}

/** Issues an opaque token; only its hash is stored (with WeChat's session_key, server-side). */
export async function createSession(db: Db, userId: string, ttlSec: number, wechatSessionKey: string | null = null) {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + ttlSec * 1000);
  await db.insert(sessions).values({ tokenHash: hashToken(token), userId, expiresAt, wechatSessionKey });
  return { token, expiresAt };
}

/** The user behind a live (unexpired) token of an enabled account, with the session's hash and expiry; or null. */
export async function findSession(db: Db, token: string): Promise<{ user: User; tokenHash: string; expiresAt: Date } | null> {
  const tokenHash = hashToken(token);
  const rows = await db
    .select({ user: users, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, new Date()), isNull(users.disabledAt)))
    .limit(1);
  return rows[0] ? { user: rows[0].user, tokenHash, expiresAt: rows[0].expiresAt } : null;
}


export async function deleteSession(db: Db, token: string) {
  await db.delete(sessions).where(eq(sessions.tokenHash, hashToken(token)));
}

export async function findUser(db: Db, id: string): Promise<User | null> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row ?? null;
}

/** Changes only the fields given; returns the updated user (null when there is none). */
export async function updateProfile(db: Db, id: string, patch: { nickname?: string; avatarUrl?: string }): Promise<User | null> {
  if (patch.nickname === undefined && patch.avatarUrl === undefined) return findUser(db, id);
  const [row] = await db.update(users).set(patch).where(eq(users.id, id)).returning();
  return row ?? null;
}

/** Ends every session of a user (disabled, role changed, new password). */
export async function deleteUserSessions(db: Db, userId: string) {
  await db.delete(sessions).where(eq(sessions.userId, userId));
}
