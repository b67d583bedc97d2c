import { createHash, randomBytes, randomUUID } from "node:crypto";
import { asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { catalogRepo } from "../catalog/catalog.repo.js";
import { ProductSummary } from "../catalog/catalog.dto.js";
import type { Db } from "../db/client.js";
import { users } from "../db/identity.schema.js";
import { liveStreams, streamProducts } from "../db/live.schema.js";
import { AppError } from "../protocol/errors.js";
import { requireHost as requireHostOf } from "./hosting.js";
import type { Identity } from "../auth/identity.js";

export const hashStreamKey = (key: string) => createHash("sha256").update(key).digest("hex");
const newStreamKey = () => `sk_${randomBytes(24).toString("base64url")}`;

type StreamRow = typeof liveStreams.$inferSelect;

/** Where a stream is published and played; null where this deployment has no ingest. */
export interface StreamUrls {
  /** The RTMP URL to publish to, without the key: append `?key=<streamKey>`. */
  rtmp(streamId: string): string | null;
  /** The HTTP-FLV URL for `live-player`; never carries the key. */
  flv(streamId: string): string | null;
}

const noUrls: StreamUrls = { rtmp: () => null, flv: () => null };

/** The live viewer and like counts of many streams in one round trip (the hub keeps them in Redis). */
export type StreamCounts = (streamIds: readonly string[]) => Promise<Map<string, { viewers: number; likes: number }>>;

const noCounts: StreamCounts = () => Promise.resolve(new Map<string, { viewers: number; likes: number }>());

/** live: most viewers first; upcoming: idle, soonest scheduled first, then unscheduled; ended: newest end first. */
export type StreamListStatus = "live" | "upcoming" | "ended" | "idle";

/** Live streams ordered by viewers are sorted here, after reading every live stream's count. */
const MAX_LIVE_SORTED = 1000;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Live streams: who hosts them, their publish key, the products they sell, and the lists viewers browse. */
export function createStreams(db: Db, urls: StreamUrls = noUrls, counts: StreamCounts = noCounts) {
  async function row(id: string): Promise<StreamRow> {
    const [s] = await db.select().from(liveStreams).where(eq(liveStreams.id, id));
    if (!s) throw new AppError("STREAM_NOT_FOUND");
    return s;
  }

  /** Stream infos for rows, in their order: one query for the hosts, one round trip for the counts. */
  async function views(rows: StreamRow[], known?: Map<string, { viewers: number; likes: number }>) {
    if (rows.length === 0) return [];
    const hostIds = [...new Set(rows.map((r) => r.hostUserId))];
    const [hosts, live] = await Promise.all([
      db.select({ id: users.id, nickname: users.nickname }).from(users).where(inArray(users.id, hostIds)),
      known ?? counts(rows.map((r) => r.id)),
    ]);
    const names = new Map(hosts.map((h) => [h.id, h.nickname]));
    return rows.map((s) => ({
      id: s.id,
      title: s.title,
      status: s.status,
      hostId: s.hostUserId,
      hostName: names.get(s.hostUserId) ?? "",
      coverUrl: s.coverUrl,
      scheduledAt: iso(s.scheduledAt),
      startedAt: iso(s.startedAt),
      endedAt: iso(s.endedAt),
      viewerCount: live.get(s.id)?.viewers ?? 0,
      likeCount: live.get(s.id)?.likes ?? 0,
      createdAt: s.createdAt.toISOString(),
      flvUrl: urls.flv(s.id),
    }));
  }

  const requireHost = (user: Identity, id: string) => requireHostOf(db, user, id);

  async function products(streamId: string): Promise<ProductSummary[]> {
    const attached = await db
      .select({ productId: streamProducts.productId })
      .from(streamProducts)
      .where(eq(streamProducts.streamId, streamId))
      .orderBy(asc(streamProducts.position));
    const out: ProductSummary[] = [];
    for (const a of attached) {
      const p = await catalogRepo.getProduct(db, a.productId).catch(() => null);
      if (p) out.push(ProductSummary.parse(p));
    }
    return out;
  }

  async function info(id: string) {
    const [view] = await views([await row(id)]);
    return view!;
  }

  async function list(q: { status?: StreamListStatus; page: number; pageSize: number }) {
    const offset = (q.page - 1) * q.pageSize;
    if (q.status === "live") {
      const rows = await db.select().from(liveStreams).where(eq(liveStreams.status, "live")).orderBy(desc(liveStreams.startedAt), asc(liveStreams.id)).limit(MAX_LIVE_SORTED);
      const live = await counts(rows.map((r) => r.id));
      const viewersOf = (r: StreamRow) => live.get(r.id)?.viewers ?? 0;
      // Stable: equal counts keep the newest-started-first order of the query.
      const page = [...rows].sort((a, b) => viewersOf(b) - viewersOf(a)).slice(offset, offset + q.pageSize);
      return views(page, live);
    }
    const [where, order]: [SQL | undefined, SQL[]] =
      q.status === "upcoming"
        ? [eq(liveStreams.status, "idle"), [sql`${liveStreams.scheduledAt} asc nulls last`, desc(liveStreams.createdAt), asc(liveStreams.id)]]
        : q.status === "ended"
          ? [eq(liveStreams.status, "ended"), [sql`${liveStreams.endedAt} desc nulls last`, asc(liveStreams.id)]]
          : [q.status ? eq(liveStreams.status, q.status) : undefined, [desc(liveStreams.createdAt), asc(liveStreams.id)]];
    const rows = await db.select().from(liveStreams).where(where).orderBy(...order).limit(q.pageSize).offset(offset);
    return views(rows);
  }

  /** The host (or an admin) changes what viewers see before and around the show. */
  async function update(user: Identity, id: string, patch: { title?: string; coverUrl?: string; scheduledAt?: string | null }) {
    await requireHost(user, id);
    const set: Partial<typeof liveStreams.$inferInsert> = {};
    if (patch.title !== undefined) set.title = patch.title;
    if (patch.coverUrl !== undefined) set.coverUrl = patch.coverUrl;
    if (patch.scheduledAt !== undefined) set.scheduledAt = patch.scheduledAt === null ? null : new Date(patch.scheduledAt);
    if (Object.keys(set).length > 0) await db.update(liveStreams).set({ ...set, updatedAt: new Date() }).where(eq(liveStreams.id, id));
    return info(id);
  }

  return {
    info,
    list,
    update,
    products,
    /** Admins create streams for vetted hosts: a host may set live prices, so hosting is granted, not taken. */
    async create(user: Identity, input: { title: string; hostUserId?: string }) {
      if (!user.admin) throw new AppError("FORBIDDEN", "Only an admin may create a stream for a host.");
      const hostUserId = input.hostUserId ?? user.userId;
      const [host] = await db.select({ id: users.id }).from(users).where(eq(users.id, hostUserId));
      if (!host) throw new AppError("NOT_FOUND", "No such host user.");
      const streamKey = newStreamKey();
      const [s] = await db.insert(liveStreams).values({ id: randomUUID(), hostUserId, title: input.title, streamKeyHash: hashStreamKey(streamKey) }).returning();
      return { ...(await info(s!.id)), streamKey, rtmpUrl: urls.rtmp(s!.id) };
    },
    async rotateKey(user: Identity, id: string) {
      await requireHost(user, id);
      const streamKey = newStreamKey();
      await db.update(liveStreams).set({ streamKeyHash: hashStreamKey(streamKey) }).where(eq(liveStreams.id, id));
      return { id, streamKey, rtmpUrl: urls.rtmp(id) };
    },
    async setProducts(user: Identity, id: string, productIds: string[]) {
      await requireHost(user, id);
      const unique = [...new Set(productIds)];
      // A stream sells listed products only: an unlisted one is not for sale, not even through a live coupon.
      for (const p of unique) {
        if (!(await catalogRepo.getProduct(db, p, true)).listed) throw new AppError("PRODUCT_NOT_LISTED", undefined, { productId: p });
      }
      await db.transaction(async (tx) => {
        await tx.delete(streamProducts).where(eq(streamProducts.streamId, id));
        if (unique.length) await tx.insert(streamProducts).values(unique.map((productId, position) => ({ streamId: id, productId, position })));
      });
      return products(id);
    },
    /** The streams `user` hosts, newest first; every stream for an admin. */
    async mine(user: Identity) {
      const rows = await db
        .select()
        .from(liveStreams)
        .where(user.admin ? undefined : eq(liveStreams.hostUserId, user.userId))
        .orderBy(desc(liveStreams.createdAt))
        .limit(500);
      return views(rows);
    },
  };
}

export type Streams = ReturnType<typeof createStreams>;
