import { createHash, randomBytes, randomUUID } from "node:crypto";
import { asc, desc, eq, inArray } from "drizzle-orm";
import { catalogRepo } from "../catalog/catalog.repo.js";
import { ProductSummary } from "../catalog/catalog.dto.js";
import type { Db } from "../db/client.js";
import { users } from "../db/identity.schema.js";
import { liveStreams, streamProducts } from "../db/live.schema.js";
import { AppError } from "../protocol/errors.js";
import { requireHost as requireHostOf } from "./hosting.js";
import type { Identity } from "../realtime/client.js";

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

/** Live streams: who hosts them, their publish key, and the products they sell. */
export function createStreams(db: Db, urls: StreamUrls = noUrls) {
  async function row(id: string): Promise<StreamRow> {
    const [s] = await db.select().from(liveStreams).where(eq(liveStreams.id, id));
    if (!s) throw new AppError("STREAM_NOT_FOUND");
    return s;
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
    const s = await row(id);
    const [host] = await db.select({ nickname: users.nickname }).from(users).where(eq(users.id, s.hostUserId));
    return { id: s.id, title: s.title, status: s.status, hostId: s.hostUserId, hostName: host?.nickname ?? "", createdAt: s.createdAt.toISOString(), flvUrl: urls.flv(s.id) };
  }

  return {
    info,
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
      for (const p of unique) await catalogRepo.getProduct(db, p, true);
      await db.transaction(async (tx) => {
        await tx.delete(streamProducts).where(eq(streamProducts.streamId, id));
        if (unique.length) await tx.insert(streamProducts).values(unique.map((productId, position) => ({ streamId: id, productId, position })));
      });
      return products(id);
    },
    async list(status?: StreamRow["status"]) {
      const rows = await db
        .select({ id: liveStreams.id })
        .from(liveStreams)
        .where(status ? inArray(liveStreams.status, [status]) : undefined)
        .orderBy(desc(liveStreams.createdAt))
        .limit(100);
      return Promise.all(rows.map((r) => info(r.id)));
    },
  };
}

export type Streams = ReturnType<typeof createStreams>;
