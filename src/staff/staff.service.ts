import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, isNotNull } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { liveStreams, users } from "../db/schema.js";
import { createSession, deleteUserSessions, type User } from "../db/users.repo.js";
import { AppError } from "../protocol/errors.js";
import type { Identity } from "../auth/identity.js";
import type { LoginLimits } from "./login-limits.redis.js";
import { hashPassword, PASSWORD_RULES, verifyPassword } from "./passwords.js";

export const STAFF_ROLES = ["host", "admin"] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Sign-in names: 3–32 of a-z 0-9 _ . -, starting with a letter or digit; compared in lower case. */
export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .min(3)
  .max(32)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, "letters, digits, _ . - only, starting with a letter or digit");
export const Password = z.string().min(PASSWORD_RULES.min).max(PASSWORD_RULES.max);
export const Nickname = z.string().trim().min(1).max(40);

/** The signed-in person as the console sees them. */
export const SessionUser = z.object({
  id: z.string(),
  nickname: z.string(),
  username: z.string().nullable(),
  /** "" when the user has not set one (WeChat's avatar fill-in, POST /v1/me/avatar). */
  avatarUrl: z.string(),
  role: z.enum(["user", "host", "admin"]),
  /** Streams this user hosts (an admin may run every stream: GET /v1/streams/mine). */
  hostOf: z.array(z.string()),
});
export type SessionUser = z.infer<typeof SessionUser>;

/** A staff account on the admin pages. */
export const StaffAccount = z.object({
  id: z.string(),
  username: z.string(),
  nickname: z.string(),
  role: z.enum(STAFF_ROLES),
  disabled: z.boolean(),
  createdAt: z.string(),
  hostOf: z.array(z.string()),
});
export type StaffAccount = z.infer<typeof StaffAccount>;

async function hostedBy(db: Db, userIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (userIds.length === 0) return out;
  const rows = await db
    .select({ id: liveStreams.id, hostUserId: liveStreams.hostUserId })
    .from(liveStreams)
    .where(inArray(liveStreams.hostUserId, userIds))
    .orderBy(asc(liveStreams.createdAt));
  for (const r of rows) out.set(r.hostUserId, [...(out.get(r.hostUserId) ?? []), r.id]);
  return out;
}

/** The user behind an identity, as GET /v1/me and the sign-in answer show them. */
export async function sessionUser(db: Db, userId: string): Promise<SessionUser> {
  const [u] = await db.select().from(users).where(eq(users.id, userId));
  if (!u) throw new AppError("AUTH_FAILED");
  const hosted = await hostedBy(db, [u.id]);
  return { id: u.id, nickname: u.nickname, username: u.username, avatarUrl: u.avatarUrl, role: u.role, hostOf: hosted.get(u.id) ?? [] };
}

const accountView = (u: User, hostOf: string[]): StaffAccount => ({
  id: u.id,
  username: u.username ?? "",
  nickname: u.nickname,
  role: u.role === "admin" ? "admin" : "host",
  disabled: u.disabledAt !== null,
  createdAt: u.createdAt.toISOString(),
  hostOf,
});

/** Creates a staff account with a hashed password; CONFLICT when the username is taken. Used by the API and the admin command. */
export async function createStaffAccount(db: Db, input: { username: string; nickname: string; role: StaffRole; password: string; id?: string }) {
  const username = Username.parse(input.username);
  const passwordHash = await hashPassword(Password.parse(input.password));
  const [row] = await db
    .insert(users)
    .values({ id: input.id ?? randomUUID(), username, nickname: input.nickname, role: input.role, passwordHash })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new AppError("CONFLICT", `The username "${username}" is taken.`);
  return accountView(row, []);
}

/**
 * Staff accounts: sign-in with a username and password (scrypt), limited per address and per
 * account; admins create, change and disable accounts. A session is the same opaque token as a
 * mini-program login's.
 */
export function createStaff(deps: { db: Db; limits: LoginLimits; sessionTtlSec: number; sessionsEnded?: (userId: string) => Promise<void> }) {
  const { db, limits } = deps;

  async function login(input: { username: string; password: string }, address: string) {
    const wait = await limits.hitAddress(address);
    if (wait !== null) throw new AppError("RATE_LIMITED", "Too many sign-in attempts from this address; wait a minute.", undefined, wait);
    const username = input.username.trim().toLowerCase();
    const locked = await limits.locked(username);
    if (locked !== null) throw new AppError("ACCOUNT_LOCKED", undefined, undefined, locked);
    const [u] = await db.select().from(users).where(eq(users.username, username));
    const staff = u && u.role !== "user" && u.disabledAt === null ? u : null;
    const ok = await verifyPassword(input.password, staff?.passwordHash ?? null);
    if (!ok || !staff) {
      const lockedNow = await limits.fail(username);
      if (lockedNow !== null) throw new AppError("ACCOUNT_LOCKED", undefined, undefined, lockedNow);
      throw new AppError("LOGIN_FAILED");
    }
    await limits.succeed(username);
    const session = await createSession(db, staff.id, deps.sessionTtlSec);
    return { token: session.token, expiresAt: session.expiresAt.toISOString(), user: await sessionUser(db, staff.id) };
  }

  async function get(id: string): Promise<StaffAccount> {
    const [u] = await db.select().from(users).where(and(eq(users.id, id), isNotNull(users.username)));
    if (!u || u.role === "user") throw new AppError("NOT_FOUND", "No such staff account.");
    return accountView(u, (await hostedBy(db, [u.id])).get(u.id) ?? []);
  }

  async function list(): Promise<StaffAccount[]> {
    const rows = await db
      .select()
      .from(users)
      .where(and(isNotNull(users.username), inArray(users.role, [...STAFF_ROLES])))
      .orderBy(asc(users.username));
    const hosted = await hostedBy(db, rows.map((r) => r.id));
    return rows.map((u) => accountView(u, hosted.get(u.id) ?? []));
  }

  /**
   * Disabling, a role change or a new password ends the account's sessions (and closes its live
   * sockets on every node); nobody changes their own role or disables themselves.
   */
  async function update(actor: Identity, id: string, patch: { nickname?: string; password?: string; role?: StaffRole; disabled?: boolean }) {
    const before = await get(id);
    const roleChanged = patch.role !== undefined && patch.role !== before.role;
    const disabling = patch.disabled === true && !before.disabled;
    if (id === actor.userId && (roleChanged || patch.disabled === true)) {
      throw new AppError("CONFLICT", "You cannot change your own role or disable yourself; ask another admin.");
    }
    const set: Partial<typeof users.$inferInsert> = {};
    if (patch.nickname !== undefined) set.nickname = patch.nickname;
    if (patch.role !== undefined) set.role = patch.role;
    if (patch.disabled !== undefined) set.disabledAt = patch.disabled ? (before.disabled ? undefined : new Date()) : null;
    if (patch.password !== undefined) set.passwordHash = await hashPassword(patch.password);
    if (Object.values(set).some((v) => v !== undefined)) await db.update(users).set(set).where(eq(users.id, id));
    if (roleChanged || disabling || patch.password !== undefined) {
      await deleteUserSessions(db, id);
      await deps.sessionsEnded?.(id);
    }
    if (patch.password !== undefined || patch.disabled === false) await limits.clear(before.username);
    return get(id);
  }

  return {
    login,
    list,
    get,
    update,
    create: (input: { username: string; nickname: string; role: StaffRole; password: string }) => createStaffAccount(db, input),
  };
}

export type Staff = ReturnType<typeof createStaff>;
