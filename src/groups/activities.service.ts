import { randomUUID } from "node:crypto";
import { and, asc, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { skus } from "../db/catalog.schema.js";
import { groupActivities, type GroupFlow } from "../db/groups.schema.js";
import { liveStreams } from "../db/live.schema.js";
import { AppError } from "../protocol/errors.js";
import type { Identity } from "../auth/identity.js";
import { requireAttached } from "../live/hosting.js";

type ActivityRow = typeof groupActivities.$inferSelect;

export interface ActivityInput {
  productId: string;
  skuId?: string;
  streamId?: string;
  groupSize: number;
  groupPriceFen: number;
  windowSec: number;
  /** leader_pays: the group opens when its leader pays; join_first: open at once, everyone pays when it is full. */
  flow: GroupFlow;
  perUserLimit: number;
  simulateOnExpiry: boolean;
}
export type ActivityPatch = Partial<Pick<ActivityInput, "groupSize" | "groupPriceFen" | "windowSec" | "flow" | "perUserLimit" | "simulateOnExpiry">>;

const view = (a: ActivityRow) => ({
  id: a.id,
  productId: a.productId,
  skuId: a.skuId,
  streamId: a.streamId,
  groupSize: a.groupSize,
  groupPriceFen: a.groupPriceFen,
  windowSec: a.windowSec,
  flow: a.flow,
  perUserLimit: a.perUserLimit,
  simulateOnExpiry: a.simulateOnExpiry,
  status: a.status,
  createdAt: a.createdAt.toISOString(),
});
export type Activity = ReturnType<typeof view>;

/** Group-buy activities, managed by admins. Changes apply to groups opened afterwards. */
export function createActivities(db: Db) {
  async function row(id: string) {
    const [a] = await db.select().from(groupActivities).where(eq(groupActivities.id, id));
    if (!a) throw new AppError("NOT_FOUND", "No such group-buy activity.");
    return a;
  }
  async function skuPrice(productId: string, skuId?: string) {
    const [sku] = await db
      .select({ id: skus.id, priceFen: skus.priceFen })
      .from(skus)
      .where(and(eq(skus.productId, productId), skuId ? eq(skus.id, skuId) : undefined))
      .orderBy(asc(skus.priceFen))
      .limit(1);
    if (!sku) throw new AppError("NOT_FOUND", skuId ? "No such SKU of this product." : "The product has no SKU.");
    return sku;
  }
  const checkPrice = (groupPriceFen: number, skuPriceFen: number) => {
    if (groupPriceFen > skuPriceFen) throw new AppError("INVALID_PARAMS", "The group price is above the SKU's price.", { field: "groupPriceFen" });
  };

  return {
    get: async (id: string) => view(await row(id)),
    async list(q: { productId?: string; streamId?: string; status?: ActivityRow["status"] }) {
      const rows = await db
        .select()
        .from(groupActivities)
        .where(and(q.productId ? eq(groupActivities.productId, q.productId) : undefined, q.streamId ? eq(groupActivities.streamId, q.streamId) : undefined, q.status ? eq(groupActivities.status, q.status) : undefined))
        .orderBy(desc(groupActivities.createdAt))
        .limit(200);
      return rows.map(view);
    },
    async create(admin: Identity, input: ActivityInput) {
      const sku = await skuPrice(input.productId, input.skuId);
      checkPrice(input.groupPriceFen, sku.priceFen);
      if (input.streamId) {
        const [s] = await db.select({ id: liveStreams.id }).from(liveStreams).where(eq(liveStreams.id, input.streamId));
        if (!s) throw new AppError("STREAM_NOT_FOUND");
        await requireAttached(db, input.streamId, input.productId, "be group-sold");
      }
      const [a] = await db
        .insert(groupActivities)
        .values({ id: randomUUID(), ...input, skuId: sku.id, streamId: input.streamId ?? null, createdBy: admin.userId })
        .returning();
      return view(a!);
    },
    async update(id: string, patch: ActivityPatch) {
      const before = await row(id);
      if (patch.groupPriceFen !== undefined) checkPrice(patch.groupPriceFen, (await skuPrice(before.productId, before.skuId)).priceFen);
      if (Object.keys(patch).length === 0) return view(before);
      const [a] = await db.update(groupActivities).set(patch).where(eq(groupActivities.id, id)).returning();
      return view(a!);
    },
    /** No new groups; open ones run to their end. */
    async end(id: string) {
      await row(id);
      const [a] = await db.update(groupActivities).set({ status: "ended" }).where(eq(groupActivities.id, id)).returning();
      return view(a!);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
