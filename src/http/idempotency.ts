import { hash } from "node:crypto";
import { and, eq, lt } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { idempotencyKeys } from "../db/shopping.schema.js";
import { AppError } from "../protocol/errors.js";
import { errorBody, type HandlerResult } from "../uws/response.js";

/** A first request that has not finished within this is taken to have died; a retry may run again. */
const STALE_PENDING_MS = 30_000;

export const requestHash = (method: string, path: string, body: unknown) =>
  hash("sha256", `${method} ${path}\n${JSON.stringify(body ?? null)}`, "hex");

/**
 * Runs a mutating request at most once per (scope, key): the same key and body replay the stored
 * answer (errors the client caused included), another body is IDEMPOTENCY_KEY_REUSED, a concurrent
 * duplicate is IDEMPOTENCY_IN_PROGRESS. Our own failures (5xx) are not stored, so a retry runs again.
 * Money-changing domains add their own uniqueness on the key, so a crash between commit and record
 * cannot charge twice.
 */
export function createIdempotency(db: Db) {
  return async function once(scope: string, key: string, hash: string, run: () => Promise<HandlerResult>): Promise<HandlerResult> {
    const claimed = await db
      .insert(idempotencyKeys)
      .values({ scope, key, requestHash: hash, state: "pending" })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (claimed.length === 0) {
      const [row] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
      if (!row) throw new AppError("IDEMPOTENCY_IN_PROGRESS");
      if (row.requestHash !== hash) throw new AppError("IDEMPOTENCY_KEY_REUSED");
      if (row.state === "done") return { status: row.status!, body: row.response ?? undefined, headers: { "idempotent-replayed": "true" } };
      const takenOver = await db
        .update(idempotencyKeys)
        .set({ createdAt: new Date() })
        .where(
          and(
            eq(idempotencyKeys.scope, scope),
            eq(idempotencyKeys.key, key),
            eq(idempotencyKeys.state, "pending"),
            lt(idempotencyKeys.createdAt, new Date(Date.now() - STALE_PENDING_MS)),
          ),
        )
        .returning({ key: idempotencyKeys.key });
      if (takenOver.length === 0) throw new AppError("IDEMPOTENCY_IN_PROGRESS");
    }
    const where = and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key));
    try {
      const result = await run();
      await db.update(idempotencyKeys).set({ state: "done", status: result.status, response: result.body ?? null }).where(where);
      return result;
    } catch (err) {
      if (err instanceof AppError && err.status < 500) {
        const { status, body } = errorBody(err);
        await db.update(idempotencyKeys).set({ state: "done", status, response: body }).where(where);
      } else {
        await db.delete(idempotencyKeys).where(where);
      }
      throw err;
    }
  };
}
