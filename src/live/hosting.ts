import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { liveStreams, streamProducts } from "../db/live.schema.js";
import { AppError } from "../protocol/errors.js";
import type { Identity } from "../auth/identity.js";

/** The stream's row, if `user` hosts it (or is an admin). */
export async function requireHost(db: Db, user: Identity, streamId: string) {
  const [stream] = await db.select().from(liveStreams).where(eq(liveStreams.id, streamId));
  if (!stream) throw new AppError("STREAM_NOT_FOUND");
  if (!user.admin && stream.hostUserId !== user.userId) throw new AppError("FORBIDDEN");
  return stream;
}

/** Hosts sell (push, flash-sell, group-sell) only the products attached to their stream. */
export async function requireAttached(db: Db, streamId: string, productId: string, what: string) {
  const [attached] = await db
    .select({ productId: streamProducts.productId })
    .from(streamProducts)
    .where(and(eq(streamProducts.streamId, streamId), eq(streamProducts.productId, productId)));
  if (!attached) throw new AppError("FORBIDDEN", `Only products the stream sells can ${what}.`);
}
