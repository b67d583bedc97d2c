import { eq } from "drizzle-orm";
import type { Logger } from "../log.js";
import type { Db } from "./client.js";
import { categories, groupActivities, liveStreams, products, skus, streamProducts, users } from "./schema.js";
import { createSession } from "./users.repo.js";

const DEMO_CATEGORIES = [
  { id: "demo-tea-cat", name: "Tea", sort: 1 },
  { id: "demo-home-cat", name: "Home", sort: 2 },
];
const DEMO_PRODUCTS = [
  { id: "demo-tea", sn: "DEMO-0001", name: "West Lake Longjing tea, 250 g", categoryId: "demo-tea-cat" },
  { id: "demo-mug", sn: "DEMO-0002", name: "Celadon mug", categoryId: "demo-home-cat" },
  { id: "demo-fan", sn: "DEMO-0003", name: "Silk folding fan", categoryId: "demo-home-cat" },
];
const DEMO_SKUS: { id: string; productId: string; specs: Record<string, string>; priceFen: number; stock: number }[] = [
  { id: "demo-tea-250", productId: "demo-tea", specs: { weight: "250 g" }, priceFen: 12800, stock: 500 },
  { id: "demo-tea-500", productId: "demo-tea", specs: { weight: "500 g" }, priceFen: 23800, stock: 200 },
  { id: "demo-mug-1", productId: "demo-mug", specs: { color: "celadon" }, priceFen: 5900, stock: 300 },
  { id: "demo-fan-1", productId: "demo-fan", specs: {}, priceFen: 3900, stock: 1000 },
];

/**
 * A host, a viewer, a live room `demo`, two categories, three products with SKUs and a group-buy
 * activity for the tea, created once
 * (safe to run every start).
 * Fresh session tokens are issued at each run and logged; none is stored in the repository.
 */
export async function seedDemoData(db: Db, log: Logger) {
  await db
    .insert(users)
    .values([
      { id: "demo-host", nickname: "Demo Host" },
      { id: "demo-viewer", nickname: "Demo Viewer" },
      { id: "demo-admin", nickname: "Demo Admin", role: "admin" },
    ])
    .onConflictDoNothing();
  await db.insert(categories).values(DEMO_CATEGORIES).onConflictDoNothing();
  await db.insert(products).values(DEMO_PRODUCTS).onConflictDoNothing();
  await db.insert(skus).values(DEMO_SKUS).onConflictDoNothing();
  await db.insert(liveStreams).values({ id: "demo", hostUserId: "demo-host", title: "Demo live room" }).onConflictDoNothing();
  await db
    .insert(streamProducts)
    .values(DEMO_PRODUCTS.map((p, i) => ({ streamId: "demo", productId: p.id, position: i })))
    .onConflictDoNothing();
  // A group buy in the room: three people, 69 yuan instead of 128, within a day.
  await db
    .insert(groupActivities)
    .values({ id: "demo-tea-group", productId: "demo-tea", skuId: "demo-tea-250", streamId: "demo", groupSize: 3, groupPriceFen: 6900, windowSec: 24 * 3600, createdBy: "demo-admin" })
    .onConflictDoNothing();
  const [stream] = await db.select().from(liveStreams).where(eq(liveStreams.id, "demo"));
  const host = await createSession(db, "demo-host", 7 * 24 * 3600);
  const viewer = await createSession(db, "demo-viewer", 7 * 24 * 3600);
  const admin = await createSession(db, "demo-admin", 7 * 24 * 3600);
  log.info(
    {
      streamId: stream?.id,
      hostToken: host.token,
      viewerToken: viewer.token,
      adminToken: admin.token,
      viewerUrl: `/live-stream/demo/ws?token=${viewer.token}`,
      products: DEMO_PRODUCTS.map((p) => p.id),
      groupActivity: "demo-tea-group",
    },
    "demo data ready",
  );
}
