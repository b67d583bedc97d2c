import { createHash, randomBytes, randomUUID } from "node:crypto";
import { and, eq, gt } from "drizzle-orm";
import type { Db } from "./client.js";
import { sessions, users } from "./schema.js";

export type User = typeof users.$inferSelect;

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

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

/** The user behind a live (unexpired) token, or null. */
export async function findUserBySession(db: Db, token: string): Promise<User | null> {
  const rows = await db
    .select({ user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, hashToken(token)), gt(sessions.expiresAt, new Date())))
    .limit(1);
  return rows[0]?.user ?? null;
}

export async function deleteSession(db: Db, token: string) {
  await db.delete(sessions).where(eq(sessions.tokenHash, hashToken(token)));
}
