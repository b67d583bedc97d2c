import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { liveStreams } from "./schema.js";

export type LiveStream = typeof liveStreams.$inferSelect;

export async function createStream(db: Db, input: { hostUserId: string; title: string; id?: string }) {
  const [row] = await db
    .insert(liveStreams)
    .values({ id: input.id ?? randomUUID(), hostUserId: input.hostUserId, title: input.title })
    .returning();
  return row!;
}

export async function findStream(db: Db, id: string): Promise<LiveStream | null> {
  const rows = await db.select().from(liveStreams).where(eq(liveStreams.id, id)).limit(1);
  return rows[0] ?? null;
}

/**
 * The one place a stream's status changes. Going live stamps `startedAt` (and clears `endedAt`),
 * ending stamps `endedAt`; saying the status it already has changes neither.
 */
export async function setStreamStatus(db: Db, id: string, status: LiveStream["status"]) {
  const same = sql`${liveStreams.status} = ${status}`;
  await db
    .update(liveStreams)
    .set({
      status,
      updatedAt: sql`now()`,
      ...(status === "live" ? { startedAt: sql`case when ${same} then ${liveStreams.startedAt} else now() end`, endedAt: sql`case when ${same} then ${liveStreams.endedAt} else null end` } : {}),
      ...(status === "ended" ? { endedAt: sql`case when ${same} then ${liveStreams.endedAt} else now() end` } : {}),
    })
    .where(eq(liveStreams.id, id));
}
