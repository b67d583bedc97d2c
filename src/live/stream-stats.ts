import type { RedisClient } from "../redis/connect.js";
import { and, eq, gte, isNotNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.js";
import { orders } from "../db/orders.schema.js";
import type { Identity } from "../auth/identity.js";
import type { RedisKeys } from "../redis/keys.js";
import { requireHost } from "./hosting.js";

/** One point of a show's time series: from `at` until the next point. */
export const StatsPoint = z.object({
  /** Start of the bucket, epoch ms. */
  at: z.number().int(),
  /** Viewers in the room when the bucket began. */
  viewers: z.number().int(),
  /** Likes, comments, paid orders and their total (fen) from `at` until the next point (or now). */
  likes: z.number().int(),
  comments: z.number().int(),
  orders: z.number().int(),
  gmvFen: z.number().int(),
});
export type StatsPoint = z.infer<typeof StatsPoint>;

interface Sample {
  at: number;
  viewers: number;
  likes: number;
  comments: number;
}

/**
 * A stream's stats while its room is open: the hub's counts script records the room's totals once
 * per bucket (`room.stats`, kept with the room's keys); counts per point are the differences to the
 * next point. Orders and GMV come from PostgreSQL: the stream's orders by the time they were paid.
 */
export function createStreamStats(deps: { db: Db; redis: RedisClient; keys: RedisKeys; bucketMs: number }) {
  const { db, redis, keys } = deps;

  async function series(user: Identity, streamId: string, since: number): Promise<StatsPoint[]> {
    await requireHost(db, user, streamId);
    const [raw, totals] = await Promise.all([redis.hgetall(keys.room.stats(streamId)), redis.hmget(keys.room.state(streamId), "likes", "comments")]);
    const samples: Sample[] = [];
    for (const [at, value] of Object.entries(raw)) {
      const m = /^(\d+):(\d+):(\d+)$/.exec(value);
      if (m) samples.push({ at: Number(at), viewers: Number(m[1]), likes: Number(m[2]), comments: Number(m[3]) });
    }
    if (samples.length === 0) return [];
    samples.sort((a, b) => a.at - b.at);
    const now = { likes: Number(totals[0] ?? 0), comments: Number(totals[1] ?? 0) };
    const points: StatsPoint[] = samples.map((s, i) => {
      const next = samples[i + 1] ?? now;
      // Totals restart from zero if the room's keys were lost; a drop is never a negative count.
      return { at: s.at, viewers: s.viewers, likes: Math.max(0, next.likes - s.likes), comments: Math.max(0, next.comments - s.comments), orders: 0, gmvFen: 0 };
    });

    // The width inline (an integer from the configuration), so SELECT and GROUP BY are the same expression.
    const width = sql.raw(String(Math.trunc(deps.bucketMs)));
    const bucket = sql<string>`floor(extract(epoch from ${orders.paidAt}) * 1000 / ${width}) * ${width}`;
    const paid = await db
      .select({ at: bucket, orders: sql<string>`count(*)`, gmvFen: sql<string>`coalesce(sum(${orders.totalFen}), 0)` })
      .from(orders)
      .where(and(eq(orders.streamId, streamId), isNotNull(orders.paidAt), gte(orders.paidAt, new Date(samples[0]!.at))))
      .groupBy(bucket);
    for (const row of paid) {
      const at = Number(row.at);
      // The point whose span holds the bucket (the room may have been closed for a while between points).
      let i = points.length - 1;
      while (i > 0 && points[i]!.at > at) i--;
      points[i]!.orders += Number(row.orders);
      points[i]!.gmvFen += Number(row.gmvFen);
    }
    return points.filter((p) => p.at >= since);
  }

  return { series, bucketMs: deps.bucketMs };
}

export type StreamStats = ReturnType<typeof createStreamStats>;
