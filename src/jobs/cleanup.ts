import { inArray, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { sessions } from "../db/identity.schema.js";
import { idempotencyKeys } from "../db/shopping.schema.js";
import type { Logger } from "../log.js";
import type { Jobs } from "./jobs.js";

/** At most this many batches per table in one run; the next run goes on. */
const MAX_BATCHES = 50;

/**
 * Deletes what is kept only for a while: expired sessions, and Idempotency-Key rows (each keeps a
 * whole response) older than `idempotencyTtlSec`. Bounded batches, each its own statement, so a
 * run never holds long locks; safe on several nodes at once. Orders keep their own key, so a retry
 * after a key's row is gone still finds its order. The run repeats every `intervalSec` (one BullMQ
 * job scheduler for all nodes, kept only in Redis: `reconcile` sets it again after a loss).
 */
export function createCleanup(deps: { db: Db; jobs: Jobs; log: Logger; idempotencyTtlSec: number; batch: number; intervalSec: number }) {
  const { db, batch } = deps;

  async function drain(deleteBatch: () => Promise<number>) {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await deleteBatch();
      total += n;
      if (n < batch) break;
    }
    return total;
  }

  return {
    /**
     * Makes sure the repeating job exists (the reconciler's part: on start and every round, so a
     * Redis that lost it gets it back). Setting it again keeps its next run where it was.
     */
    async reconcile() {
      await deps.jobs.every("maintenance.cleanup", deps.intervalSec * 1000, {});
      return 1;
    },
    /** One run; resolves with how many rows of each went. */
    async run() {
      const expiredSessions = await drain(async () => {
        const due = db.select({ h: sessions.tokenHash }).from(sessions).where(lt(sessions.expiresAt, new Date())).limit(batch);
        return (await db.delete(sessions).where(inArray(sessions.tokenHash, due)).returning({ h: sessions.tokenHash })).length;
      });
      const cutoff = new Date(Date.now() - deps.idempotencyTtlSec * 1000);
      const idempotencyKeysDeleted = await drain(async () => {
        const rows = await db
          .delete(idempotencyKeys)
          .where(
            sql`(${idempotencyKeys.scope}, ${idempotencyKeys.key}) in (select scope, key from idempotency_keys where created_at < ${cutoff.toISOString()}::timestamptz limit ${batch})`,
          )
          .returning({ key: idempotencyKeys.key });
        return rows.length;
      });
      if (expiredSessions + idempotencyKeysDeleted > 0) deps.log.info({ expiredSessions, idempotencyKeys: idempotencyKeysDeleted }, "cleaned up");
      return { expiredSessions, idempotencyKeys: idempotencyKeysDeleted };
    },
  };
}
